package reclaim

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/types"
)

// outcome is what a test checks of a plan: who is evicted, from which farm, who is not placed.
type outcome struct {
	Victims   []string
	Evictions map[types.NamespacedName]int32
	Unplaced  []string
	// Nodes are the nodes where something is evicted.
	Nodes []string
}

func outcomeOf(pr *Problem, p Plan) outcome {
	o := outcome{Evictions: p.Evictions}
	nodes := map[string]bool{}
	for _, pl := range p.Placements {
		for _, i := range pl.Victims {
			o.Victims = append(o.Victims, pr.Nodes[pl.Node].Victims[i].ID)
			nodes[pr.Nodes[pl.Node].Name] = true
		}
	}
	for n := range nodes {
		o.Nodes = append(o.Nodes, n)
	}
	for _, u := range p.Unplaced {
		o.Unplaced = append(o.Unplaced, pr.Waiting[u.Waiting].ID)
	}
	sort.Strings(o.Victims)
	sort.Strings(o.Nodes)
	sort.Strings(o.Unplaced)
	return o
}

func TestSolve(t *testing.T) {
	a, b := key("a/a"), key("b/b")
	tests := []struct {
		name    string
		problem *Problem
		want    outcome
		// greedyMisses marks a case only the exhaustive search gets right.
		greedyMisses bool
	}{{
		// Issue case 1: a 2-CPU executor needs two 1-CPU victims on one node; the second waiting
		// executor takes two more on the same node rather than touch a second one.
		name: "big waiting executors take several small victims on one node",
		problem: newProblem().farm("a/a", 12, 0).
			node("n0", 0, full("x", "a/a", 4, 1)...).
			node("n1", 0, full("y", "a/a", 4, 1)...).
			node("n2", 0, full("z", "a/a", 4, 1)...).
			waiting("w0", 2).waiting("w1", 2).obj(),
		want: outcome{Victims: []string{"x-a", "x-b", "x-c", "x-d"}, Evictions: map[types.NamespacedName]int32{a: 4}, Nodes: []string{"n0"}},
	}, {
		// Issue case 2: one 4-CPU victim makes room for four 1-CPU executors.
		name: "one big victim makes room for several small waiting executors",
		problem: newProblem().farm("a/a", 3, 0).
			node("n0", 0, victim("x", "a/a", 4).obj()).
			node("n1", 0, victim("y", "a/a", 4).obj()).
			node("n2", 0, victim("z", "a/a", 4).obj()).
			waiting("w0", 1).waiting("w1", 1).waiting("w2", 1).waiting("w3", 1).obj(),
		want: outcome{Victims: []string{"x"}, Evictions: map[types.NamespacedName]int32{a: 1}, Nodes: []string{"n0"}},
	}, {
		// Issue case 3: the farm furthest over runs only where the waiting executors cannot go;
		// it owes nothing and the other farm gives what is needed.
		name: "a farm with nothing on the usable nodes owes nothing",
		problem: newProblem().farm("a/a", 6, 0).farm("b/b", 2, 0).
			node("pool-a-0", 0, full("x", "a/a", 4, 1)...).
			node("pool-a-1", 0, victim("x2", "a/a", 1).obj(), victim("x3", "a/a", 1).obj(), victim("x4", "a/a", 1).obj(), victim("x5", "a/a", 1).obj()).
			node("pool-b-0", 2, victim("y-a", "b/b", 1).obj(), victim("y-b", "b/b", 1).obj()).
			waiting("w0", 1, 2).waiting("w1", 1, 2).waiting("w2", 1, 2).obj(),
		want: outcome{Victims: []string{"y-a"}, Evictions: map[types.NamespacedName]int32{b: 1}, Nodes: []string{"pool-b-0"}},
	}, {
		// Issue case 4: the farm furthest over is protected by a budget that allows nothing.
		name: "a farm whose executors a budget protects is passed over",
		problem: newProblem().farm("a/a", 4, 0).farm("b/b", 2, 0).budget(0).
			node("n0", 0, victim("x-a", "a/a", 1).budgets(0).obj(), victim("x-b", "a/a", 1).budgets(0).obj(), victim("y-a", "b/b", 1).obj(), victim("y-b", "b/b", 1).obj()).
			node("n1", 0, victim("x-c", "a/a", 1).budgets(0).obj(), victim("x-d", "a/a", 1).budgets(0).obj()).
			waiting("w0", 1).obj(),
		want: outcome{Victims: []string{"y-a"}, Evictions: map[types.NamespacedName]int32{b: 1}, Nodes: []string{"n0"}},
	}, {
		name: "a budget allowing one disruption gives one",
		problem: newProblem().farm("a/a", 4, 0).budget(1).
			node("n0", 0, victim("x-a", "a/a", 1).budgets(0).obj(), victim("x-b", "a/a", 1).budgets(0).obj()).
			node("n1", 0, victim("x-c", "a/a", 1).budgets(0).obj(), victim("x-d", "a/a", 1).budgets(0).obj()).
			waiting("w0", 1).waiting("w1", 1).obj(),
		want: outcome{Victims: []string{"x-a"}, Evictions: map[types.NamespacedName]int32{a: 1}, Unplaced: []string{"w1"}, Nodes: []string{"n0"}},
	}, {
		name: "a waiting executor that fits nowhere evicts nothing",
		problem: newProblem().farm("a/a", 8, 0).
			node("n0", 0, full("x", "a/a", 4, 1)...).
			node("n1", 0, full("y", "a/a", 4, 1)...).
			waiting("w0", 8).obj(),
		want: outcome{Evictions: map[types.NamespacedName]int32{}, Unplaced: []string{"w0"}},
	}, {
		name: "the one that fits is served, the one that fits nowhere evicts nothing",
		problem: newProblem().farm("a/a", 8, 0).
			node("n0", 0, full("x", "a/a", 4, 1)...).
			waiting("big", 8).waiting("small", 1).obj(),
		want: outcome{Victims: []string{"x-a"}, Evictions: map[types.NamespacedName]int32{a: 1}, Unplaced: []string{"big"}, Nodes: []string{"n0"}},
	}, {
		name: "never below a victim farm's minimum",
		problem: newProblem().farm("a/a", 1, 0).
			node("n0", 0, full("x", "a/a", 4, 1)...).
			waiting("w0", 2).obj(),
		want: outcome{Evictions: map[types.NamespacedName]int32{}, Unplaced: []string{"w0"}},
	}, {
		name: "mixed sizes in one farm: the one victim big enough rather than two small",
		problem: newProblem().farm("a/a", 3, 0).
			node("n0", 0, victim("small-1", "a/a", 1).obj(), victim("big", "a/a", 2).obj(), victim("small-2", "a/a", 1).obj()).
			waiting("w0", 2).obj(),
		want: outcome{Victims: []string{"big"}, Evictions: map[types.NamespacedName]int32{a: 1}, Nodes: []string{"n0"}},
	}, {
		name: "room on the node counts: one small victim tops it up",
		problem: newProblem().farm("a/a", 3, 0).
			node("n0", 1, victim("small", "a/a", 1).obj(), victim("big", "a/a", 2).obj()).
			waiting("w0", 2).obj(),
		want: outcome{Victims: []string{"small"}, Evictions: map[types.NamespacedName]int32{a: 1}, Nodes: []string{"n0"}},
	}, {
		name: "room already made by leaving executors costs nothing",
		problem: newProblem().farm("a/a", 3, 1).
			node("n0", 0, full("x", "a/a", 3, 1)...).
			node("n1", 1, victim("y", "a/a", 1).obj()).leavingNode().
			waiting("w0", 1).obj(),
		want: outcome{Evictions: map[types.NamespacedName]int32{}},
	}, {
		name: "proportional to overquota: 4 and 2 over, 3 needed, 2 and 1",
		problem: newProblem().farm("a/a", 4, 0).farm("b/b", 2, 0).
			node("n0", 0, victim("x-a", "a/a", 1).obj(), victim("x-b", "a/a", 1).obj(), victim("y-a", "b/b", 1).obj()).
			node("n1", 0, victim("x-c", "a/a", 1).obj(), victim("x-d", "a/a", 1).obj(), victim("y-b", "b/b", 1).obj()).
			waiting("w0", 1).waiting("w1", 1).waiting("w2", 1).obj(),
		want: outcome{Victims: []string{"x-a", "x-b", "y-a"}, Evictions: map[types.NamespacedName]int32{a: 2, b: 1}, Nodes: []string{"n0"}},
	}, {
		name: "proportional across pod-by-pod cycles: what already leaves counts toward the share",
		problem: newProblem().farm("a/a", 3, 1).farm("b/b", 2, 0).
			node("n0", 0, victim("x-a", "a/a", 1).obj(), victim("x-b", "a/a", 1).obj(), victim("y-a", "b/b", 1).obj()).
			node("n1", 0, victim("x-c", "a/a", 1).obj(), victim("y-b", "b/b", 1).obj()).
			waiting("w0", 1).waiting("w1", 1).obj(),
		want: outcome{Victims: []string{"x-a", "y-a"}, Evictions: map[types.NamespacedName]int32{a: 1, b: 1}, Nodes: []string{"n0"}},
	}, {
		name: "lower priority first, then the youngest",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, victim("old-low", "a/a", 1).priority(-1).obj(), victim("young-high", "a/a", 1).priority(5).startedAfter(time.Hour).obj()).
			node("n1", 0, victim("old", "a/a", 1).obj(), victim("young", "a/a", 1).startedAfter(time.Minute).obj()).
			waiting("w0", 1).obj(),
		want: outcome{Victims: []string{"old-low"}, Evictions: map[types.NamespacedName]int32{a: 1}, Nodes: []string{"n0"}},
	}, {
		name: "the youngest among equals",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, victim("old", "a/a", 1).obj(), victim("young", "a/a", 1).startedAfter(time.Minute).obj()).
			waiting("w0", 1).obj(),
		want: outcome{Victims: []string{"young"}, Evictions: map[types.NamespacedName]int32{a: 1}, Nodes: []string{"n0"}},
	}, {
		name: "no waiting executor, nothing evicted",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, full("x", "a/a", 4, 1)...).obj(),
		want: outcome{Evictions: map[types.NamespacedName]int32{}},
	}, {
		name: "victims of a farm not in the problem are not admissible",
		problem: newProblem().farm("a/a", 4, 0).
			node("n0", 0, victim("stranger", "c/c", 1).obj()).
			node("n1", 0, victim("x", "a/a", 1).obj()).
			waiting("w0", 1).obj(),
		want: outcome{Victims: []string{"x"}, Evictions: map[types.NamespacedName]int32{a: 1}, Nodes: []string{"n1"}},
	}, {
		name: "the largest waiting executor is placed first",
		problem: newProblem().farm("a/a", 8, 0).
			node("n0", 0, victim("big", "a/a", 3).obj()).
			node("n1", 0, victim("small-1", "a/a", 1).obj(), victim("small-2", "a/a", 1).obj()).
			waiting("w-small", 1).waiting("w-big", 3).obj(),
		want: outcome{Victims: []string{"big", "small-1"}, Evictions: map[types.NamespacedName]int32{a: 2}, Nodes: []string{"n0", "n1"}},
	}}
	for _, tc := range tests {
		for _, mode := range []struct {
			name       string
			exhaustive bool
		}{{"exact", true}, {"greedy", false}} {
			if !mode.exhaustive && tc.greedyMisses {
				continue
			}
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				got := outcomeOf(tc.problem, solve(tc.problem, mode.exhaustive))
				if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("plan (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestSolveSharesAndDisproportion(t *testing.T) {
	// Farm a is furthest over but only one 4-CPU victim of it fits the need; the split cannot
	// be 2 and 1 with one eviction, and the plan says so.
	pr := newProblem().farm("a/a", 4, 0).farm("b/b", 2, 0).
		node("n0", 0, victim("x", "a/a", 4).obj()).
		node("n1", 0, victim("y-a", "b/b", 1).obj(), victim("y-b", "b/b", 1).obj(), victim("y-c", "b/b", 1).obj(), victim("y-d", "b/b", 1).obj()).
		waiting("w0", 1).waiting("w1", 1).waiting("w2", 1).obj()
	p := Solve(pr)
	if got, want := p.Victims(), 1; got != want {
		t.Fatalf("victims: got %d, want %d", got, want)
	}
	if diff := cmp.Diff(map[types.NamespacedName]int32{key("a/a"): 1}, p.Shares); diff != "" {
		t.Errorf("shares (-want +got):\n%s", diff)
	}
	if len(p.Disproportion()) != 0 {
		t.Errorf("one eviction from the farm furthest over is proportional, got %v", p.Disproportion())
	}

	// Farm a is furthest over, but its 1-CPU executors would take two evictions where farm b's
	// one 2-CPU executor takes one: fewest evictions wins, and the split off its share is reported.
	pr = newProblem().farm("a/a", 6, 0).farm("b/b", 2, 0).
		node("n0", 0, victim("x-a", "a/a", 1).obj(), victim("x-b", "a/a", 1).obj()).
		node("n1", 0, victim("y", "b/b", 2).obj()).
		waiting("w0", 2).obj()
	p = Solve(pr)
	want := []string{"farm a/a loses 0, its share is 1", "farm b/b loses 1, its share is 0"}
	if diff := cmp.Diff(want, p.Disproportion()); diff != "" {
		t.Errorf("disproportion (-want +got):\n%s", diff)
	}
}
