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
}

// DriverSelector selects driver pods by one label.
type DriverSelector struct {
	LabelKey   string `json:"labelKey"`
	LabelValue string `json:"labelValue"`
}
