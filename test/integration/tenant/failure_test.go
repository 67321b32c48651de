package tenant

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestFailuresExitNonZeroWithAMessage(t *testing.T) {
	unreachable := filepath.Join(t.TempDir(), "unreachable.kubeconfig")
	kc := clientcmdapi.NewConfig()
	// Port 1 on loopback: nothing listens there, so the connection is refused at once.
	kc.Clusters["gone"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1", InsecureSkipTLSVerify: true}
	kc.AuthInfos["gone"] = &clientcmdapi.AuthInfo{Token: "none"}
	kc.Contexts["gone"] = &clientcmdapi.Context{Cluster: "gone", AuthInfo: "gone"}
	kc.CurrentContext = "gone"
	if err := clientcmd.WriteToFile(*kc, unreachable); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		kubeconfig string
		args       []string
		want       string
	}{
		{"negative minimum", cluster.Kubeconfig, []string{"tenant", "add", "olga", "--min", "-1"}, "--min: Invalid value: -1: must be 0 or more"},
		{"ceiling below the minimum", cluster.Kubeconfig, []string{"tenant", "add", "olga", "--min", "5", "--max", "3"}, "--max: Invalid value: 3"},
		{"missing minimum", cluster.Kubeconfig, []string{"tenant", "add", "olga"}, `required flag(s) "min" not set`},
		{"invalid name", cluster.Kubeconfig, []string{"tenant", "add", "Olga", "--min", "1"}, `NAME: Invalid value: "Olga"`},
		{"unknown tenant", cluster.Kubeconfig, []string{"tenant", "remove", "nobody"}, `unknown tenant "nobody"`},
		{"unknown output format", cluster.Kubeconfig, []string{"status", "-o", "html"}, `invalid -o/--output "html"`},
		{"unknown dry run", cluster.Kubeconfig, []string{"tenant", "remove", "olga", "--dry-run=maybe"}, `--dry-run: Unsupported value: "maybe"`},
		{"kubeconfig of an unknown tenant", cluster.Kubeconfig, []string{"tenant", "kubeconfig", "nobody", "--kubeconfig-out", filepath.Join(t.TempDir(), "k")}, `unknown tenant "nobody"`},
		{"unreachable API server on add", unreachable, []string{"tenant", "add", "olga", "--min", "1"}, "cannot reach the Kubernetes API server at https://127.0.0.1:1"},
		{"unreachable API server on remove", unreachable, []string{"tenant", "remove", "olga"}, "cannot reach the Kubernetes API server at https://127.0.0.1:1"},
		{"unreachable API server on status", unreachable, []string{"status"}, "cannot reach the Kubernetes API server at https://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := kubectlFarmWith(t, tt.kubeconfig, tt.args...)
			if r.ExitCode == 0 {
				t.Errorf("kubectl farm %v exited 0, want non-zero; stdout:\n%s", tt.args, r.Stdout)
			}
			if !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("kubectl farm %v: stderr %q lacks %q", tt.args, r.Stderr, tt.want)
			}
		})
	}
	// None of the refused adds may have left anything.
	assertGone(t, "olga")
}
