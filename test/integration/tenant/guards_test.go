package tenant

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/toinfn/farm/test/harness"
)

// farmNamespace is where the chart is rendered for: its policies name farm-controller's service
// account there.
const farmNamespace = "farm-system"

var guardsOnce sync.Once

// installGuards applies the chart's admission policies and the executors' PriorityClass once
// for the package: what stands between a tenant and the guarantee besides RBAC.
func installGuards(t *testing.T) {
	t.Helper()
	guardsOnce.Do(func() { cluster.InstallTenantGuards(t.Context(), t, farmNamespace) })
}

// newTenant adds a tenant with tenant add (and args) and returns a client with the credentials
// of the kubeconfig it wrote, once the tenant's bindings are in force.
func newTenant(t *testing.T, name string, args ...string) (kubernetes.Interface, *rest.Config) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	mustKubectlFarm(t, append([]string{"tenant", "add", name, "--min", "1", "--kubeconfig-out", path}, args...)...)
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("loading the tenant's kubeconfig: %v", err)
	}
	cs := tenantClient(t, path)
	// Bindings reach the API server's authorizer through its informers.
	err = wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: name}},
		}, metav1.CreateOptions{})
		return err == nil && r.Status.Allowed, nil
	})
	if err != nil {
		t.Fatalf("%s's bindings never allowed creating pods: %v", name, err)
	}
	return cs, cfg
}

// waitRefused polls a dry run until it is refused with want in the message: admission policies
// and quota status reach the API server's admission through informers.
func waitRefused(t *testing.T, what string, dryRun func(ctx context.Context) error, want string) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		last = dryRun(ctx)
		return apierrors.IsForbidden(last) && strings.Contains(last.Error(), want), nil
	})
	if err != nil {
		t.Fatalf("%s was never refused with %q (last: %v)", what, want, last)
	}
}

// wantRefused checks that err is a 403 whose message names every string of want.
func wantRefused(t *testing.T, err error, want ...string) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Fatalf("got %v, want 403 Forbidden", err)
	}
	for _, s := range want {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("refusal %q does not name %q", err.Error(), s)
		}
	}
}

var dryRun = metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

// pod is a pod no scheduler serves (it stays Pending), asking for cpu and memory.
func pod(namespace, name, cpu, memory string, labels map[string]string) *corev1.Pod {
	p := harness.ExecutorPod(namespace, name, "app", "tenant-test")
	p.Labels = labels
	p.Spec.SchedulerName = "tenant-test-no-scheduler"
	requests := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
	p.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: requests, Limits: requests}
	return p
}
