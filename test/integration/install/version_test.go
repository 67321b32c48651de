package install

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	utilversion "k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/toinfn/farm/test/harness"
)

// stampedVersion is the version `make build` stamps into the binaries (`make version`), or fails
// the test: binaries the harness builds itself carry no version to check.
func stampedVersion(t *testing.T) string {
	t.Helper()
	if os.Getenv(harness.BinDirEnv) == "" {
		t.Fatalf("%s is unset: this test checks the version `make build` stamps; run it with `make test`, or `make build` and %s=$PWD/bin", harness.BinDirEnv, harness.BinDirEnv)
	}
	v := strings.TrimSpace(string(run(t, "make", "-s", "version")))
	// kube-scheduler's compatibility code parses component-base's version at start and panics
	// on one that is not semver.
	if _, err := utilversion.Parse(v); err != nil {
		t.Fatalf("make version printed %q, which is not a semantic version: %v", v, err)
	}
	return v
}

// kubernetesVersion is the k8s.io/kubernetes release go.mod builds kube-scheduler from.
func kubernetesVersion(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(string(run(t, "go", "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes")))
}

// run runs a command in the module root and returns its standard output.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = harness.ModuleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return out
}

// The three binaries report the version `make build` stamps, and farm-scheduler the Kubernetes
// release it is built from as its component-base version (kube-scheduler's feature gates depend
// on it).
func TestBinariesReportTheStampedVersion(t *testing.T) {
	want := stampedVersion(t)
	kube := kubernetesVersion(t)
	commit := strings.TrimSpace(string(run(t, "git", "rev-parse", "HEAD")))
	tests := []struct {
		binary string
		args   []string
		want   []string
	}{
		{binary: "farm-scheduler", args: []string{"--version"}, want: []string{"farm-scheduler " + want + " (Kubernetes " + kube + ")\n"}},
		{binary: "farm-scheduler", args: []string{"--version=raw"}, want: []string{`GitVersion:"` + kube + `"`, `GitCommit:"` + commit + `"`}},
		{binary: "farm-controller", args: []string{"--version"}, want: []string{"farm-controller " + want + "\n"}},
		{binary: "farm-controller", args: []string{"--version=raw"}, want: []string{`GitVersion:"` + want + `"`, `GitCommit:"` + commit + `"`}},
		{binary: "kubectl-farm", args: []string{"version"}, want: []string{"kubectl-farm " + want + "\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.binary+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := exec.Command(harness.Binary(t, tc.binary), tc.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("printed %q, want %q: run `make build` after changing the tree", out, w)
				}
			}
		})
	}
}

// testBuildInfo scrapes farm_build_info from both components and checks it names the stamped
// version.
func testBuildInfo(ctx context.Context, t *testing.T, token string, components ...*component) {
	want := fmt.Sprintf(`farm_build_info{git_commit=%q,git_version=%q,`, strings.TrimSpace(string(run(t, "git", "rev-parse", "HEAD"))), stampedVersion(t))
	for _, c := range components {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
				if c.process.Exited() {
					return false, fmt.Errorf("%s exited", c.name)
				}
				code, b, err := get(ctx, c.metricsURL, token)
				body = b
				return err == nil && code == http.StatusOK, nil
			})
			if err != nil {
				t.Fatalf("scraping %s: %v", c.metricsURL, err)
			}
			var series []string
			for _, line := range strings.Split(string(body), "\n") {
				if strings.HasPrefix(line, "farm_build_info{") {
					series = append(series, line)
				}
			}
			if len(series) != 1 || !strings.HasPrefix(series[0], want) || !strings.HasSuffix(series[0], "} 1") {
				t.Errorf("%s exports farm_build_info as %q, want one series starting %s and valued 1", c.name, series, want)
			}
		})
	}
}
