package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FarmArgs configure the Farm plugin.
//
// +kubebuilder:object:root=true
type FarmArgs struct {
	metav1.TypeMeta `json:",inline"`

	// TriggerInterval spaces a farm's reclaim triggers: a farm over its minimum loses executors
	// after scaledownAfterNTriggers triggers, one per interval, and a waiting guaranteed pod is
	// retried on the same cadence. Default 1s.
	// +optional
	TriggerInterval *metav1.Duration `json:"triggerInterval,omitempty"`
}
