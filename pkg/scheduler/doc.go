// Package scheduler assembles farm-scheduler: kube-scheduler with Farm's plugins registered. The
// binary and the in-process scheduler of the tests and the demo both register plugins here, so
// they run the same code.
package scheduler
