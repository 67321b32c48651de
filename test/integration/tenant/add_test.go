package tenant

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// tenantObjects reads every object tenant add makes for a tenant named name in its own
// namespace and returns their resource versions by kind/name; a missing object fails the test.
func tenantObjects(t *testing.T, name string) map[string]string {
	t.Helper()
	ctx, cs := t.Context(), cluster.Clientset
	versions := map[string]string{}
	record := func(ref string, obj metav1.Object, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if got := obj.GetLabels()["farmcontroller.toinfn.it/tenant"]; got != name && ref != "clusterrole/farm-tenant-cluster-reader" {
			t.Errorf("%s is labelled tenant %q, want %q", ref, got, name)
		}
		versions[ref] = obj.GetResourceVersion()
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	record("namespace/"+name, ns, err)
	sa, err := cs.CoreV1().ServiceAccounts(name).Get(ctx, name, metav1.GetOptions{})
	record("serviceaccount/"+name, sa, err)
	role, err := cs.RbacV1().Roles(name).Get(ctx, name, metav1.GetOptions{})
	record("role/"+name, role, err)
	rb, err := cs.RbacV1().RoleBindings(name).Get(ctx, name, metav1.GetOptions{})
	record("rolebinding/"+name, rb, err)
	cr, err := cs.RbacV1().ClusterRoles().Get(ctx, "farm-tenant-cluster-reader", metav1.GetOptions{})
	record("clusterrole/farm-tenant-cluster-reader", cr, err)
	crb, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "farm-tenant:"+name, metav1.GetOptions{})
	record("clusterrolebinding/farm-tenant:"+name, crb, err)
	svc, err := cs.CoreV1().Services(name).Get(ctx, "spark-driver", metav1.GetOptions{})
	record("service/spark-driver", svc, err)
	farm := &farmv1alpha1.Farm{}
	err = cluster.Client.Get(ctx, types.NamespacedName{Namespace: name, Name: name}, farm)
	record("farm/"+name, farm, err)
	return versions
}

func TestAddCreatesTheTenantAndASecondRunChangesNothing(t *testing.T) {
	ctx := t.Context()
	kubeconfig := filepath.Join(t.TempDir(), "alice.kubeconfig")
	args := []string{"tenant", "add", "alice", "--min", "3", "--max", "6", "--kubeconfig-out", kubeconfig}
	out := mustKubectlFarm(t, args...)
	for _, want := range []string{"namespace/alice created", "serviceaccount/alice created", "role.rbac.authorization.k8s.io/alice created",
		"rolebinding.rbac.authorization.k8s.io/alice created", "clusterrolebinding.rbac.authorization.k8s.io/farm-tenant:alice created",
		"service/spark-driver created", "farm.farmcontroller.toinfn.it/alice created", "kubeconfig for tenant alice written to " + kubeconfig} {
		if !strings.Contains(out, want) {
			t.Errorf("first tenant add output lacks %q:\n%s", want, out)
		}
	}
	first := tenantObjects(t, "alice")

	farm := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: "alice", Name: "alice"}, farm); err != nil {
		t.Fatal(err)
	}
	wantSpec := farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 3, MaxExecutors: 6}
	if diff := cmp.Diff(wantSpec, farm.Spec); diff != "" {
		t.Errorf("Farm spec (-want +got):\n%s", diff)
	}
	svc, err := cluster.Clientset.CoreV1().Services("alice").Get(ctx, "spark-driver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || svc.Spec.Selector["spark-role"] != "driver" {
		t.Errorf("driver Service: clusterIP %q, selector %v; want headless, selecting spark-role=driver", svc.Spec.ClusterIP, svc.Spec.Selector)
	}
	for _, r := range farm.ManagedFields {
		if r.Manager != "kubectl-farm" && r.Operation == metav1.ManagedFieldsOperationApply {
			t.Errorf("Farm has fields applied by %q, want only kubectl-farm", r.Manager)
		}
	}

	out = mustKubectlFarm(t, args...)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(line, " unchanged") && !strings.HasPrefix(line, "kubeconfig for tenant alice") {
			t.Errorf("second tenant add reported a change: %q", line)
		}
	}
	if diff := cmp.Diff(first, tenantObjects(t, "alice")); diff != "" {
		t.Errorf("second tenant add changed resource versions (-first +second):\n%s", diff)
	}
}

func TestDryRunPrintsTheObjectsAndTouchesNothing(t *testing.T) {
	out := mustKubectlFarm(t, "tenant", "add", "dora", "--min", "2", "--dry-run")
	for _, want := range []string{"kind: Namespace", "kind: ServiceAccount", "kind: Role\n", "kind: RoleBinding", "kind: ClusterRole\n",
		"kind: ClusterRoleBinding", "kind: Service\n", "kind: Farm", "minExecutors: 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if _, err := cluster.Clientset.CoreV1().Namespaces().Get(t.Context(), "dora", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dry run: namespace dora: got err %v, want NotFound", err)
	}
	if _, err := cluster.Clientset.RbacV1().ClusterRoleBindings().Get(t.Context(), "farm-tenant:dora", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dry run: clusterrolebinding farm-tenant:dora: got err %v, want NotFound", err)
	}
}

func TestAddIntoAnExistingNamespaceKeepsItOnRemove(t *testing.T) {
	ctx := t.Context()
	if err := cluster.CreateNamespace(ctx, "shared-spark"); err != nil {
		t.Fatal(err)
	}
	out := mustKubectlFarm(t, "tenant", "add", "erin", "--min", "1", "-n", "shared-spark", "--farm-name", "jupyter-erin")
	if !strings.Contains(out, "namespace/shared-spark kept") {
		t.Errorf("tenant add into an existing namespace: output lacks %q:\n%s", "namespace/shared-spark kept", out)
	}
	farm := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: "shared-spark", Name: "jupyter-erin"}, farm); err != nil {
		t.Fatalf("Farm --farm-name jupyter-erin in -n shared-spark: %v", err)
	}
	mustKubectlFarm(t, "tenant", "remove", "erin")
	ns, err := cluster.Clientset.CoreV1().Namespaces().Get(ctx, "shared-spark", metav1.GetOptions{})
	if err != nil || ns.DeletionTimestamp != nil {
		t.Errorf("namespace shared-spark, which tenant add did not create, after remove: err %v, deleting %v", err, ns.GetDeletionTimestamp())
	}
	if _, err := cluster.Clientset.CoreV1().ServiceAccounts("shared-spark").Get(ctx, "erin", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("serviceaccount erin after remove: got err %v, want NotFound", err)
	}
}

func TestAddRefusesAnotherTenantsNamespace(t *testing.T) {
	mustKubectlFarm(t, "tenant", "add", "frank", "--min", "1")
	r := kubectlFarm(t, "tenant", "add", "gina", "--min", "1", "-n", "frank")
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, `belongs to tenant "frank"`) {
		t.Errorf("tenant add into another tenant's namespace: exit %d, stderr %q; want non-zero and %q", r.ExitCode, r.Stderr, `belongs to tenant "frank"`)
	}
	if _, err := cluster.Clientset.CoreV1().ServiceAccounts("frank").Get(t.Context(), "gina", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("refused tenant add left serviceaccount gina: err %v", err)
	}
}
