// Package soak runs Farm for a long time under a seeded, randomized workload on a real control
// plane — tenants whose jobs come and go, executors of mixed sizes and node pools, Spark-like
// drivers that replace what they lose, a PodDisruptionBudget, notebooks placed by the cluster's
// default scheduler on the same nodes, and the scheduler leader killed now and then — while a
// Checker watches every eviction and every guarantee.
//
// `make test` runs a short seed; `make soak` runs until a thousand executors have been reclaimed.
package soak
