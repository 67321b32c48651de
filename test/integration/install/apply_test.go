package install

import (
	"context"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
)

// apply applies objs server-side, as `kubectl apply --server-side` does, and returns the errors
// by object.
func apply(ctx context.Context, t *testing.T, objs []*unstructured.Unstructured) map[string]error {
	t.Helper()
	return cluster.Apply(ctx, t, objs)
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
