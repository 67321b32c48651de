package tenant

import (
	"context"
	"os"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	// The tenant's rights are the point: the API server must authorize as a real one does.
	os.Exit(harness.RunTests(m, &cluster))
}

// kubectlFarm runs the built kubectl-farm with the administrator's kubeconfig.
func kubectlFarm(t *testing.T, args ...string) harness.CommandResult {
	t.Helper()
	return kubectlFarmWith(t, cluster.Kubeconfig, args...)
}

func kubectlFarmWith(t *testing.T, kubeconfig string, args ...string) harness.CommandResult {
	t.Helper()
	return harness.RunCommand(t.Context(), t, nil, "kubectl-farm", append([]string{"--kubeconfig=" + kubeconfig}, args...)...)
}

// mustKubectlFarm runs kubectl-farm and fails the test unless it succeeds.
func mustKubectlFarm(t *testing.T, args ...string) string {
	t.Helper()
	r := kubectlFarm(t, args...)
	if r.ExitCode != 0 {
		t.Fatalf("kubectl-farm %v exited %d\nstdout:\n%s\nstderr:\n%s", args, r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// kubectl runs kubectl, built at the apiserver's version, with kubeconfig.
func kubectl(t *testing.T, kubeconfig string, args ...string) harness.CommandResult {
	t.Helper()
	return harness.RunCommand(t.Context(), t, nil, "kubectl", append([]string{"--kubeconfig=" + kubeconfig}, args...)...)
}

// mustKubectl runs kubectl and fails the test unless it succeeds.
func mustKubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	r := kubectl(t, kubeconfig, args...)
	if r.ExitCode != 0 {
		t.Fatalf("kubectl %v exited %d\nstdout:\n%s\nstderr:\n%s", args, r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
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

// waitAllowed waits until c may do each of attrs. Bindings reach the API server's authorizer
// through its informers: a test of what a new tenant may do waits until its bindings are in
// force, so an allowed case cannot fail for being early.
func waitAllowed(t *testing.T, c kubernetes.Interface, who string, attrs ...authorizationv1.ResourceAttributes) {
	t.Helper()
	for _, a := range attrs {
		err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			r, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &a},
			}, metav1.CreateOptions{})
			return err == nil && r.Status.Allowed, nil
		})
		if err != nil {
			t.Fatalf("%s's bindings never allowed %s %s: %v", who, a.Verb, a.Resource, err)
		}
	}
}
