package input

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim"
)

// FarmState is one farm of a plan's farm type, as the plan sees it.
type FarmState struct {
	Key   types.NamespacedName
	State quota.State
	// InFlight counts its executors a reclaim has asked to evict and that are not yet seen
	// leaving.
	InFlight int32
}

// Sides is a farm type's farms split as a plan takes them: farms below their minimum wait, each
// for the part of its demand its guarantee covers; farms with reclaimable executors may lose
// them. Other farms take no part.
type Sides struct {
	// Demand is, per farm below its minimum, how many of its pending pods its guarantee covers.
	Demand map[types.NamespacedName]int32
	// Victims are the farms a plan may take executors from. Evictions in flight no longer count
	// as what a farm may lose, but as leaving: the farm is giving them back, and its share of the
	// reclaim weighs that, as it weighs executors Spark decommissions.
	Victims map[types.NamespacedName]reclaim.Farm
}

// SplitSides splits a farm type's farms into the sides of a plan.
func SplitSides(farms []FarmState) Sides {
	s := Sides{Demand: map[types.NamespacedName]int32{}, Victims: map[types.NamespacedName]reclaim.Farm{}}
	for _, f := range farms {
		switch {
		case f.State.BelowMin():
			s.Demand[f.Key] = f.State.GuaranteedDemand()
		case f.State.Reclaimable() > 0:
			s.Victims[f.Key] = reclaim.Farm{
				Overquota: f.State.Reclaimable() - f.InFlight,
				Leaving:   f.State.Terminating + f.InFlight,
			}
		}
	}
	return s
}

// Keys returns every farm that takes part, waiting or victim, in no particular order.
func (s Sides) Keys() []types.NamespacedName {
	keys := make([]types.NamespacedName, 0, len(s.Demand)+len(s.Victims))
	for k := range s.Demand {
		keys = append(keys, k)
	}
	for k := range s.Victims {
		keys = append(keys, k)
	}
	return keys
}

// Waiting returns the pods a plan places: for each farm below its minimum, the pending pods its
// guarantee covers (pending[farm] are its pods waiting for a node), and the extra pods that wait
// beside them (a driver beside its farm's executors), all in the order they are served
// (ServedBefore).
func (s Sides) Waiting(self *corev1.Pod, pending map[types.NamespacedName][]*corev1.Pod, nominatedTo func(*corev1.Pod) string, extra ...*corev1.Pod) []*corev1.Pod {
	var waiting []*corev1.Pod
	for key, n := range s.Demand {
		waiting = append(waiting, GuaranteedPods(self, pending[key], n, nominatedTo)...)
	}
	waiting = append(waiting, extra...)
	sortServed(self, waiting, nominatedTo)
	return waiting
}
