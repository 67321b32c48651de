// Package farm is the Farm scheduler plugin: kube-scheduler framework extension points that map
// each pod to the Farm that owns it and apply Farm's guarantees. Every count comes from
// package quota; this package only adapts the framework to it.
package farm
