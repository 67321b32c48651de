package tenant

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	// The tenant's rights are the point: the API server must authorize as a real one does.
	os.Exit(harness.RunTests(m, &cluster))
}

// result is one run of kubectl-farm.
type result struct {
	stdout, stderr string
	exitCode       int
}

// kubectlFarm runs the built kubectl-farm with the administrator's kubeconfig, unless args
// name another.
func kubectlFarm(t *testing.T, args ...string) result {
	t.Helper()
	return kubectlFarmWith(t, cluster.Kubeconfig, args...)
}

func kubectlFarmWith(t *testing.T, kubeconfig string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), harness.Binary(t, "kubectl-farm"), append([]string{"--kubeconfig=" + kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running kubectl-farm %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), exitCode: cmd.ProcessState.ExitCode()}
}

// mustKubectlFarm runs kubectl-farm and fails the test unless it succeeds.
func mustKubectlFarm(t *testing.T, args ...string) string {
	t.Helper()
	r := kubectlFarm(t, args...)
	if r.exitCode != 0 {
		t.Fatalf("kubectl-farm %v exited %d\nstdout:\n%s\nstderr:\n%s", args, r.exitCode, r.stdout, r.stderr)
	}
	return r.stdout
}

// tenantClient is a client with the credentials of a kubeconfig written by tenant add.
func tenantClient(t *testing.T, path string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("loading the tenant's kubeconfig: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
