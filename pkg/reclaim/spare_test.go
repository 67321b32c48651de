package reclaim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

func TestSolveSparing(t *testing.T) {
	a := key("a/a")
	// young spares the victims that started less than an hour after t0.
	young := func(v Victim) bool { return !v.Started.Before(t0.Add(time.Hour)) }
	tests := []struct {
		name    string
		problem *Problem
		want    outcome
	}{{
		name: "an older victim is taken instead of the youngest",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, victim("old", "a/a", 1).obj(), victim("young", "a/a", 1).startedAfter(2*time.Hour).obj()).
			waiting("w0", 1).obj(),
		want: outcome{Victims: []string{"old"}, Evictions: map[types.NamespacedName]int32{a: 1}, Nodes: []string{"n0"}},
	}, {
		name: "an older victim on another node, even at the price of more evictions",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, victim("young", "a/a", 2).startedAfter(2*time.Hour).obj()).
			node("n1", 0, victim("old-a", "a/a", 1).obj(), victim("old-b", "a/a", 1).obj()).
			waiting("w0", 2).obj(),
		want: outcome{Victims: []string{"old-a", "old-b"}, Evictions: map[types.NamespacedName]int32{a: 2}, Nodes: []string{"n1"}},
	}, {
		name: "only young victims make room: a young one is taken",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, victim("young", "a/a", 1).startedAfter(2*time.Hour).obj()).
			node("n1", 0, victim("old", "a/a", 1).obj()).
			waiting("w0", 1, 0).obj(),
		want: outcome{Victims: []string{"young"}, Evictions: map[types.NamespacedName]int32{a: 1}, Nodes: []string{"n0"}},
	}, {
		name: "old victims place only one of two waiting executors: the young one is taken too",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, victim("old", "a/a", 1).obj(), victim("young", "a/a", 1).startedAfter(2*time.Hour).obj()).
			waiting("w0", 1).waiting("w1", 1).obj(),
		want: outcome{Victims: []string{"old", "young"}, Evictions: map[types.NamespacedName]int32{a: 2}, Nodes: []string{"n0"}},
	}, {
		name: "a young victim needed on one node is no reason to take young ones elsewhere",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, victim("young-a", "a/a", 1).startedAfter(2*time.Hour).obj()).
			node("n1", 0, victim("old", "a/a", 1).obj(), victim("young-b", "a/a", 1).startedAfter(3*time.Hour).obj()).
			waiting("w0", 1, 0).waiting("w1", 1, 1).obj(),
		want: outcome{Victims: []string{"old", "young-a"}, Evictions: map[types.NamespacedName]int32{a: 2}, Nodes: []string{"n0", "n1"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := outcomeOf(tc.problem, SolveSparing(tc.problem, young))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
	// Without sparing, the youngest is the first victim: the cases above are not Solve's own.
	p := newProblem().farm("a/a", 4, 0).
		node("n0", 0, victim("old", "a/a", 1).obj(), victim("young", "a/a", 1).startedAfter(2*time.Hour).obj()).
		waiting("w0", 1).obj()
	if got := outcomeOf(p, Solve(p)).Victims; !cmp.Equal(got, []string{"young"}) {
		t.Errorf("Solve took %v, want the youngest", got)
	}
}
