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

// ReasonRefused is the reason of an EvictedCondition turned False because the eviction was
// refused (by a PodDisruptionBudget, say): the executor keeps running and is not leaving.
const ReasonRefused = "EvictionRefused"

// Evict marks pod as evicted by Farm for reason (quota.ReasonReclaimed or
// quota.ReasonScaledDown) with message, then evicts it. The mark comes first so that whoever sees
// the executor terminate can tell why; if the eviction is refused, the mark is turned False so
// the executor is not reported as leaving. A refusal by a PodDisruptionBudget comes back as the
// API's TooManyRequests error (apierrors.IsTooManyRequests).
func Evict(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, reason, message string) error {
	if err := mark(ctx, cs, pod, corev1.ConditionTrue, reason, message); err != nil {
		if apierrors.IsNotFound(err) {
			return ErrGone
		}
		return fmt.Errorf("marking %s/%s as evicted: %w", pod.Namespace, pod.Name, err)
	}
	err := cs.PolicyV1().Evictions(pod.Namespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}},
	})
	switch {
	case err == nil:
		return nil
	case apierrors.IsNotFound(err):
		return ErrGone
	}
	err = fmt.Errorf("evicting %s/%s: %w", pod.Namespace, pod.Name, err)
	// Best effort: a mark left True would only overstate what is leaving until the next eviction
	// of this executor rewrites it.
	if unmarkErr := mark(ctx, cs, pod, corev1.ConditionFalse, ReasonRefused, err.Error()); unmarkErr != nil && !apierrors.IsNotFound(unmarkErr) {
		return errors.Join(err, fmt.Errorf("clearing the eviction mark: %w", unmarkErr))
	}
	return err
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
