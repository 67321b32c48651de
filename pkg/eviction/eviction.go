// Package eviction is how Farm removes an executor, for the scheduler's reclaim and the
// controller's scale-down alike: evict it through the Eviction API, so PodDisruptionBudgets hold
// and the executor gets its own termination grace period (Spark decommissioning needs it), then
// mark it with quota.EvictedCondition (why, for whom). Executors are never deleted outright and
// never made to fail.
package eviction

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/toinfn/farm/pkg/quota"
)

// ErrGone is returned when the executor no longer exists: nothing left to evict.
var ErrGone = errors.New("executor already gone")

// Evict evicts pod, then marks it as evicted by Farm for reason (quota.ReasonReclaimed or
// quota.ReasonScaledDown) with message. The eviction comes first so that a refusal (a
// PodDisruptionBudget's comes back as the API's TooManyRequests error,
// apierrors.IsTooManyRequests) costs one API call and leaves nothing to undo; the mark follows
// at once, while the executor runs its grace period, for whoever sees it terminate to tell why.
func Evict(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, reason, message string) error {
	err := cs.PolicyV1().Evictions(pod.Namespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}},
	})
	switch {
	case apierrors.IsNotFound(err):
		return ErrGone
	case err != nil:
		return fmt.Errorf("evicting %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	// An executor with no grace period may be gone already: nothing left to mark.
	if err := mark(ctx, cs, pod, corev1.ConditionTrue, reason, message); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("evicted %s/%s, but marking it: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// mark sets quota.EvictedCondition on the pod through its status subresource.
func mark(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, status corev1.ConditionStatus, reason, message string) error {
	patch, err := json.Marshal(map[string]any{
		"status": map[string]any{
			"conditions": []corev1.PodCondition{{
				Type:               quota.EvictedCondition,
				Status:             status,
				Reason:             reason,
				Message:            message,
				LastTransitionTime: metav1.Now(),
			}},
		},
	})
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}
