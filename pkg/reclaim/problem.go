package reclaim

import (
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Resources is an amount of each dimension of a Problem (Problem.Dimensions): milli-CPU, bytes,
// a number of pods. Only the dimensions waiting executors request matter to whether they fit.
type Resources []int64

// Problem is everything a plan is made from: the waiting executors of one farm type, the nodes
// they may use with the room each has and the victims each holds, the victim farms' limits and
// the PodDisruptionBudgets' allowances.
type Problem struct {
	// Dimensions names the resources in every Resources of the problem, e.g. cpu, memory, pods.
	Dimensions []string
	// Waiting are the executors the guarantees cover, in the order they are served: for a given
	// set of victims, an earlier one is placed before a later one when not all fit. How many are
	// placed, and with how few evictions, come before that order: a plan may leave an earlier
	// executor unplaced if that places as many with fewer evictions.
	Waiting []Waiting
	Nodes   []Node
	// Farms holds every farm with victims; a victim of a farm absent here is not admissible.
	Farms map[types.NamespacedName]Farm
	// Budgets is how many more disruptions each PodDisruptionBudget allows; victims refer to
	// them by index.
	Budgets []int32
}

// Waiting is an executor of a farm below its minimum that fits nowhere now.
type Waiting struct {
	// ID names it in the plan, e.g. namespace/name.
	ID      string
	Request Resources
	// Nodes are the indices of the nodes it may use once room is made there: those whose node
	// selector, required affinity and taints admit it.
	Nodes []int
	// Nominated is the node it was nominated to by an earlier reclaim, or -1. Room made for it
	// there is its own: it keeps that node when the node still fits it.
	Nominated int
}

// Node is a node as a reclaim sees it.
type Node struct {
	Name string
	// Room is what the node has free for the waiting executors: allocatable, less what its pods
	// request, plus what executors already leaving it will free, less what other pods nominated
	// to it have claimed.
	Room Resources
	// Leaving reports that executors already leave this node for a reclaim: touching it again
	// touches no new node.
	Leaving bool
	// Victims are the admissible executors on the node.
	Victims []Victim
}

// Victim is a borrowed executor a reclaim may evict.
type Victim struct {
	// ID names it in the plan, e.g. namespace/name.
	ID      string
	Farm    types.NamespacedName
	Request Resources
	// Priority and Started order victims of equal use: lower priority first, then the youngest.
	Priority int32
	Started  time.Time
	// Budgets are the indices of the PodDisruptionBudgets that cover it: it may be evicted only
	// while each of them allows one more disruption.
	Budgets []int
}

// Farm is a victim farm's standing in the reclaim.
type Farm struct {
	// Overquota is how many more executors the farm may lose without going below its minimum.
	Overquota int32
	// Leaving is how many of its executors already leave for this reclaim; with Overquota it
	// weighs the farm's share, so the split holds as the reclaim proceeds pod by pod.
	Leaving int32
}
