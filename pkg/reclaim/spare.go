package reclaim

import (
	"math"
	"time"
)

// SolveWithMinimumRuntime plans with a minimum runtime: executors younger than it at now are
// victims only when no plan without them places as many waiting executors (SolveSparing). A
// minimum of zero or less plans as Solve does.
func SolveWithMinimumRuntime(pr *Problem, minimum time.Duration, now time.Time) Plan {
	if minimum <= 0 {
		return Solve(pr)
	}
	return SolveSparing(pr, func(v Victim) bool {
		return !v.Started.IsZero() && now.Sub(v.Started) < minimum
	})
}

// SolveSparing plans as Solve does, but takes a victim spare reports (an executor younger than a
// minimum runtime, say) only when no plan without such victims places as many waiting
// executors: spared victims are the last resort, not the first choice.
func SolveSparing(pr *Problem, spare func(Victim) bool) Plan {
	full := Solve(pr)
	reduced, originals, spared := without(pr, spare)
	if !spared {
		return full
	}
	plan := Solve(reduced)
	if len(plan.Placements) < len(full.Placements) {
		// Spared victims are needed: still the last ones taken where an older one does as well.
		return Solve(deprioritized(pr, spare))
	}
	// The plan's victim indices are the reduced nodes'; give them back the problem's.
	for i := range plan.Placements {
		pl := &plan.Placements[i]
		for j, v := range pl.Victims {
			pl.Victims[j] = originals[pl.Node][v]
		}
	}
	return plan
}

// without returns the problem with the spared victims removed, the index in pr of each victim
// left, by node, and whether any victim was spared.
func without(pr *Problem, spare func(Victim) bool) (*Problem, [][]int, bool) {
	reduced := *pr
	reduced.Nodes = make([]Node, len(pr.Nodes))
	originals := make([][]int, len(pr.Nodes))
	spared := false
	for n, node := range pr.Nodes {
		kept := node
		kept.Victims = make([]Victim, 0, len(node.Victims))
		for i, v := range node.Victims {
			if spare(v) {
				spared = true
				continue
			}
			kept.Victims = append(kept.Victims, v)
			originals[n] = append(originals[n], i)
		}
		reduced.Nodes[n] = kept
	}
	return &reduced, originals, spared
}

// deprioritized returns the problem with the spared victims ranked last among victims of equal
// use (Priority orders them, lower first).
func deprioritized(pr *Problem, spare func(Victim) bool) *Problem {
	out := *pr
	out.Nodes = make([]Node, len(pr.Nodes))
	for n, node := range pr.Nodes {
		out.Nodes[n] = node
		out.Nodes[n].Victims = make([]Victim, len(node.Victims))
		for i, v := range node.Victims {
			if spare(v) {
				v.Priority = math.MaxInt32
			}
			out.Nodes[n].Victims[i] = v
		}
	}
	return &out
}
