// Package kueue is a module of its own that pins Kueue (sigs.k8s.io/kueue v0.17.0), the second
// elastic quota peer Farm is measured against in docs/benchmarks.md. It holds no code: its go.mod
// names Kueue's manager, sigs.k8s.io/kueue/cmd/kueue, as a tool, which the benchmarks build
// unchanged with
//
//	go tool -n kueue
//
// run in this directory (package contender does it once per test process; the command prints
// the path of the binary in the build cache). Kueue is built on Kubernetes 0.35 libraries and
// controller-runtime 0.23, which is why it does not live in Farm's module (Kubernetes 0.37,
// controller-runtime 0.25); the CRDs and webhook configurations the benchmarks install come from
// the same module version, under config/components.
package kueue
