package tenant

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Namespace returns the namespace of an existing tenant, recorded on its ClusterRoleBinding, so
// that commands about a tenant need only its name. It returns ErrNotFound for a tenant tenant add
// never made.
func Namespace(ctx context.Context, c Cluster, name string) (string, error) {
	crb, err := c.Dynamic.Resource(clusterRoleBindingsResource).Get(ctx, ClusterRoleBindingName(name), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("%w: no clusterrolebinding %s", ErrNotFound, ClusterRoleBindingName(name))
	}
	if err != nil {
		return "", fmt.Errorf("reading clusterrolebinding %s: %w", ClusterRoleBindingName(name), err)
	}
	ns := crb.GetAnnotations()[AnnotationNamespace]
	if crb.GetLabels()[LabelTenant] != name || ns == "" {
		return "", fmt.Errorf("clusterrolebinding %s was not made by kubectl farm for tenant %q (label %s or annotation %s missing)",
			crb.GetName(), name, LabelTenant, AnnotationNamespace)
	}
	return ns, nil
}
