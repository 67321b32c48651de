package tenant

import (
	"context"
	"path/filepath"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

// TestTenantCredentials exercises what a tenant can do with the kubeconfig tenant add wrote for
// it: run its own pods and read the cluster, but neither change its guarantee nor touch another
// tenant's executors.
func TestTenantCredentials(t *testing.T) {
	ctx := t.Context()
	requireRBAC(t)
	dir := t.TempDir()
	ivyConfig := filepath.Join(dir, "ivy.kubeconfig")
	mustKubectlFarm(t, "tenant", "add", "ivy", "--min", "2", "--kubeconfig-out", ivyConfig)
	mustKubectlFarm(t, "tenant", "add", "jack", "--min", "2")
	jackPod, err := cluster.Clientset.CoreV1().Pods("jack").Create(ctx, harness.ExecutorPod("jack", "exec-1", "spark-role", "executor"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// What the tenant may not create, the administrator may.
	adminSecret, err := cluster.Clientset.CoreV1().Secrets("ivy").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-credentials"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the administrator creating a Secret in the tenant's namespace: %v", err)
	}

	ivy := tenantClient(t, ivyConfig)
	waitAllowed(t, ivy, "ivy",
		authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "ivy"},
		authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"})
	cfg, err := clientcmd.BuildConfigFromFlags("", ivyConfig)
	if err != nil {
		t.Fatal(err)
	}
	ivyDynamic, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	farms := ivyDynamic.Resource(farmv1alpha1.GroupVersion.WithResource("farms"))
	farm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": farmv1alpha1.GroupVersion.String(), "kind": "Farm",
		"metadata": map[string]any{"name": "second", "namespace": "ivy"},
		"spec":     map[string]any{"labelKey": "spark-role", "labelValue": "executor", "minExecutors": int64(50)},
	}}

	tests := []struct {
		name          string
		do            func(ctx context.Context) error
		wantForbidden bool
	}{
		{"create a Farm in its own namespace", func(ctx context.Context) error {
			_, err := farms.Namespace("ivy").Create(ctx, farm, metav1.CreateOptions{})
			return err
		}, true},
		{"raise its own minimum", func(ctx context.Context) error {
			_, err := farms.Namespace("ivy").Patch(ctx, "ivy", types.MergePatchType, []byte(`{"spec":{"minExecutors":50}}`), metav1.PatchOptions{})
			return err
		}, true},
		{"delete its own Farm", func(ctx context.Context) error {
			return farms.Namespace("ivy").Delete(ctx, "ivy", metav1.DeleteOptions{})
		}, true},
		{"read its own Farm", func(ctx context.Context) error {
			_, err := farms.Namespace("ivy").Get(ctx, "ivy", metav1.GetOptions{})
			return err
		}, false},
		{"evict another tenant's executor", func(ctx context.Context) error {
			return ivy.PolicyV1().Evictions("jack").Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: "jack", Name: jackPod.Name}})
		}, true},
		{"delete another tenant's executor", func(ctx context.Context) error {
			return ivy.CoreV1().Pods("jack").Delete(ctx, jackPod.Name, metav1.DeleteOptions{})
		}, true},
		{"protect its executors from reclaim with a PodDisruptionBudget", func(ctx context.Context) error {
			pdb := &policyv1.PodDisruptionBudget{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ivy", Name: "keep-executors"},
				Spec: policyv1.PodDisruptionBudgetSpec{
					MaxUnavailable: ptr.To(intstr.FromInt32(0)),
					Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"spark-role": "executor"}},
				},
			}
			_, err := ivy.PolicyV1().PodDisruptionBudgets("ivy").Create(ctx, pdb, metav1.CreateOptions{})
			return err
		}, true},
		{"grant itself more rights", func(ctx context.Context) error {
			_, err := ivy.RbacV1().Roles("ivy").Create(ctx, roleFor("ivy"), metav1.CreateOptions{})
			return err
		}, true},
		{"create and delete its own executor", func(ctx context.Context) error {
			if _, err := ivy.CoreV1().Pods("ivy").Create(ctx, harness.ExecutorPod("ivy", "exec-1", "spark-role", "executor"), metav1.CreateOptions{}); err != nil {
				return err
			}
			return ivy.CoreV1().Pods("ivy").Delete(ctx, "exec-1", metav1.DeleteOptions{})
		}, false},
		{"create a config map", func(ctx context.Context) error {
			_, err := ivy.CoreV1().ConfigMaps("ivy").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "spark-conf"}}, metav1.CreateOptions{})
			return err
		}, false},
		// A long-lived token Secret would outlive the tenant's kubeconfig.
		{"create a secret", func(ctx context.Context) error {
			_, err := ivy.CoreV1().Secrets("ivy").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3"}}, metav1.CreateOptions{})
			return err
		}, true},
		{"read the secret the administrator made for it", func(ctx context.Context) error {
			_, err := ivy.CoreV1().Secrets("ivy").Get(ctx, adminSecret.Name, metav1.GetOptions{})
			return err
		}, false},
		{"list pods cluster-wide", func(ctx context.Context) error {
			pods, err := ivy.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
			if err == nil && !containsPod(pods.Items, "jack", jackPod.Name) {
				t.Errorf("ivy's cluster-wide pod list lacks jack/%s", jackPod.Name)
			}
			return err
		}, false},
		{"list nodes", func(ctx context.Context) error {
			_, err := ivy.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(t.Context())
			switch {
			case tt.wantForbidden && !apierrors.IsForbidden(err):
				t.Errorf("got err %v, want 403 Forbidden", err)
			case !tt.wantForbidden && err != nil:
				t.Errorf("got err %v, want allowed", err)
			}
		})
	}
	if _, err := cluster.Clientset.CoreV1().Pods("jack").Get(ctx, jackPod.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("jack's executor after ivy's attempts: %v", err)
	}
}

func containsPod(pods []corev1.Pod, namespace, name string) bool {
	for _, p := range pods {
		if p.Namespace == namespace && p.Name == name {
			return true
		}
	}
	return false
}

func roleFor(namespace string) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "more"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"farmcontroller.toinfn.it"}, Resources: []string{"farms"}, Verbs: []string{"update"}}},
	}
}

// requireRBAC fails the test at once, and says why, when the control plane does not authorize
// with RBAC: every refusal below would otherwise show up as an unexplained success.
func requireRBAC(t *testing.T) {
	t.Helper()
	sar, err := cluster.Clientset.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               "someone-without-rights",
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "delete", Resource: "nodes"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sar.Status.Allowed {
		t.Fatalf("the test control plane allows a user without any binding to delete nodes: it must run kube-apiserver with --authorization-mode=RBAC")
	}
}
