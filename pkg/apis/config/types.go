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

	// Drivers are the labels of pods that start a tenant's executors: a Spark driver, or the
	// notebook that is one. Such a pod, for farm-scheduler in the namespace of a Farm below its
	// minimum, may reclaim room for itself as a guaranteed executor does: without it running, no
	// executor would ever ask.
	Drivers []DriverSelector
	// MaxReclaimingDrivers is how many drivers of one farm may reclaim; drivers of the farm that
	// already run count. 0 turns driver reclaim off.
	MaxReclaimingDrivers int32
	// MinimumRuntime protects young borrowed executors: one younger than this is a victim only
	// when no older admissible victim would do. 0 turns it off.
	MinimumRuntime metav1.Duration
	// ThrashingReclaims and ThrashingWindow: a farm whose borrowed executors are reclaimed in more
	// than ThrashingReclaims separate reclaims within ThrashingWindow is Thrashing. 0 turns it off.
	ThrashingReclaims int32
	ThrashingWindow   metav1.Duration
	// BorrowCooldown keeps a farm that just lost borrowed executors from borrowing again for this
	// long. 0 (off) lets it borrow at once.
	BorrowCooldown metav1.Duration
}

// DriverSelector selects driver pods by one label.
type DriverSelector struct {
	LabelKey   string
	LabelValue string
}
