package quota

import (
	"sort"

	"k8s.io/apimachinery/pkg/types"
)

// Standing is one farm of a farm type as a reclaim sees it.
type Standing struct {
	Key   types.NamespacedName
	State State
	// Leaving counts the farm's executors on their way out that still hold a place on a node:
	// terminating, or with an eviction requested that the informer has not shown yet. Each will
	// free room for one waiting executor.
	Leaving int32
}

// Reclaim is what a farm type owes its waiting guarantees.
type Reclaim struct {
	// Demand is the guaranteed demand of the farms below their minimum.
	Demand int32
	// Leaving is how many executors already on their way out will cover part of Demand.
	Leaving int32
	// Owed is, for each farm over its minimum, how many more executors it must give up now; farms
	// that owe nothing are absent. The values add up to Demand - Leaving (or less, when the
	// borrowed executors do not cover it).
	Owed map[types.NamespacedName]int32
}

// PlanReclaim decides how many executors each borrowing farm of one farm type gives back so that
// the farms below their minimum get their guaranteed demand, no more: executors already leaving
// count toward it, and the rest is shared in proportion to how far over its minimum each farm was
// before this reclaim began (Apportion), so the split holds as the reclaim proceeds pod by pod.
func PlanReclaim(farms []Standing) Reclaim {
	sorted := append([]Standing(nil), farms...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Key.Namespace != sorted[j].Key.Namespace {
			return sorted[i].Key.Namespace < sorted[j].Key.Namespace
		}
		return sorted[i].Key.Name < sorted[j].Key.Name
	})

	var r Reclaim
	var victims []Standing
	var overBefore []int32
	for _, f := range sorted {
		r.Demand += f.State.GuaranteedDemand()
		r.Leaving += f.Leaving
		if f.State.BelowMin() {
			continue
		}
		if over := f.State.Overquota() + f.Leaving; over > 0 {
			victims = append(victims, f)
			overBefore = append(overBefore, over)
		}
	}
	need := r.Demand - r.Leaving
	if need <= 0 || len(victims) == 0 {
		return r
	}
	shares := Apportion(r.Demand, overBefore)
	r.Owed = map[types.NamespacedName]int32{}
	type owed struct {
		i int
		n int32
	}
	var owing []owed
	for i, v := range victims {
		// Never more than the farm holds beyond its minimum now.
		if n := min(shares[i]-v.Leaving, v.State.Overquota()); n > 0 {
			owing = append(owing, owed{i, n})
		}
	}
	// Executors leaving from farms below their minimum shrink what is still needed, not any
	// victim's share: trim the largest debts first so the total is exactly need.
	sort.SliceStable(owing, func(a, b int) bool { return owing[a].n > owing[b].n })
	var total int32
	for _, o := range owing {
		total += o.n
	}
	for k := 0; total > need; k = (k + 1) % len(owing) {
		if owing[k].n > 0 {
			owing[k].n--
			total--
		}
	}
	for _, o := range owing {
		if o.n > 0 {
			r.Owed[victims[o.i].Key] = o.n
		}
	}
	return r
}
