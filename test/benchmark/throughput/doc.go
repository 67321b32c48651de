// Package throughput measures farm-scheduler's scheduling throughput on kube-scheduler's own
// benchmark harness, scheduler_perf (k8s.io/kubernetes/test/integration/scheduler_perf), with
// the Farm plugin in the harness's out-of-tree registry.
//
// The workloads (testdata/performance-config.yaml) follow upstream's SchedulingBasic: nodes,
// some executors already running, then measured executors, here spread over 20 farms. Each runs
// once with the stock kube-scheduler profile and once with farm-scheduler's shipped profile, in
// the same run, so the two throughputs can be compared as a ratio; at 2,000 nodes, once more with
// the farm profile without Farm's packing scorer (FarmWithoutScore), to show what the scorer
// costs, and with the stock profile given the shipped profile's settings of the in-tree plugins
// (StockBatching), which let kube-scheduler batch executors, to tell what batching gives from
// what Farm costs. Each workload writes how many of its scheduling cycles were batched to
// standard error. Another workload keeps farms borrowing the whole cluster and reclaiming it for farms
// below their minimum, in two rounds.
//
// Run it with `make bench`, which runs the stock and the farm workload of each size back to back,
// or pick workloads by name, for example:
//
//	go test -run '^$' -bench 'BenchmarkPerfScheduling/^(Stock|Farm)$/500Nodes_' -benchtime 1x ./test/benchmark/throughput/
//
// `make test` runs the small cases labelled integration-test and short through the same code
// path (TestSmoke): Farm's and Reclaim's. The other profiles' small cases are labelled short
// only: they run Farm's operations under configurations that config_test.go checks, and each
// workload costs a control plane of its own. scheduler_perf starts a fresh etcd for every workload from an `etcd` binary
// on PATH; the test binary provides it itself (see TestMain).
package throughput
