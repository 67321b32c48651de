package tenant

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// assertGone fails the test if any object tenant add makes for name in namespace name is still
// there. Namespaces are only ever marked for deletion here: no namespace controller runs.
func assertGone(t *testing.T, name string) {
	t.Helper()
	ctx, cs := t.Context(), cluster.Clientset
	notFound := func(ref string, err error) {
		t.Helper()
		if !apierrors.IsNotFound(err) {
			t.Errorf("%s: got err %v, want NotFound", ref, err)
		}
	}
	_, err := cs.CoreV1().ServiceAccounts(name).Get(ctx, name, metav1.GetOptions{})
	notFound("serviceaccount/"+name, err)
	_, err = cs.RbacV1().Roles(name).Get(ctx, name, metav1.GetOptions{})
	notFound("role/"+name, err)
	_, err = cs.RbacV1().RoleBindings(name).Get(ctx, name, metav1.GetOptions{})
	notFound("rolebinding/"+name, err)
	_, err = cs.RbacV1().ClusterRoleBindings().Get(ctx, "farm-tenant:"+name, metav1.GetOptions{})
	notFound("clusterrolebinding/farm-tenant:"+name, err)
	_, err = cs.CoreV1().Services(name).Get(ctx, "spark-driver", metav1.GetOptions{})
	notFound("service/spark-driver", err)
	err = cluster.Client.Get(ctx, typesName(name, name), &farmv1alpha1.Farm{})
	notFound("farm/"+name, err)
	ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err == nil && ns.DeletionTimestamp == nil {
		t.Errorf("namespace %s is neither gone nor being deleted", name)
	} else if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s: %v", name, err)
	}
}

func TestRemoveDeletesTheTenantAndRevokesItsKubeconfig(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kate.kubeconfig")
	mustKubectlFarm(t, "tenant", "add", "kate", "--min", "1", "--kubeconfig-out", kubeconfig)
	kate := tenantClient(t, kubeconfig)
	if _, err := kate.CoreV1().Pods("kate").List(t.Context(), metav1.ListOptions{}); err != nil {
		t.Fatalf("kate's kubeconfig before remove: %v", err)
	}

	out := mustKubectlFarm(t, "tenant", "remove", "kate")
	for _, want := range []string{"farm.farmcontroller.toinfn.it/kate deleted", "serviceaccount/kate deleted", "namespace/kate deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("tenant remove output lacks %q:\n%s", want, out)
		}
	}
	assertGone(t, "kate")
	if _, err := cluster.Clientset.RbacV1().ClusterRoles().Get(t.Context(), "farm-tenant-cluster-reader", metav1.GetOptions{}); err != nil {
		t.Errorf("the shared cluster reader role after removing one tenant: %v", err)
	}
	// A bound token dies with its service account, once the API server's authenticator has seen
	// the deletion (it reads service accounts through an informer).
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, last = kate.CoreV1().Pods("kate").List(ctx, metav1.ListOptions{})
		return apierrors.IsUnauthorized(last), nil
	})
	if err != nil {
		t.Errorf("kate's kubeconfig after remove: got err %v, want 401 Unauthorized", last)
	}
}

// TestFailedAddLeavesNothingBehind makes the last step of tenant add (the Farm) fail on the API
// server, as an admission policy refusing the caller would, and checks that the objects created
// before it are deleted again.
func TestFailedAddLeavesNothingBehind(t *testing.T) {
	ctx := t.Context()
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "refuse-farm-lena"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{farmv1alpha1.GroupVersion.Group}, APIVersions: []string{"*"}, Resources: []string{"farms"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{Expression: "object.metadata.name != 'lena'", Message: "farm lena is refused by policy"}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "refuse-farm-lena"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	vap := cluster.Clientset.AdmissionregistrationV1()
	if _, err := vap.ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = vap.ValidatingAdmissionPolicies().Delete(context.Background(), policy.Name, metav1.DeleteOptions{})
	})
	if _, err := vap.ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = vap.ValidatingAdmissionPolicyBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})
	// The API server loads policies asynchronously: wait until a dry-run Farm is refused.
	probe := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "lena"},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor"},
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := cluster.Client.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		return apierrors.IsInvalid(err) || apierrors.IsForbidden(err), nil
	})
	if err != nil {
		t.Fatalf("the policy never took effect: %v", err)
	}

	r := kubectlFarm(t, "tenant", "add", "lena", "--min", "1")
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "farm lena is refused by policy") {
		t.Fatalf("tenant add with a refused Farm: exit %d, stderr %q; want non-zero and the policy's message", r.ExitCode, r.Stderr)
	}
	for _, want := range []string{"serviceaccount/lena rolled back", "namespace/lena rolled back"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("failed tenant add output lacks %q:\n%s", want, r.Stdout)
		}
	}
	assertGone(t, "lena")
}
