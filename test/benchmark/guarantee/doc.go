// Package guarantee measures how fast a tenant below its minimum gets its guarantee back on a
// cluster that a borrower has filled, and how many executors that costs the borrower: the time
// from submission until the tenant's minimum executors are Running, whether they run at all
// within a minute (and, when not, whether they wait for admission or for a node), evictions per
// needed executor (Farm's must be exactly 1.00), and the share of the cluster the borrower could
// fill at all. Farm, CapacityScheduling and Kueue (package contender) run the same scenarios on
// the test harness's control plane: minimums that fill the cluster, a borrower without a minimum
// (CapacityScheduling's rule on the sum of minimums; Kueue lends only unused nominal quota unless
// its cohort holds the rest), and evicted executors that take a grace period to go.
// BenchmarkMixedSizeReclaim does the same with executors of 1, 2 and 4 CPUs.
//
// BenchmarkReclaimFootprint measures what Farm's packing scorer is for: on how many nodes a
// reclaim evicts, with the shipped profile and with Farm's Score disabled.
//
// `make bench` runs the benchmarks; `make test` runs a small smoke version.
package guarantee
