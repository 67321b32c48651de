// Package v1 is the versioned form of the Farm plugin's arguments, as written in a
// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1, kind FarmArgs).
//
// +kubebuilder:object:generate=true
package v1
