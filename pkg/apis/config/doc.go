// Package config holds the internal type of the Farm plugin's arguments, registered in
// kube-scheduler's configuration API group as the in-tree plugins' arguments are, so that a
// KubeSchedulerConfiguration decodes, defaults and validates them.
//
// +kubebuilder:object:generate=true
package config
