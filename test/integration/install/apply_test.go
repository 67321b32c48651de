package install

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// applyOrder puts namespaces first and CRDs next, as kubectl apply would need them.
func applyOrder(o *unstructured.Unstructured) int {
	switch o.GetKind() {
	case "Namespace":
		return 0
	case "CustomResourceDefinition":
		return 1
	default:
		return 2
	}
}

// apply applies objs server-side, as `kubectl apply --server-side` does, and returns the errors
// by object.
func apply(ctx context.Context, t *testing.T, objs []*unstructured.Unstructured) map[string]error {
	t.Helper()
	objects := cluster.Objects(t)
	sorted := slices.Clone(objs)
	slices.SortStableFunc(sorted, func(a, b *unstructured.Unstructured) int { return applyOrder(a) - applyOrder(b) })
	errs := map[string]error{}
	for _, o := range sorted {
		id := fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
		ri, err := objects.Resource(o, "")
		if err != nil {
			errs[id] = err
			continue
		}
		data, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "farm-install-test", Force: ptr.To(true)}); err != nil {
			errs[id] = err
		}
	}
	return errs
}

// access is one thing a user must be allowed to do.
type access = authorizationv1.ResourceAttributes

// waitAllowed waits until the API server's authorizer allows user every access: RBAC objects
// just applied reach the authorizer through its informers, and a component started before that
// would log a refusal that is not the chart's fault.
func waitAllowed(ctx context.Context, t *testing.T, user string, accesses ...access) {
	t.Helper()
	for _, a := range accesses {
		var last *authorizationv1.SubjectAccessReview
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			sar, err := cluster.Clientset.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: saGroups(), ResourceAttributes: &a},
			}, metav1.CreateOptions{})
			if err != nil {
				return false, err
			}
			last = sar
			return sar.Status.Allowed, nil
		})
		if err != nil {
			t.Fatalf("%s is not allowed to %s %s/%s %q in %q: %v (%+v)", user, a.Verb, a.Resource, a.Subresource, a.Name, a.Namespace, err, last.Status)
		}
	}
}

// saGroups returns the groups the API server gives a service account of the install namespace.
func saGroups() []string {
	return []string{"system:serviceaccounts", "system:serviceaccounts:" + installNamespace, "system:authenticated"}
}
