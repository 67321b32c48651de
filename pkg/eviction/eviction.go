// Package eviction is how Farm removes an executor, for the scheduler's reclaim and the
// controller's scale-down alike: mark it with quota.EvictedCondition (why, for whom), then evict it
// through the Eviction API, so PodDisruptionBudgets hold and the executor gets its own termination
// grace period (Spark decommissioning needs it). Executors are never deleted outright and never
// made to fail.
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

// Evict marks pod as evicted by Farm for reason (quota.ReasonReclaimed or
// quota.ReasonScaledDown) with message, then evicts it. A refusal by a PodDisruptionBudget comes
// back as the API's TooManyRequests error (apierrors.IsTooManyRequests).
func Evict(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, reason, message string) error {
	patch, err := json.Marshal(map[string]any{
		"status": map[string]any{
			"conditions": []corev1.PodCondition{{
				Type:               quota.EvictedCondition,
				Status:             corev1.ConditionTrue,
				Reason:             reason,
				Message:            message,
				LastTransitionTime: metav1.Now(),
			}},
		},
	})
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		if apierrors.IsNotFound(err) {
			return ErrGone
		}
		return fmt.Errorf("marking %s/%s as evicted: %w", pod.Namespace, pod.Name, err)
	}
	err = cs.PolicyV1().Evictions(pod.Namespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}},
	})
	switch {
	case err == nil:
		return nil
	case apierrors.IsNotFound(err):
		return ErrGone
	default:
		return fmt.Errorf("evicting %s/%s: %w", pod.Namespace, pod.Name, err)
	}
}
