package reclaim

import (
	"sort"

	"k8s.io/apimachinery/pkg/types"
)

// greedy places waiting executors one at a time, each on the node where it costs the fewest
// evictions, and keeps the room every eviction leaves for the next one.
type greedy struct {
	pr *Problem
	// targets steers ties toward farms below their share; nil in the first pass.
	targets map[types.NamespacedName]int32

	room       []Resources
	taken      [][]bool
	touched    []bool
	capLeft    map[types.NamespacedName]int32
	budgetLeft []int32
	evicted    map[types.NamespacedName]int32
}

func newGreedy(pr *Problem, targets map[types.NamespacedName]int32) *greedy {
	g := &greedy{
		pr:         pr,
		targets:    targets,
		room:       make([]Resources, len(pr.Nodes)),
		taken:      make([][]bool, len(pr.Nodes)),
		touched:    make([]bool, len(pr.Nodes)),
		capLeft:    make(map[types.NamespacedName]int32, len(pr.Farms)),
		budgetLeft: append([]int32(nil), pr.Budgets...),
		evicted:    map[types.NamespacedName]int32{},
	}
	for n, node := range pr.Nodes {
		g.room[n] = node.Room.clone()
		g.taken[n] = make([]bool, len(node.Victims))
		g.touched[n] = node.Leaving
	}
	for f, farm := range pr.Farms {
		g.capLeft[f] = farm.Overquota
	}
	return g
}

// option is one way to place a waiting executor: a node and the victims evicted there.
type option struct {
	node    int
	victims []int
	// overShare counts victims taken from farms already at their target (second pass only).
	overShare int
	// quotient sums the victims' farms' proportional claims: higher is fairer.
	quotient float64
	// leftover is the room the node keeps once the executor is placed, summed over dimensions
	// as fractions of the request: among free placements, the tightest fit keeps large rooms
	// for large executors.
	leftover float64
	priority int64
	started  int64
}

// run places every waiting executor it can, nominated ones first (room already made for them
// stays theirs), then the largest first.
func (g *greedy) run() Plan {
	plan := Plan{Evictions: map[types.NamespacedName]int32{}}
	for _, w := range servingOrder(g.pr) {
		best, found := option{}, false
		for _, n := range g.pr.Waiting[w].Nodes {
			if o, ok := g.optionOn(w, n); ok && (!found || g.better(w, o, best)) {
				best, found = o, true
			}
		}
		if !found {
			plan.Unplaced = append(plan.Unplaced, Unplaced{Waiting: w, Reason: g.whyUnplaced(w)})
			continue
		}
		g.apply(w, best)
		plan.Placements = append(plan.Placements, Placement{Waiting: w, Node: best.node, Victims: best.victims})
	}
	for f, n := range g.evicted {
		if n > 0 {
			plan.Evictions[f] = n
		}
	}
	return plan
}

// servingOrder returns the waiting executors' indices: nominated ones first, then by size,
// largest first (big executors are the hardest to fit), then in the order given.
func servingOrder(pr *Problem) []int {
	order := make([]int, len(pr.Waiting))
	for i := range order {
		order[i] = i
	}
	scale := make([]float64, len(pr.Dimensions))
	for _, w := range pr.Waiting {
		for d, q := range w.Request {
			scale[d] = max(scale[d], float64(q))
		}
	}
	size := func(w Waiting) float64 {
		var s float64
		for d, q := range w.Request {
			if scale[d] > 0 {
				s += float64(q) / scale[d]
			}
		}
		return s
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := pr.Waiting[order[i]], pr.Waiting[order[j]]
		if (a.Nominated >= 0) != (b.Nominated >= 0) {
			return a.Nominated >= 0
		}
		return size(a) > size(b)
	})
	return order
}

// optionOn finds the fewest admissible victims on node n whose room, with the node's, fits
// waiting executor w: the victim relieving most of the shortage first, then, as upstream's
// preemption does, every victim that turns out not to be needed is reprieved.
func (g *greedy) optionOn(w, n int) (option, bool) {
	req := g.pr.Waiting[w].Request
	node := g.pr.Nodes[n]
	o := option{node: n}
	short, isShort := g.room[n].shortOf(req)
	if !isShort {
		o.leftover = leftover(g.room[n], req)
		return o, true
	}
	// picked and spent count what this option takes, on top of what earlier placements took.
	picked := map[types.NamespacedName]int32{}
	spent := map[int]int32{}
	allowed := func(v Victim) bool {
		if g.capLeft[v.Farm]-picked[v.Farm] <= 0 {
			return false
		}
		for _, b := range v.Budgets {
			if g.budgetLeft[b]-spent[b] <= 0 {
				return false
			}
		}
		return true
	}
	take := func(v Victim, d int32) {
		picked[v.Farm] += d
		for _, b := range v.Budgets {
			spent[b] += d
		}
	}

	room := g.room[n].clone()
	var chosen []int
	used := make([]bool, len(node.Victims))
	for isShort {
		best := -1
		var bestRelief float64
		for i, v := range node.Victims {
			if used[i] || g.taken[n][i] || !allowed(v) {
				continue
			}
			r := relief(v.Request, short)
			if r == 0 {
				continue
			}
			if best < 0 || r > bestRelief || (r == bestRelief && g.preferVictim(v, node.Victims[best], short, picked)) {
				best, bestRelief = i, r
			}
		}
		if best < 0 {
			return option{}, false
		}
		used[best] = true
		take(node.Victims[best], 1)
		room.Add(node.Victims[best].Request)
		chosen = append(chosen, best)
		short, isShort = room.shortOf(req)
	}
	// Reprieve: put back every victim the others make unneeded, the one most worth keeping first.
	sort.SliceStable(chosen, func(i, j int) bool {
		return g.preferVictim(node.Victims[chosen[j]], node.Victims[chosen[i]], nil, nil)
	})
	kept := chosen[:0]
	for k, i := range chosen {
		v := node.Victims[i]
		room.Sub(v.Request)
		if room.covers(req) {
			take(v, -1)
			continue
		}
		room.Add(v.Request)
		kept = append(kept, chosen[k])
	}
	sort.Ints(kept)
	o.victims = kept
	o.leftover = leftover(room, req)
	seen := map[types.NamespacedName]int32{}
	for _, i := range kept {
		v := node.Victims[i]
		if g.targets != nil && g.evicted[v.Farm]+seen[v.Farm] >= g.targets[v.Farm] {
			o.overShare++
		}
		o.quotient += g.quotient(v.Farm, seen[v.Farm])
		seen[v.Farm]++
		o.priority += int64(v.Priority)
		o.started += v.Started.Unix()
	}
	return o, true
}

// quotient is a farm's claim to lose its next executor, as in a highest-averages apportionment:
// its weight over the executors it already loses for this reclaim, plus one.
func (g *greedy) quotient(f types.NamespacedName, extra int32) float64 {
	farm := g.pr.Farms[f]
	return float64(farm.Overquota+farm.Leaving) / float64(farm.Leaving+g.evicted[f]+extra+1)
}

// preferVictim orders victims of equal relief: a farm below its target first, then the farm
// with the higher proportional claim, then the victim that frees less beyond the shortage (short;
// nil to skip), then lower priority, then the youngest, then by ID. picked counts what the option
// being built already takes from each farm (nil: nothing).
func (g *greedy) preferVictim(a, b Victim, short Resources, picked map[types.NamespacedName]int32) bool {
	if a.Farm != b.Farm {
		ea, eb := g.evicted[a.Farm]+picked[a.Farm], g.evicted[b.Farm]+picked[b.Farm]
		if g.targets != nil {
			ua, ub := ea < g.targets[a.Farm], eb < g.targets[b.Farm]
			if ua != ub {
				return ua
			}
		}
		if qa, qb := g.quotient(a.Farm, picked[a.Farm]), g.quotient(b.Farm, picked[b.Farm]); qa != qb {
			return qa > qb
		}
	}
	if short != nil {
		if xa, xb := excess(a.Request, short), excess(b.Request, short); xa != xb {
			return xa < xb
		}
	}
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	if !a.Started.Equal(b.Started) {
		return a.Started.After(b.Started)
	}
	return a.ID < b.ID
}

// better orders two options for waiting executor w by Farm's rule: fewer evictions; its
// nominated node; fewer victims beyond their farm's share; no new node touched; the fairer
// split; the tightest fit (less evicted beyond the need, and free room kept for larger
// executors); lower priority; the youngest; the earlier node.
func (g *greedy) better(w int, a, b option) bool {
	if len(a.victims) != len(b.victims) {
		return len(a.victims) < len(b.victims)
	}
	if nom := g.pr.Waiting[w].Nominated; (a.node == nom) != (b.node == nom) {
		return a.node == nom
	}
	if a.overShare != b.overShare {
		return a.overShare < b.overShare
	}
	if len(a.victims) > 0 && g.touched[a.node] != g.touched[b.node] {
		return g.touched[a.node]
	}
	if a.quotient != b.quotient {
		return a.quotient > b.quotient
	}
	if len(a.victims) > 0 && a.leftover != b.leftover {
		return a.leftover < b.leftover
	}
	if a.priority != b.priority {
		return a.priority < b.priority
	}
	if a.started != b.started {
		return a.started > b.started
	}
	if a.leftover != b.leftover {
		return a.leftover < b.leftover
	}
	return a.node < b.node
}

// apply commits an option: its victims leave, the waiting executor takes its room.
func (g *greedy) apply(w int, o option) {
	for _, i := range o.victims {
		v := g.pr.Nodes[o.node].Victims[i]
		g.taken[o.node][i] = true
		g.room[o.node].Add(v.Request)
		g.capLeft[v.Farm]--
		g.evicted[v.Farm]++
		for _, b := range v.Budgets {
			g.budgetLeft[b]--
		}
	}
	if len(o.victims) > 0 {
		g.touched[o.node] = true
	}
	g.room[o.node].Sub(g.pr.Waiting[w].Request)
}

// whyUnplaced says why no node fits w, for its PodScheduled condition.
func (g *greedy) whyUnplaced(w int) string {
	return unplacedReason(g.pr, w, func(n, i int) bool { return g.taken[n][i] })
}

// unplacedReason tells apart a waiting executor no node admits, one whose nodes hold no
// admissible victim, and one that those victims cannot make room for.
func unplacedReason(pr *Problem, w int, taken func(node, victim int) bool) string {
	nodes := pr.Waiting[w].Nodes
	switch {
	case len(pr.Nodes) == 0:
		return "no admissible victim on any node"
	case len(nodes) == 0:
		return "the nodes holding admissible victims do not admit it (node selector, affinity, taints)"
	}
	for _, n := range nodes {
		for i, v := range pr.Nodes[n].Victims {
			if !taken(n, i) {
				if f, ok := pr.Farms[v.Farm]; ok && f.Overquota > 0 {
					return "the admissible victims on the nodes it may use do not make enough room (allowed losses, PodDisruptionBudgets and sizes considered)"
				}
			}
		}
	}
	return "no admissible victim on the nodes it may use"
}

// leftover sums, over the dimensions the request asks for, the room left after placing it, as
// fractions of the request.
func leftover(room, req Resources) float64 {
	var s float64
	for d, q := range req {
		if q > 0 {
			s += float64(room[d]-q) / float64(q)
		}
	}
	return s
}
