package farm

import (
	"sort"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/toinfn/farm/pkg/reclaim"
	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// Bounds of the nodes holding victims a reclaim plans on. A plan places each waiting pod on one
// node, so the choice it needs grows with the waiting pods, not with the cluster: at least 100
// nodes (upstream DefaultPreemption's minimum number of candidates) and 10 per waiting pod.
// Planning on every node would make a reclaim cost O(every executor in the cluster); the
// figures are in docs/benchmarks.md.
const (
	minCandidateNodes           = 100
	candidateNodesPerWaitingPod = 10
)

// nodeBound is how many nodes holding victims a plan for waiting pods considers.
func nodeBound(waiting int) int {
	return max(minCandidateNodes, candidateNodesPerWaitingPod*waiting)
}

// candidates chooses the nodes a plan considers: every node where room is already being made
// (executors leaving, pods nominated), then, up to nodeBound, nodes holding victim farms'
// executors that the cycle's pod may use, taken from the farms in turn so that every farm that
// owes executors can give them. Below the bound that is every such node; above it, a sample,
// as upstream samples its candidates.
type candidates struct {
	always sets.Set[string]
}

func newCandidates() *candidates {
	return &candidates{always: sets.New[string]()}
}

// choose returns the nodes to plan on, sorted by name. It costs O(bound), not O(executors).
func (c *candidates) choose(cache *farmcache.Cache, farms []types.NamespacedName, bound int, usable func(node string) bool) []string {
	chosen := c.always.Clone()
	perFarm := 2*bound/max(1, len(farms)) + 8
	lists := make([][]string, len(farms))
	rejected := sets.New[string]()
	for i, f := range farms {
		cache.NodesOf(f, func(node string, _ int32) bool {
			switch {
			case rejected.Has(node):
			case usable(node):
				lists[i] = append(lists[i], node)
			default:
				rejected.Insert(node)
			}
			return len(lists[i]) < perFarm
		})
		sort.Strings(lists[i])
	}
	for k, picked := 0, 0; picked < bound; k++ {
		progress := false
		for i := range lists {
			if k >= len(lists[i]) {
				continue
			}
			progress = true
			if node := lists[i][k]; !chosen.Has(node) {
				chosen.Insert(node)
				picked++
			}
		}
		if !progress {
			break
		}
	}
	return sets.List(chosen)
}

// victimFarms lists the farms of a problem, sorted.
func victimFarms(farms map[types.NamespacedName]reclaim.Farm) []types.NamespacedName {
	out := make([]types.NamespacedName, 0, len(farms))
	for f := range farms {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
