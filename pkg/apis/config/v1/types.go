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

	// Drivers are the labels of pods that start a tenant's executors: a Spark driver
	// (spark-role=driver, which Spark sets), or the notebook that is one (a label the admin
	// chooses, e.g. component=singleuser-server for JupyterHub). Such a pod, for farm-scheduler in
	// the namespace of a Farm below its minimum, may reclaim room for itself as a guaranteed
	// executor does. Default: [{labelKey: spark-role, labelValue: driver}]; [] for none.
	// +optional
	Drivers []DriverSelector `json:"drivers,omitempty"`
	// MaxReclaimingDrivers is how many drivers of one farm may reclaim, counting the farm's
	// drivers that already run, so a tenant cannot borrow through drivers. 0 turns driver reclaim
	// off. Default 1.
	// +optional
	MaxReclaimingDrivers *int32 `json:"maxReclaimingDrivers,omitempty"`
	// MinimumRuntime protects young borrowed executors: one that has run less than this is a
	// victim only when no older admissible victim would do. Default 0 (off).
	// +optional
	MinimumRuntime *metav1.Duration `json:"minimumRuntime,omitempty"`
	// ThrashingReclaims: a farm whose borrowed executors are taken back in more than this many
	// separate reclaims within ThrashingWindow gets the Thrashing condition (borrowing, losing,
	// borrowing again: work thrown away each time). 0 turns the condition off. Default 3.
	// +optional
	ThrashingReclaims *int32 `json:"thrashingReclaims,omitempty"`
	// ThrashingWindow is the window ThrashingReclaims counts in. Default 10m.
	// +optional
	ThrashingWindow *metav1.Duration `json:"thrashingWindow,omitempty"`
	// BorrowCooldown keeps a farm that just lost borrowed executors to a reclaim from borrowing
	// again for this long: its pods beyond its minimum wait. Default 0 (off).
	// +optional
	BorrowCooldown *metav1.Duration `json:"borrowCooldown,omitempty"`
}

// DriverSelector selects driver pods by one label.
type DriverSelector struct {
	LabelKey   string `json:"labelKey"`
	LabelValue string `json:"labelValue"`
}
