// Package quota is the one definition of Farm's counting rules: which pods are a farm's executors,
// which of them are assigned, running, pending or in error (overlapping counts, Usage) and the one
// stage each is in (a partition, Stage, for metrics that add up), how far a farm is over or under
// its minimum, how much guaranteed demand it has, and which Farm owns a pod that two Farms select.
//
// The scheduler plugin and the controller both call this package and nothing else re-implements a
// count, so they can never disagree. It is pure: no client, no informer, no clock.
package quota
