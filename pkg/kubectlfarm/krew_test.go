package kubectlfarm

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// krewPlugin is krew's Plugin manifest (krew.googlecontainertools.github.com/v1alpha2), field
// for field, so that strict decoding refuses what krew would not know.
type krewPlugin struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
		Homepage         string `json:"homepage"`
		Platforms        []struct {
			URI      string                `json:"uri"`
			Sha256   string                `json:"sha256"`
			Selector *metav1.LabelSelector `json:"selector"`
			Files    []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
			Bin string `json:"bin"`
		} `json:"platforms"`
	} `json:"spec"`
}

const (
	krewManifest      = "../../plugins/farm.yaml"
	completionScript  = "../../plugins/" + CompletionHelper
	versionHolder     = "VERSION"
	checksumHolder    = "0000000000000000000000000000000000000000000000000000000000000000"
	krewPluginVersion = "krew.googlecontainertools.github.com/v1alpha2"
)

var (
	semver   = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	checksum = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func TestKrewManifest(t *testing.T) {
	data, err := os.ReadFile(krewManifest)
	if err != nil {
		t.Fatal(err)
	}
	var p krewPlugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatalf("%s is not a krew Plugin: %v", krewManifest, err)
	}
	if p.APIVersion != krewPluginVersion || p.Kind != "Plugin" || p.Metadata.Name != "farm" {
		t.Errorf("apiVersion %q, kind %q, name %q: want %s, Plugin, farm", p.APIVersion, p.Kind, p.Metadata.Name, krewPluginVersion)
	}
	s := p.Spec
	placeholders := s.Version == versionHolder
	if !placeholders && !semver.MatchString(s.Version) {
		t.Errorf("spec.version %q: want %s or a release tag such as v0.1.0", s.Version, versionHolder)
	}
	if s.ShortDescription == "" || s.Description == "" || !strings.HasPrefix(s.Homepage, "https://") {
		t.Errorf("shortDescription, description and an https homepage are required")
	}
	if !strings.Contains(s.Caveats, CompletionHelper) || !strings.Contains(s.Caveats, "/"+s.Version+"/") {
		t.Errorf("caveats must say how to put %s, of this version, on PATH:\n%s", CompletionHelper, s.Caveats)
	}
	if len(s.Platforms) == 0 {
		t.Fatal("no platforms")
	}
	seen := map[string]bool{}
	for i, pl := range s.Platforms {
		if pl.Selector == nil {
			t.Errorf("platform %d: no selector", i)
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pl.Selector)
		if err != nil {
			t.Errorf("platform %d: selector: %v", i, err)
		}
		if seen[sel.String()] {
			t.Errorf("platform %d: selector %s repeated", i, sel)
		}
		seen[sel.String()] = true
		if !strings.HasPrefix(pl.URI, "https://") || !strings.Contains(pl.URI, "/"+s.Version+"/") {
			t.Errorf("platform %d: uri %q: want https, with the version %s", i, pl.URI, s.Version)
		}
		if !checksum.MatchString(pl.Sha256) || (pl.Sha256 == checksumHolder) != placeholders {
			t.Errorf("platform %d: sha256 %q: want 64 hex digits, the zero placeholder exactly while the version is %s", i, pl.Sha256, versionHolder)
		}
		if pl.Bin != "kubectl-farm" {
			t.Errorf("platform %d: bin %q, want kubectl-farm", i, pl.Bin)
		}
		var from []string
		for _, f := range pl.Files {
			from = append(from, f.From)
		}
		for _, want := range []string{"kubectl-farm", CompletionHelper} {
			if !slices.Contains(from, want) {
				t.Errorf("platform %d: files %v lack %s", i, from, want)
			}
		}
	}
}

func TestCompletionHelperScript(t *testing.T) {
	info, err := os.Stat(completionScript)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s is not executable (mode %v): kubectl runs it", completionScript, info.Mode())
	}
	data, err := os.ReadFile(completionScript)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "#!/bin/sh\n") || !strings.Contains(string(data), `exec kubectl-farm __complete "$@"`) {
		t.Errorf("%s must be a sh script running kubectl-farm __complete:\n%s", completionScript, data)
	}
}
