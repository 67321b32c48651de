package input

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	policy "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNewBudgetsSkipsEmptyAndInvalidSelectors(t *testing.T) {
	// The skipped budgets allow no disruption and would select alice's executors: were they
	// kept, they would protect a1.
	everything := pdb("alice", "everything", 0).selector(&metav1.LabelSelector{}).obj()
	invalid := pdb("alice", "invalid", 0).selector(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "spark-role", Operator: "Resembles", Values: []string{"executor"}},
	}}).obj()
	b := NewBudgets([]*policy.PodDisruptionBudget{everything, pdb("alice", "executors", 2).obj(), invalid, pdb("bob", "executors", 1).obj()})

	if diff := cmp.Diff([]int32{2, 1}, b.Allowed()); diff != "" {
		t.Errorf("Allowed (-want +got):\n%s", diff)
	}
	covering, protectedBy := b.Covering(executor("alice", "a1").obj())
	if diff := cmp.Diff([]int{0}, covering); diff != "" || protectedBy != "" {
		t.Errorf("Covering(alice/a1) = %v, %q; want [0], \"\" (-want +got):\n%s", covering, protectedBy, diff)
	}
	// The same budgets, kept as the only ones with a valid selector, do protect a1.
	kept := NewBudgets([]*policy.PodDisruptionBudget{pdb("alice", "everything", 0).obj()})
	if _, protectedBy := kept.Covering(executor("alice", "a1").obj()); protectedBy != "alice/everything" {
		t.Errorf("a budget of 0 over alice's executors: Covering protected by %q, want alice/everything", protectedBy)
	}
}

func TestBudgetsCovering(t *testing.T) {
	tests := []struct {
		name            string
		budgets         []*policy.PodDisruptionBudget
		wantCovering    []int
		wantProtectedBy string
	}{
		{
			name: "no budget",
		},
		{
			name:    "a budget of another namespace",
			budgets: []*policy.PodDisruptionBudget{pdb("bob", "executors", 0).obj()},
		},
		{
			name: "a budget of its namespace that selects other pods",
			budgets: []*policy.PodDisruptionBudget{pdb("alice", "drivers", 0).selector(&metav1.LabelSelector{
				MatchLabels: map[string]string{"spark-role": "driver"},
			}).obj()},
		},
		{
			name:    "a budget with no selector selects nothing",
			budgets: []*policy.PodDisruptionBudget{pdb("alice", "none", 0).selector(nil).obj()},
		},
		{
			name:         "a budget that allows some",
			budgets:      []*policy.PodDisruptionBudget{pdb("bob", "executors", 3).obj(), pdb("alice", "executors", 1).obj()},
			wantCovering: []int{1},
		},
		{
			name:         "two budgets that allow some",
			budgets:      []*policy.PodDisruptionBudget{pdb("alice", "executors", 1).obj(), pdb("alice", "all", 4).obj()},
			wantCovering: []int{0, 1},
		},
		{
			name:            "a budget that allows none",
			budgets:         []*policy.PodDisruptionBudget{pdb("alice", "executors", 0).obj()},
			wantProtectedBy: "alice/executors",
		},
		{
			name:            "one budget allows some, another none",
			budgets:         []*policy.PodDisruptionBudget{pdb("alice", "executors", 2).obj(), pdb("alice", "strict", 0).obj()},
			wantProtectedBy: "alice/strict",
		},
		{
			name:    "a budget that allows none but already counts the pod disrupted",
			budgets: []*policy.PodDisruptionBudget{pdb("alice", "executors", 0).disrupted("a1").obj()},
		},
		{
			name:         "the budget that counts the pod disrupted is not drawn on again; the other is",
			budgets:      []*policy.PodDisruptionBudget{pdb("alice", "executors", 1).disrupted("a1").obj(), pdb("alice", "all", 1).obj()},
			wantCovering: []int{1},
		},
		{
			name:            "a budget that counts another pod disrupted",
			budgets:         []*policy.PodDisruptionBudget{pdb("alice", "executors", 0).disrupted("a2").obj()},
			wantProtectedBy: "alice/executors",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			covering, protectedBy := NewBudgets(tc.budgets).Covering(executor("alice", "a1").on("n1").obj())
			if diff := cmp.Diff(tc.wantCovering, covering); diff != "" {
				t.Errorf("covering (-want +got):\n%s", diff)
			}
			if protectedBy != tc.wantProtectedBy {
				t.Errorf("protected by %q, want %q", protectedBy, tc.wantProtectedBy)
			}
		})
	}
}
