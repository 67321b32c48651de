// Package farm is the Farm scheduler plugin: kube-scheduler framework extension points that map
// each pod to the Farm that owns it and apply Farm's guarantees. Every count comes from package
// quota and every reclaim plan from package reclaim; this package gathers what they need from the
// scheduler's snapshot and the farm cache, and acts on their answers through upstream's
// preemption evaluator.
package farm
