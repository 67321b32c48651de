package reclaim

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/quota"
)

// Plan says where each waiting executor goes and which victims are evicted to make room for it.
type Plan struct {
	// Placements are the waiting executors the plan finds room for, in the order they were placed.
	Placements []Placement
	// Unplaced are those that fit nowhere even after every admissible eviction the plan leaves:
	// nothing is evicted for them.
	Unplaced []Unplaced
	// Evictions counts the victims of each farm.
	Evictions map[types.NamespacedName]int32
	// Shares is each farm's proportional part of the evictions (this plan's and those already
	// leaving), less what it already has leaving: what Evictions would be if room were fungible.
	Shares map[types.NamespacedName]int32
	// Exact reports whether the plan came from the exhaustive search (small problems) rather
	// than the greedy pass.
	Exact bool
}

// Placement is one waiting executor's node and the victims evicted there for it. Several
// waiting executors may share a node; the room one victim leaves is used by the next.
type Placement struct {
	Waiting int
	Node    int
	// Victims index the node's Victims.
	Victims []int
}

// Unplaced is a waiting executor the plan finds no room for, and why.
type Unplaced struct {
	Waiting int
	Reason  string
}

// Victims returns how many executors the plan evicts.
func (p Plan) Victims() int {
	n := 0
	for _, pl := range p.Placements {
		n += len(pl.Victims)
	}
	return n
}

// For returns the placement of a waiting executor, if it has one.
func (p Plan) For(waiting int) (Placement, bool) {
	for _, pl := range p.Placements {
		if pl.Waiting == waiting {
			return pl, true
		}
	}
	return Placement{}, false
}

// UnplacedReason returns why a waiting executor has no placement, or "" when it has one.
func (p Plan) UnplacedReason(waiting int) string {
	for _, u := range p.Unplaced {
		if u.Waiting == waiting {
			return u.Reason
		}
	}
	return ""
}

// Disproportion describes each farm whose evictions differ from its proportional share, sorted;
// empty when the split is proportional. Sizes, node pools and budgets can force such a split: it
// is reported, not hidden.
func (p Plan) Disproportion() []string {
	var out []string
	for f, share := range p.Shares {
		if got := p.Evictions[f]; got != share {
			out = append(out, fmt.Sprintf("farm %s loses %d, its share is %d", f, got, share))
		}
	}
	for f, got := range p.Evictions {
		if _, ok := p.Shares[f]; !ok {
			out = append(out, fmt.Sprintf("farm %s loses %d, its share is 0", f, got))
		}
	}
	sort.Strings(out)
	return out
}

// Limits of the exhaustive search: beyond them the greedy pass plans alone. 2^12 victim subsets,
// each packed by a branch-and-bound over at most 6 waiting executors, stay well under a
// millisecond.
const (
	exactMaxVictims = 12
	exactMaxWaiting = 6
	exactMaxNodes   = 8
)

// Solve plans the reclaim. Problems within the exhaustive search's limits are solved exactly:
// no plan places more waiting executors, none placing as many evicts fewer. Larger ones are
// planned by a greedy pass (largest waiting executor first, each on the node where it costs the
// fewest evictions), run twice: once to learn how many evictions it takes, and again steering
// ties toward the farms below their proportional share of that many; the second run is kept
// unless it does worse on rules 1 or 2.
func Solve(pr *Problem) Plan {
	return solve(pr, small(pr))
}

// solve plans exactly or greedily, as told.
func solve(pr *Problem, exhaustive bool) Plan {
	usable := admissibleFarms(pr)
	if exhaustive {
		return exact(pr, usable)
	}
	first := newGreedy(pr, nil).run()
	second := newGreedy(pr, shares(pr, usable, int32(first.Victims()))).run()
	best := first
	if len(second.Placements) > len(first.Placements) ||
		(len(second.Placements) == len(first.Placements) && second.Victims() <= first.Victims()) {
		best = second
	}
	best.Shares = shares(pr, usable, int32(best.Victims()))
	return best
}

// small reports whether the exhaustive search may solve the problem.
func small(pr *Problem) bool {
	if len(pr.Waiting) > exactMaxWaiting || len(pr.Nodes) > exactMaxNodes {
		return false
	}
	n := 0
	for _, node := range pr.Nodes {
		n += len(node.Victims)
	}
	return n <= exactMaxVictims
}

// admissibleFarms returns the farms that hold an admissible victim on a node some waiting
// executor may use: only they share the evictions; a farm with none owes nothing.
func admissibleFarms(pr *Problem) map[types.NamespacedName]bool {
	usableNode := make([]bool, len(pr.Nodes))
	for _, w := range pr.Waiting {
		for _, n := range w.Nodes {
			usableNode[n] = true
		}
	}
	farms := map[types.NamespacedName]bool{}
	for n, node := range pr.Nodes {
		if !usableNode[n] {
			continue
		}
		for _, v := range node.Victims {
			if f, ok := pr.Farms[v.Farm]; ok && f.Overquota > 0 && budgetsAllow(pr.Budgets, v.Budgets) {
				farms[v.Farm] = true
			}
		}
	}
	return farms
}

// shares splits evictions (plus those already leaving) among the usable farms in proportion to
// their overquota before the reclaim began, and takes off what each already has leaving.
func shares(pr *Problem, usable map[types.NamespacedName]bool, evictions int32) map[types.NamespacedName]int32 {
	keys := make([]types.NamespacedName, 0, len(usable))
	for f := range usable {
		keys = append(keys, f)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	weights := make([]int32, len(keys))
	total := evictions
	for i, f := range keys {
		weights[i] = pr.Farms[f].Overquota + pr.Farms[f].Leaving
		total += pr.Farms[f].Leaving
	}
	out := make(map[types.NamespacedName]int32, len(keys))
	for i, s := range quota.Apportion(total, weights) {
		if s -= pr.Farms[keys[i]].Leaving; s > 0 {
			out[keys[i]] = s
		}
	}
	return out
}

// budgetsAllow reports whether every budget of a victim allows one more disruption.
func budgetsAllow(left []int32, budgets []int) bool {
	for _, b := range budgets {
		if left[b] <= 0 {
			return false
		}
	}
	return true
}

// Describe renders a problem in one line per waiting executor and node, for logs.
func (pr *Problem) Describe() []string {
	var out []string
	for _, w := range pr.Waiting {
		nominated := ""
		if w.Nominated >= 0 {
			nominated = pr.Nodes[w.Nominated].Name
		}
		out = append(out, fmt.Sprintf("waiting %s request %v nodes %d nominated %q", w.ID, w.Request, len(w.Nodes), nominated))
	}
	for _, n := range pr.Nodes {
		out = append(out, fmt.Sprintf("node %s room %v leaving %t victims %d", n.Name, n.Room, n.Leaving, len(n.Victims)))
	}
	return out
}

// Describe renders a plan's placements, for logs.
func (p Plan) Describe(pr *Problem) []string {
	var out []string
	for _, pl := range p.Placements {
		var victims []string
		for _, i := range pl.Victims {
			victims = append(victims, pr.Nodes[pl.Node].Victims[i].ID)
		}
		out = append(out, fmt.Sprintf("%s on %s evicting %v", pr.Waiting[pl.Waiting].ID, pr.Nodes[pl.Node].Name, victims))
	}
	for _, u := range p.Unplaced {
		out = append(out, fmt.Sprintf("%s unplaced: %s", pr.Waiting[u.Waiting].ID, u.Reason))
	}
	return out
}
