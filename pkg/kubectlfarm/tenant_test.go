package kubectlfarm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/component-base/version"
	"sigs.k8s.io/yaml"

	"github.com/toinfn/farm/pkg/tenant"
)

// run executes kubectl farm with args and no reachable cluster: everything tested here must be
// decided before the API server is contacted.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	// A kubeconfig naming a server nobody listens on: a test that reaches it fails loudly.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, kubeconfig, "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"+
		"contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\ncurrent-context: c\n")
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestAddFlagValidation(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		// want are substrings of the error; none means the flags are valid.
		want []string
	}{
		{"valid", []string{"alice", "--min", "3"}, nil},
		{"valid with everything", []string{"alice", "--min", "3", "--max", "9", "--scaledown-after-n-triggers", "5", "-n", "spark",
			"--farm-name", "jupyter-alice", "--label-key", "app", "--label-value", "worker", "--driver-selector", "app=driver,team=a",
			"--kubeconfig-out", filepath.Join(dir, "alice"), "--token-duration", "1h"}, nil},
		{"negative minimum", []string{"alice", "--min", "-1"}, []string{"--min: Invalid value: -1: must be 0 or more"}},
		{"missing minimum", []string{"alice"}, []string{`required flag(s) "min" not set`}},
		{"minimum not a number", []string{"alice", "--min", "many"}, []string{`invalid argument "many" for "--min"`}},
		{"ceiling below minimum", []string{"alice", "--min", "5", "--max", "2"}, []string{"--max: Invalid value: 2: must be 0 (no ceiling) or at least the minimum, 5"}},
		{"negative hysteresis", []string{"alice", "--min", "1", "--scaledown-after-n-triggers", "-2"}, []string{"--scaledown-after-n-triggers: Invalid value: -2"}},
		{"bad name", []string{"Alice", "--min", "1"}, []string{`NAME: Invalid value: "Alice"`}},
		{"bad namespace", []string{"alice", "--min", "1", "-n", "a_b"}, []string{`--namespace: Invalid value: "a_b"`}},
		{"bad label key", []string{"alice", "--min", "1", "--label-key", "a b"}, []string{`--label-key: Invalid value: "a b"`}},
		{"bad driver selector", []string{"alice", "--min", "1", "--driver-selector", "driver"}, []string{`--driver-selector: Invalid value: "driver"`}},
		{"short token", []string{"alice", "--min", "1", "--token-duration", "1m"}, []string{"--token-duration: Invalid value: \"1m0s\": must be at least 10m0s"}},
		{"kubeconfig in a missing directory", []string{"alice", "--min", "1", "--kubeconfig-out", filepath.Join(dir, "no", "such")},
			[]string{"--kubeconfig-out", "its directory does not exist"}},
		{"several errors at once", []string{"alice", "--min", "-1", "--max", "-1"}, []string{"--min: Invalid value: -1", "--max: Invalid value: -1"}},
		{"no name", []string{"--min", "1"}, []string{"needs exactly one argument, the tenant's NAME"}},
		{"a system namespace by NAME", []string{"kube-system", "--min", "1"}, []string{"NAME: Forbidden: namespace kube-system is the cluster's own"}},
		{"Farm's own namespace", []string{"alice", "--min", "1", "-n", "farm-system"}, []string{"--namespace: Forbidden: namespace farm-system is where Farm runs"}},
		{"Farm installed elsewhere", []string{"alice", "--min", "1", "-n", "farm-system", "--farm-namespace", "farm"}, nil},
		{"minimum above the bound", []string{"alice", "--min", "1000001"}, []string{"--min: Invalid value: 1000001: must be at most 1000000"}},
		{"restricted namespace and an allowance", []string{"alice", "--min", "1", "--pod-security", "restricted",
			"--non-executor-cpu", "500m", "--non-executor-memory", "2Gi", "--non-executor-pods", "2", "--executor-priority-class", "spark-executor"}, nil},
		{"unknown pod security level", []string{"alice", "--min", "1", "--pod-security", "strict"},
			[]string{`--pod-security: Unsupported value: "strict": supported values: "privileged", "baseline", "restricted"`}},
		{"cpu not a quantity", []string{"alice", "--min", "1", "--non-executor-cpu", "two"}, []string{`--non-executor-cpu: Invalid value: "two": must be a quantity`}},
		{"negative memory", []string{"alice", "--min", "1", "--non-executor-memory", "-1Gi"}, []string{`--non-executor-memory: Invalid value: "-1Gi": must be 0 or more`}},
		{"negative pods", []string{"alice", "--min", "1", "--non-executor-pods", "-1"}, []string{"--non-executor-pods: Invalid value: -1: must be 0 or more"}},
		{"bad priority class", []string{"alice", "--min", "1", "--executor-priority-class", "Farm"}, []string{`--executor-priority-class: Invalid value: "Farm"`}},
		{"spark settings", []string{"alice", "--min", "1", "--spark-conf-out", filepath.Join(dir, "spark-defaults.conf")}, nil},
		{"spark settings in a missing directory", []string{"alice", "--min", "1", "--spark-conf-out", filepath.Join(dir, "no", "such")},
			[]string{"--spark-conf-out", "its directory does not exist"}},
		{"spark settings for a label Spark sets otherwise", []string{"alice", "--min", "1", "--label-value", "worker", "--spark-conf-out", filepath.Join(dir, "s")},
			[]string{"--spark-conf-out", "Spark labels its executors spark-role=executor"}},
		{"unknown dry run", []string{"alice", "--min", "1", "--dry-run=maybe"}, []string{`--dry-run: Unsupported value: "maybe": supported values: "none", "client", "server"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// --dry-run: a valid tenant is printed, never applied.
			_, _, err := run(t, append([]string{"tenant", "add", "--dry-run"}, tt.args...)...)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("got err %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDryRunPrintsEveryObject(t *testing.T) {
	out, stderr, err := run(t, "tenant", "add", "alice", "--min", "3", "--max", "6", "-n", "spark-alice", "--dry-run", "--kubeconfig-out", filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, doc := range strings.Split(out, "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("dry run output is not YAML documents: %v\n%s", err, doc)
		}
		kinds = append(kinds, u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName())
		if u.GetKind() == "Farm" {
			spec, _, _ := unstructured.NestedMap(u.Object, "spec")
			want := map[string]any{"labelKey": "spark-role", "labelValue": "executor", "minExecutors": float64(3), "maxExecutors": float64(6)}
			if diff := cmp.Diff(want, spec); diff != "" {
				t.Errorf("Farm spec (-want +got):\n%s", diff)
			}
		}
	}
	want := []string{"Namespace//spark-alice", "ResourceQuota/spark-alice/farm-non-executors", "ServiceAccount/spark-alice/alice", "Role/spark-alice/alice", "RoleBinding/spark-alice/alice",
		"ClusterRole//farm-tenant-cluster-reader", "ClusterRoleBinding//farm-tenant:alice", "Service/spark-alice/spark-driver", "Farm/spark-alice/alice"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if !strings.Contains(stderr, "no token requested") {
		t.Errorf("dry run with --kubeconfig-out: stderr %q does not say the kubeconfig was not written", stderr)
	}
}

func TestDryRunValues(t *testing.T) {
	tests := []struct {
		args []string
		// wantYAML: a client dry run prints the objects without contacting the API server; the
		// others reach it, here an unreachable one.
		wantYAML bool
	}{
		{[]string{"--dry-run"}, true},
		{[]string{"--dry-run=client"}, true},
		{[]string{"--dry-run=server"}, false},
		{[]string{"--dry-run=none"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"flags"}, tt.args...), " "), func(t *testing.T) {
			out, _, err := run(t, append([]string{"tenant", "add", "alice", "--min", "1"}, tt.args...)...)
			if tt.wantYAML {
				if err != nil || !strings.Contains(out, "kind: Farm") {
					t.Errorf("got err %v and output %q, want the objects as YAML", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "cannot reach the Kubernetes API server") {
				t.Errorf("got err %v, want the API server contacted", err)
			}
		})
	}
}

func TestStatusRefusesAnUnknownFormat(t *testing.T) {
	_, _, err := run(t, "status", "-o", "html")
	if err == nil || !strings.Contains(err.Error(), `invalid -o/--output "html": want wide or one of`) || !strings.Contains(err.Error(), "jsonpath") {
		t.Errorf("got err %v, want the format named and the allowed ones listed", err)
	}
}

func TestVersionNeedsNoCluster(t *testing.T) {
	for _, format := range []string{"", "json", "yaml"} {
		out, _, err := run(t, "version", "-o", format)
		if err != nil {
			t.Fatalf("version -o %q: %v", format, err)
		}
		if !strings.Contains(out, version.Get().GitVersion) {
			t.Errorf("version -o %q: %q lacks the version %s", format, out, version.Get().GitVersion)
		}
	}
	if _, _, err := run(t, "version", "-o", "table"); err == nil || !strings.Contains(err.Error(), `invalid -o/--output "table"`) {
		t.Errorf("version -o table: got err %v, want the format named", err)
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_kubectl-farm", "zsh": "#compdef kubectl-farm", "fish": "complete -c kubectl-farm"} {
		out, _, err := run(t, "completion", shell)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("completion %s: err %v, output lacks %q", shell, err, want)
		}
	}
	if _, _, err := run(t, "completion", "tcsh"); err == nil || !strings.Contains(err.Error(), `"tcsh"`) {
		t.Errorf("completion tcsh: got err %v, want the shell named", err)
	}
	out, _, err := run(t, "__complete", "tenant", "")
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for _, line := range strings.Split(out, "\n") {
		if word, _, ok := strings.Cut(line, "\t"); ok {
			words = append(words, word)
		}
	}
	if diff := cmp.Diff([]string{"add", "kubeconfig", "remove"}, words); diff != "" {
		t.Errorf("__complete tenant (-want +got):\n%s\n%s", diff, out)
	}
}

func TestUnreachableAPIServerIsNamed(t *testing.T) {
	for _, args := range [][]string{{"status"}, {"status", "-o", "json"}, {"tenant", "remove", "alice"}, {"tenant", "add", "alice", "--min", "1"},
		{"tenant", "kubeconfig", "alice", "--kubeconfig-out", filepath.Join(t.TempDir(), "k")}} {
		_, _, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), "cannot reach the Kubernetes API server at https://127.0.0.1:1") {
			t.Errorf("kubectl farm %v: got err %v, want the unreachable server named", args, err)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A tenant's kubeconfig holds a bearer token: it is written 0600, also over a file that was
// world-readable.
func TestKubeconfigIsOwnerOnly(t *testing.T) {
	kc := tenant.Kubeconfig(tenant.Server{URL: "https://api.example:6443"}, tenant.Spec{Name: "alice", Namespace: "alice"}, tenant.Token{Value: "secret"})
	for name, existing := range map[string]bool{"new file": false, "over a world-readable file": true} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "alice.kubeconfig")
			if existing {
				if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeOwnerOnly(kc, path); err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if mode := info.Mode().Perm(); mode != 0o600 {
				t.Errorf("mode %o, want 600", mode)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), "secret") {
				t.Errorf("the kubeconfig lacks the token:\n%s", data)
			}
		})
	}
}
