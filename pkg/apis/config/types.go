package config

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FarmArgs configure the Farm plugin.
//
// +kubebuilder:object:root=true
type FarmArgs struct {
	metav1.TypeMeta

	// TriggerInterval spaces a farm's reclaim triggers: a farm over its minimum loses executors
	// after scaledownAfterNTriggers triggers, one per interval, and a waiting guaranteed pod is
	// retried on the same cadence.
	TriggerInterval metav1.Duration
}
