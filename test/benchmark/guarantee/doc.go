// Package guarantee measures how fast a tenant below its minimum gets its guarantee back on a
// cluster that a borrower has filled, and how many executors that costs the borrower: the time
// from submission until the tenant's minimum executors are Running, whether they run at all
// within a minute, and evictions per needed executor (Farm's must be exactly 1.00). Farm and
// CapacityScheduling (package contender) run the same scenarios on the test harness's control
// plane: minimums that fill the cluster, a borrower without a minimum (CapacityScheduling's rule
// on the sum of minimums), and evicted executors that take a grace period to go.
//
// BenchmarkReclaimFootprint measures what Farm's packing scorer is for: on how many nodes a
// reclaim evicts, with the shipped profile and with Farm's Score disabled.
//
// `make bench` runs the benchmark; `make test` runs a small smoke version.
package guarantee
