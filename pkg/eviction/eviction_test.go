package eviction

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/toinfn/farm/pkg/quota"
)

func TestEvict(t *testing.T) {
	podsResource := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name string
		// evictErr is what the Eviction API answers.
		evictErr error
		// podExists is false when the executor is gone before Farm gets to it.
		podExists bool

		wantErr         func(error) bool
		wantEvictions   int
		wantCondition   corev1.ConditionStatus
		wantCondReason  string
		wantNoCondition bool
		// wantCalls is how many API calls Evict makes.
		wantCalls int
	}{
		{
			name:           "evicted: one eviction with the pod's UID, then marked with Farm's reason",
			podExists:      true,
			wantErr:        func(err error) bool { return err == nil },
			wantEvictions:  1,
			wantCondition:  corev1.ConditionTrue,
			wantCondReason: quota.ReasonReclaimed,
			wantCalls:      2,
		},
		{
			name:            "a PodDisruptionBudget refuses: TooManyRequests comes back after one call, nothing marked",
			podExists:       true,
			evictErr:        apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0),
			wantErr:         apierrors.IsTooManyRequests,
			wantEvictions:   1,
			wantNoCondition: true,
			wantCalls:       1,
		},
		{
			name:            "the executor is already gone: ErrGone, nothing marked",
			podExists:       false,
			evictErr:        apierrors.NewNotFound(podsResource, "exec-1"),
			wantErr:         func(err error) bool { return errors.Is(err, ErrGone) },
			wantEvictions:   1,
			wantNoCondition: true,
			wantCalls:       1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "alice", Name: "exec-1", UID: "uid-1"}}
			var objects []runtime.Object
			if tc.podExists {
				objects = append(objects, pod.DeepCopy())
			}
			cs := fake.NewClientset(objects...)
			var evictions []*policyv1.Eviction
			cs.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
				if action.GetSubresource() != "eviction" {
					return false, nil, nil
				}
				evictions = append(evictions, action.(k8stesting.CreateAction).GetObject().(*policyv1.Eviction))
				return true, nil, tc.evictErr
			})

			before := len(cs.Actions())
			err := Evict(t.Context(), cs, pod, quota.ReasonReclaimed, "reclaimed for bob/exec-0")
			if calls := len(cs.Actions()) - before; calls != tc.wantCalls {
				t.Errorf("%d API calls, want %d: %v", calls, tc.wantCalls, cs.Actions()[before:])
			}
			if !tc.wantErr(err) {
				t.Fatalf("Evict() error = %v", err)
			}
			if len(evictions) != tc.wantEvictions {
				t.Fatalf("%d evictions requested, want %d", len(evictions), tc.wantEvictions)
			}
			for _, e := range evictions {
				if e.DeleteOptions == nil || e.DeleteOptions.Preconditions == nil || e.DeleteOptions.Preconditions.UID == nil || *e.DeleteOptions.Preconditions.UID != pod.UID {
					t.Errorf("eviction %s/%s lacks a UID precondition for %s: %+v", e.Namespace, e.Name, pod.UID, e.DeleteOptions)
				}
				if e.DeleteOptions.GracePeriodSeconds != nil {
					t.Errorf("eviction overrides the executor's grace period with %d", *e.DeleteOptions.GracePeriodSeconds)
				}
			}
			if !tc.podExists {
				return
			}
			got, err := cs.CoreV1().Pods("alice").Get(t.Context(), "exec-1", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var cond *corev1.PodCondition
			for i := range got.Status.Conditions {
				if got.Status.Conditions[i].Type == quota.EvictedCondition {
					cond = &got.Status.Conditions[i]
				}
			}
			if tc.wantNoCondition {
				if cond != nil {
					t.Fatalf("condition %s set: %+v", quota.EvictedCondition, cond)
				}
				return
			}
			if cond == nil {
				t.Fatalf("condition %s missing; conditions: %+v", quota.EvictedCondition, got.Status.Conditions)
			}
			if cond.Status != tc.wantCondition || cond.Reason != tc.wantCondReason {
				t.Errorf("condition %s = %s/%s, want %s/%s", quota.EvictedCondition, cond.Status, cond.Reason, tc.wantCondition, tc.wantCondReason)
			}
		})
	}
}
