// Package harness runs Farm against a real control plane started from Go code: embedded etcd and
// kube-apiserver in this process, the Farm CRDs installed from manifests/crds, simulated nodes and
// a kubelet stand-in, and farm-scheduler and farm-controller either in-process (the same setup
// path as the binaries) or as the built binaries.
//
// Integration tests, the demo and the benchmarks all use it, so they all exercise the same parts.
//
// Nodes are plain Node objects and a small in-process kubelet stand-in plays their kubelets: it
// admits bound pods as a kubelet does, Running if they fit in the node's allocatable beside the
// pods it runs and Failed (OutOfcpu, OutOfmemory, ...) if not, and completes deletions once their
// grace period has passed, as a kubelet does for a container that exits on its deadline. That is
// all Farm needs, it honours each pod's own grace period (Spark decommissioning depends on it), and
// it adds no process or download; kwok would do the same as a separate binary with its own
// configuration.
package harness
