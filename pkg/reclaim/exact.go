package reclaim

import (
	"sort"

	"k8s.io/apimachinery/pkg/types"
)

// candidate is an admissible victim of a small problem, by node and index on that node.
type candidate struct {
	node, index int
}

// exactPlan is a subset of candidates and how the waiting executors pack once it is gone.
type exactPlan struct {
	subset []candidate
	// nodeOf is, per waiting executor, its node or -1.
	nodeOf []int
	placed int
	// Tie-breaks after placed and len(subset), smaller is better.
	overShare, newNodes  int
	priority, negStarted int64
}

// exact tries every admissible subset of victims, smallest first, and keeps the one that places
// the most waiting executors with the fewest evictions, ties broken as the greedy pass does.
func exact(pr *Problem, usable map[types.NamespacedName]bool) Plan {
	var cands []candidate
	for n, node := range pr.Nodes {
		for i, v := range node.Victims {
			if usable[v.Farm] && budgetsAllow(pr.Budgets, v.Budgets) {
				cands = append(cands, candidate{n, i})
			}
		}
	}
	var best *exactPlan
	for mask := 0; mask < 1<<len(cands); mask++ {
		var subset []candidate
		for i, c := range cands {
			if mask&(1<<i) != 0 {
				subset = append(subset, c)
			}
		}
		if !withinLimits(pr, subset) {
			continue
		}
		p := evaluate(pr, usable, subset)
		if best == nil || p.better(best) {
			best = p
		}
	}
	return best.plan(pr, usable)
}

// withinLimits reports whether a subset takes no farm below its minimum and breaks no budget.
func withinLimits(pr *Problem, subset []candidate) bool {
	byFarm := map[types.NamespacedName]int32{}
	budgets := append([]int32(nil), pr.Budgets...)
	for _, c := range subset {
		v := pr.Nodes[c.node].Victims[c.index]
		byFarm[v.Farm]++
		if byFarm[v.Farm] > pr.Farms[v.Farm].Overquota {
			return false
		}
		for _, b := range v.Budgets {
			if budgets[b]--; budgets[b] < 0 {
				return false
			}
		}
	}
	return true
}

// evaluate packs the waiting executors around a subset of victims and scores the result.
func evaluate(pr *Problem, usable map[types.NamespacedName]bool, subset []candidate) *exactPlan {
	room := make([]Resources, len(pr.Nodes))
	for n, node := range pr.Nodes {
		room[n] = node.Room.clone()
	}
	p := &exactPlan{subset: subset}
	evicted := map[types.NamespacedName]int32{}
	touched := map[int]bool{}
	for _, c := range subset {
		v := pr.Nodes[c.node].Victims[c.index]
		room[c.node].Add(v.Request)
		evicted[v.Farm]++
		p.priority += int64(v.Priority)
		p.negStarted -= v.Started.Unix()
		if !pr.Nodes[c.node].Leaving && !touched[c.node] {
			touched[c.node] = true
			p.newNodes++
		}
	}
	p.nodeOf, p.placed = pack(pr, room)
	targets := shares(pr, usable, int32(len(subset)))
	for f, n := range evicted {
		p.overShare += int(max(0, n-targets[f]))
	}
	return p
}

// better orders exact plans by Farm's rule.
func (p *exactPlan) better(q *exactPlan) bool {
	if p.placed != q.placed {
		return p.placed > q.placed
	}
	if len(p.subset) != len(q.subset) {
		return len(p.subset) < len(q.subset)
	}
	if p.overShare != q.overShare {
		return p.overShare < q.overShare
	}
	if p.newNodes != q.newNodes {
		return p.newNodes < q.newNodes
	}
	if p.priority != q.priority {
		return p.priority < q.priority
	}
	return p.negStarted < q.negStarted
}

// pack places as many waiting executors as the rooms allow (branch and bound over the serving
// order, a nominated executor trying its node first) and returns each one's node or -1.
func pack(pr *Problem, room []Resources) ([]int, int) {
	order := servingOrder(pr)
	cur := make([]int, len(pr.Waiting))
	best := make([]int, len(pr.Waiting))
	for i := range best {
		best[i], cur[i] = -1, -1
	}
	bestPlaced := -1
	var dfs func(k, placed int) bool
	dfs = func(k, placed int) bool {
		if placed+len(order)-k <= bestPlaced {
			return false
		}
		if k == len(order) {
			bestPlaced = placed
			copy(best, cur)
			return placed == len(order)
		}
		w := pr.Waiting[order[k]]
		nodes := w.Nodes
		if w.Nominated >= 0 {
			nodes = append([]int{w.Nominated}, nodes...)
		}
		for _, n := range nodes {
			if !room[n].covers(w.Request) {
				continue
			}
			room[n].Sub(w.Request)
			cur[order[k]] = n
			done := dfs(k+1, placed+1)
			cur[order[k]] = -1
			room[n].Add(w.Request)
			if done {
				return true
			}
		}
		return dfs(k+1, placed)
	}
	dfs(0, 0)
	return best, max(0, bestPlaced)
}

// plan turns the chosen subset into placements: on each node, the waiting executors placed
// there take its victims in turn, each as many as it still needs.
func (p *exactPlan) plan(pr *Problem, usable map[types.NamespacedName]bool) Plan {
	out := Plan{Evictions: map[types.NamespacedName]int32{}, Exact: true}
	onNode := map[int][]int{}
	for _, c := range p.subset {
		onNode[c.node] = append(onNode[c.node], c.index)
	}
	for _, w := range servingOrder(pr) {
		n := p.nodeOf[w]
		if n < 0 {
			out.Unplaced = append(out.Unplaced, Unplaced{Waiting: w, Reason: unplacedReason(pr, w, func(int, int) bool { return false })})
		}
	}
	room := make([]Resources, len(pr.Nodes))
	for n, node := range pr.Nodes {
		room[n] = node.Room.clone()
	}
	last := map[int]int{}
	for _, w := range servingOrder(pr) {
		n := p.nodeOf[w]
		if n < 0 {
			continue
		}
		req := pr.Waiting[w].Request
		var victims []int
		left := onNode[n]
		sort.Ints(left)
		for len(left) > 0 && !room[n].covers(req) {
			i := left[0]
			left = left[1:]
			room[n].Add(pr.Nodes[n].Victims[i].Request)
			victims = append(victims, i)
		}
		onNode[n] = left
		room[n].Sub(req)
		last[n] = len(out.Placements)
		out.Placements = append(out.Placements, Placement{Waiting: w, Node: n, Victims: victims})
	}
	// Victims no executor needed in turn still made the packing possible: they go with the
	// last executor placed on their node.
	for n, left := range onNode {
		if len(left) > 0 {
			pl := &out.Placements[last[n]]
			pl.Victims = append(pl.Victims, left...)
			sort.Ints(pl.Victims)
		}
	}
	for _, c := range p.subset {
		out.Evictions[pr.Nodes[c.node].Victims[c.index].Farm]++
	}
	out.Shares = shares(pr, usable, int32(len(p.subset)))
	return out
}
