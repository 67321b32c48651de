// Package sidebyside measures the scheduling throughput of the contenders' built binaries on one
// control plane: kube-scheduler's default plugins (stock), farm-scheduler with the shipped
// configuration, and scheduler-plugins' CapacityScheduling, each given the same executors of 20
// tenants with guarantees to place on the same nodes. It complements the scheduler_perf
// benchmark (package throughput), which can only run plugins built with this module's
// Kubernetes version.
//
// `make bench` runs the benchmark; `make test` runs a small smoke version.
package sidebyside
