package buildinfo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/version"
	"k8s.io/component-base/version/verflag"
)

func TestPrintVersionIfRequested(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantDone bool
		want     string
	}{
		{name: "no flag", args: nil},
		{name: "--version", args: []string{"--version"}, wantDone: true, want: "farm-test " + Version() + "\n"},
		{name: "--version=true", args: []string{"--version=true"}, wantDone: true, want: "farm-test " + Version() + "\n"},
		{name: "--version=false", args: []string{"--version=false"}},
		{name: "--version=raw", args: []string{"--version=raw"}, wantDone: true, want: "version.Info{"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("farm-test", pflag.ContinueOnError)
			// verflag's flag is one global value, shared by every flag set it is added to.
			verflag.AddFlags(fs)
			if err := fs.Set(VersionFlag, "false"); err != nil {
				t.Fatal(err)
			}
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			done, err := PrintVersionIfRequested(&out, Line("farm-test"), fs)
			if err != nil {
				t.Fatal(err)
			}
			if done != tc.wantDone {
				t.Errorf("done = %t, want %t", done, tc.wantDone)
			}
			if tc.want == "" && out.Len() > 0 || !strings.HasPrefix(out.String(), tc.want) {
				t.Errorf("printed %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestBuildInfoMetric(t *testing.T) {
	info := version.Get()
	wantLabels := map[string]string{"git_version": Version(), "git_commit": info.GitCommit, "go_version": info.GoVersion}
	tests := []struct {
		name     string
		gatherer func(t *testing.T) prometheus.Gatherer
	}{
		{name: "legacy registry (farm-scheduler)", gatherer: func(*testing.T) prometheus.Gatherer {
			RegisterLegacy()
			RegisterLegacy() // a second call must not panic on a duplicate registration
			return legacyregistry.DefaultGatherer
		}},
		{name: "Prometheus registry (farm-controller)", gatherer: func(t *testing.T) prometheus.Gatherer {
			r := prometheus.NewRegistry()
			if err := Register(r); err != nil {
				t.Fatal(err)
			}
			return r
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			families, err := tc.gatherer(t).Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range families {
				if f.GetName() != metricName {
					continue
				}
				if len(f.GetMetric()) != 1 {
					t.Fatalf("%s has %d series, want 1", metricName, len(f.GetMetric()))
				}
				m := f.GetMetric()[0]
				got := map[string]string{}
				for _, l := range m.GetLabel() {
					got[l.GetName()] = l.GetValue()
				}
				if diff := cmp.Diff(wantLabels, got); diff != "" {
					t.Errorf("labels (-want +got):\n%s", diff)
				}
				if v := m.GetGauge().GetValue(); v != 1 {
					t.Errorf("value %v, want 1", v)
				}
				return
			}
			t.Fatalf("no %s among the gathered metrics", metricName)
		})
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		name, stamped, want string
	}{
		{name: "stamped by the Makefile", stamped: "v0.2.0-3+0a1b2c3", want: "v0.2.0-3+0a1b2c3"},
		{name: "unstamped: component-base's", stamped: "", want: version.Get().GitVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func(v string) { farmVersion = v }(farmVersion)
			farmVersion = tc.stamped
			if got := Version(); got != tc.want {
				t.Errorf("Version() = %q, want %q", got, tc.want)
			}
		})
	}
}
