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

func TestStatusRefusesAnUnknownFormat(t *testing.T) {
	if _, _, err := run(t, "status", "-o", "wide"); err == nil || !strings.Contains(err.Error(), `invalid -o/--output "wide"`) {
		t.Errorf("got err %v, want the format named", err)
	}
}

func TestUnreachableAPIServerIsNamed(t *testing.T) {
	for _, args := range [][]string{{"status"}, {"tenant", "remove", "alice"}, {"tenant", "add", "alice", "--min", "1"}} {
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
