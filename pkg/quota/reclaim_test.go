package quota

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

func TestPlanReclaim(t *testing.T) {
	key := func(ns string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: "f"} }
	standing := func(ns string, min, assigned, schedulable, leaving int32) Standing {
		return Standing{Key: key(ns), Leaving: leaving, State: State{
			Limits: Limits{Min: min},
			Usage:  Usage{Assigned: assigned, Pending: schedulable, Schedulable: schedulable},
		}}
	}
	tests := []struct {
		name  string
		farms []Standing
		want  Reclaim
	}{
		{
			name:  "one borrower gives exactly what the waiting farm needs",
			farms: []Standing{standing("a", 4, 12, 0, 0), standing("b", 4, 0, 4, 0)},
			want:  Reclaim{Demand: 4, Owed: map[types.NamespacedName]int32{key("a"): 4}},
		},
		{
			name:  "proportional to overquota: over by 6 and 2, need 4",
			farms: []Standing{standing("a", 2, 8, 0, 0), standing("b", 2, 4, 0, 0), standing("c", 4, 0, 4, 0)},
			want:  Reclaim{Demand: 4, Owed: map[types.NamespacedName]int32{key("a"): 3, key("b"): 1}},
		},
		{
			name: "executors already leaving count toward the plan, keeping the split",
			// a has given 2 of its 3 already, b none of its 1: what remains is 1 and 1.
			farms: []Standing{standing("a", 2, 6, 0, 2), standing("b", 2, 4, 0, 0), standing("c", 4, 0, 4, 0)},
			want:  Reclaim{Demand: 4, Leaving: 2, Owed: map[types.NamespacedName]int32{key("a"): 1, key("b"): 1}},
		},
		{
			name:  "everything needed is already leaving",
			farms: []Standing{standing("a", 2, 4, 0, 4), standing("c", 4, 0, 4, 0)},
			want:  Reclaim{Demand: 4, Leaving: 4},
		},
		{
			name:  "demand capped by the shortfall, not by pending executors",
			farms: []Standing{standing("a", 0, 10, 0, 0), standing("c", 3, 1, 9, 0)},
			want:  Reclaim{Demand: 2, Owed: map[types.NamespacedName]int32{key("a"): 2}},
		},
		{
			name:  "nothing to take: every other farm at its minimum",
			farms: []Standing{standing("a", 4, 4, 0, 0), standing("c", 4, 0, 4, 0)},
			want:  Reclaim{Demand: 4},
		},
		{
			name:  "borrowed executors do not cover the demand: take all of them, no more",
			farms: []Standing{standing("a", 4, 5, 0, 0), standing("b", 1, 2, 0, 0), standing("c", 6, 0, 6, 0)},
			want:  Reclaim{Demand: 6, Owed: map[types.NamespacedName]int32{key("a"): 1, key("b"): 1}},
		},
		{
			name:  "no guaranteed demand: a borrowing farm's pending pods reclaim nothing",
			farms: []Standing{standing("a", 1, 5, 3, 0), standing("b", 1, 1, 0, 0)},
			want:  Reclaim{},
		},
		{
			name:  "two waiting farms share the same borrowers",
			farms: []Standing{standing("a", 0, 6, 0, 0), standing("b", 0, 3, 0, 0), standing("c", 2, 0, 2, 0), standing("d", 1, 0, 1, 0)},
			want:  Reclaim{Demand: 3, Owed: map[types.NamespacedName]int32{key("a"): 2, key("b"): 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanReclaim(tc.farms)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PlanReclaim (-want +got):\n%s", diff)
			}
		})
	}
}
