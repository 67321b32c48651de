// Package preview answers "what if this farm asked for N more executors now?" from a copy of the
// cluster's objects: which farms would lose how many executors on which nodes, after how many
// hysteresis triggers, or why the guarantee could not be met. It plans with farm-scheduler's own
// rules (package quota counts, package input reads the nodes, package reclaim plans), and
// changes nothing: kubectl farm what-if prints its Result.
//
// Where it may differ from the scheduler: it plans on every node that admits the executors
// (the scheduler bounds the nodes it looks at on large clusters, so it may pick other nodes for
// the same counts), it sees resources, node selectors, required node affinity and taints but
// not the other filters (host ports, volumes, inter-pod affinity), and it cannot see the
// scheduler's in-memory state: evictions requested a moment ago that do not show yet, and
// refusals of the last trigger interval.
package preview
