// Package guarantee measures how fast a tenant below its minimum gets its guarantee back on a
// cluster that borrowers have filled, and how many executors that costs the borrowers: the time
// from submission until the tenant's minimum executors are Running (grace period 0,
// scaledownAfterNTriggers 1), and evictions per needed executor, which must be exactly 1.00.
//
// It runs farm-scheduler's built binary with the shipped configuration on the test harness's
// control plane. `make bench` runs the benchmark; `make test` runs a small smoke version.
package guarantee
