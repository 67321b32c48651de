// Package controller measures farm-controller at scale on the test harness's control plane: how
// fresh Farm status is after an executor changes (p50, p99), how many Farm and FarmManager writes
// it makes per minute when nothing changes (it should make none), and its peak memory, with
// 10,000 executors in 30 farms. It runs the built binary.
//
// `make bench` runs the benchmark; `make test` runs a small smoke version.
package controller
