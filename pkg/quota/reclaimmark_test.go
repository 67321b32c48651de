package quota

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIsBeingReclaimed(t *testing.T) {
	now := metav1.Now()
	marked := corev1.PodCondition{Type: EvictedCondition, Status: corev1.ConditionTrue, Reason: ReasonReclaimed}
	tests := []struct {
		name       string
		conditions []corev1.PodCondition
		deleting   bool
		phase      corev1.PodPhase
		want       bool
	}{
		{name: "marked and terminating", conditions: []corev1.PodCondition{marked}, deleting: true, phase: corev1.PodRunning, want: true},
		{name: "marked, not yet terminating", conditions: []corev1.PodCondition{marked}, phase: corev1.PodRunning, want: false},
		{name: "terminating for another reason", deleting: true, phase: corev1.PodRunning, want: false},
		{name: "evicted by someone else", conditions: []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI"}}, deleting: true, phase: corev1.PodRunning, want: false},
		{name: "scaled down, not reclaimed", conditions: []corev1.PodCondition{{Type: EvictedCondition, Status: corev1.ConditionTrue, Reason: ReasonScaledDown}}, deleting: true, phase: corev1.PodRunning, want: false},
		{name: "marked but finished", conditions: []corev1.PodCondition{marked}, deleting: true, phase: corev1.PodSucceeded, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Pod{Status: corev1.PodStatus{Phase: tc.phase, Conditions: tc.conditions}}
			if tc.deleting {
				p.DeletionTimestamp = &now
			}
			if got := IsBeingReclaimed(p); got != tc.want {
				t.Errorf("IsBeingReclaimed = %v, want %v", got, tc.want)
			}
		})
	}
}
