package harness

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SyncQuota plays kube-controller-manager's resource quota controller, which no test runs, for
// a quota just created: its status gets the spec's limits with nothing used. Quota admission
// enforces only limits in a quota's status, and counts what it admits from there on.
func (cp *ControlPlane) SyncQuota(ctx context.Context, namespace, name string) error {
	q, err := cp.Clientset.CoreV1().ResourceQuotas(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	q.Status.Hard = q.Spec.Hard.DeepCopy()
	q.Status.Used = corev1.ResourceList{}
	for r := range q.Spec.Hard {
		q.Status.Used[r] = resource.MustParse("0")
	}
	_, err = cp.Clientset.CoreV1().ResourceQuotas(namespace).UpdateStatus(ctx, q, metav1.UpdateOptions{})
	return err
}
