package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bounds of a Farm's spec; the validation markers below carry the same numbers, and the API
// server enforces them. Clients that validate before they write (kubectl farm) use these.
const (
	// MaxExecutorsBound bounds minExecutors and maxExecutors.
	MaxExecutorsBound = 1_000_000
	// MaxScaledownTriggers bounds scaledownAfterNTriggers.
	MaxScaledownTriggers = 10_000
)

// FarmSpec selects a tenant's executor pods and states its guarantee.
//
// +kubebuilder:validation:XValidation:rule="self.maxExecutors == 0 || self.maxExecutors >= self.minExecutors",message="must be 0 (no ceiling) or at least minExecutors",fieldPath=".maxExecutors",reason=FieldValueInvalid
type FarmSpec struct {
	// LabelKey is the label key that marks this farm's executor pods in the Farm's namespace,
	// for example spark-role.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="!format.qualifiedName().validate(self).hasValue()",message="must be a valid label key: an optional DNS subdomain prefix and '/', then a name of at most 63 alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric"
	LabelKey string `json:"labelKey"`

	// LabelValue is the value of LabelKey that marks an executor, for example executor.
	// Farms with the same LabelKey and LabelValue are of the same farm type and may reclaim
	// executors from each other.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="!format.labelValue().validate(self).hasValue()",message="must be a valid label value: empty, or at most 63 alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric"
	LabelValue string `json:"labelValue"`

	// MinExecutors is the guarantee: executors this farm gets back, by reclaim from farms over
	// their own minimum, when it is below it and waiting. At most 1,000,000: more executors than
	// any cluster runs, far from the int32 range that older apiservers let through unchecked.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	MinExecutors int32 `json:"minExecutors"`

	// MaxExecutors is the ceiling on executors; 0 means none. Lowering it below the running count
	// scales the farm down. At most 1,000,000. Farm has no scale subresource: there, replicas 0
	// would lift the ceiling, the opposite of what scaling to zero means everywhere else.
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	MaxExecutors int32 `json:"maxExecutors"`

	// ScaledownAfterNTriggers is how many consecutive reclaim triggers this farm withstands before
	// it loses executors; 0 and 1 both mean at once. At most 10,000 (nearly three hours at the
	// default one-second trigger interval).
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	ScaledownAfterNTriggers int32 `json:"scaledownAfterNTriggers"`
}

// ReclaimRecord is one reclaim as a farm saw it: executors taken from it, or for it.
type ReclaimRecord struct {
	// Time is when the reclaim's evictions were made (the end of the trigger interval they fell in).
	Time metav1.Time `json:"time"`
	// Executors is how many executors were evicted.
	Executors int32 `json:"executors"`
	// Farms are the other side, namespace/name: the farms executors were taken for, or from.
	// +listType=set
	Farms []string `json:"farms"`
	// Summary says it in a line, e.g. "3 executors for bob/bob".
	Summary string `json:"summary"`
}

// FarmStatus is the observed state of a Farm. The first six counters keep the original operator's
// names, so existing dashboards keep working.
type FarmStatus struct {
	// AllExecutors counts every pod this farm owns, in any phase.
	// +optional
	AllExecutors int32 `json:"allExecutors"`
	// RunningExecutors counts executors in phase Running that are not terminating.
	// +optional
	RunningExecutors int32 `json:"runningExecutors"`
	// PendingExecutors counts executors not yet bound to a node.
	// +optional
	PendingExecutors int32 `json:"pendingExecutors"`
	// ErrorExecutors counts executors in phase Failed.
	// +optional
	ErrorExecutors int32 `json:"errorExecutors"`
	// Overquota is how many assigned executors exceed MinExecutors: the executors this farm
	// borrows, and the most a reclaim may take from it.
	// +optional
	Overquota int32 `json:"overquota"`
	// ScaledownTriggered counts consecutive reclaim triggers against this farm (hysteresis).
	// +optional
	ScaledownTriggered int32 `json:"scaledownTriggered"`

	// ReclaimingExecutors counts executors being evicted by a reclaim, still terminating.
	// Always written, so that kubectl get shows 0 rather than an empty column.
	// +optional
	ReclaimingExecutors int32 `json:"reclaimingExecutors"`
	// LastReclaimTime is when an executor of this farm was last marked for reclaim.
	// +optional
	LastReclaimTime *metav1.Time `json:"lastReclaimTime,omitempty"`
	// LastReclaimedFrom is the last reclaim that took this farm's borrowed executors: when, how
	// many, for which farms. Written by farm-scheduler, one record per trigger interval.
	// +optional
	LastReclaimedFrom *ReclaimRecord `json:"lastReclaimedFrom,omitempty"`
	// LastReclaimedFor is the last reclaim that took borrowed executors back for this farm's
	// guarantee: when, how many, from which farms. Written by farm-scheduler.
	// +optional
	LastReclaimedFor *ReclaimRecord `json:"lastReclaimedFor,omitempty"`

	// Selector is the label selector of this farm's executors (kubectl get farms -o wide).
	// +optional
	Selector string `json:"selector,omitempty"`
	// ObservedGeneration is the spec generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are GuaranteeMet, Borrowing, Reclaiming and Conflict.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Condition types of a Farm's status, written by farm-controller.
const (
	// FarmGuaranteeMet is False while the farm is below its minimum with executors waiting.
	FarmGuaranteeMet = "GuaranteeMet"
	// FarmBorrowing is True while the farm holds executors beyond its minimum.
	FarmBorrowing = "Borrowing"
	// FarmReclaiming is True while executors of the farm are being reclaimed.
	FarmReclaiming = "Reclaiming"
	// FarmConflict is True when an older Farm selects the same executors and owns them.
	FarmConflict = "Conflict"
)

// FarmThrashing is the condition farm-scheduler writes (farm-controller leaves it alone): True
// while the farm's borrowed executors are reclaimed over and over (borrowed, reclaimed,
// borrowed again, each time throwing their work away).
const FarmThrashing = "Thrashing"

// Farm guarantees a tenant MinExecutors executor pods and lets it borrow idle capacity beyond
// that, up to MaxExecutors.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=fa,categories=farm-scheduler
// +kubebuilder:printcolumn:name="Min",type=integer,JSONPath=".spec.minExecutors",description="The guarantee: executors this farm gets back by reclaim while it is below it and waiting"
// +kubebuilder:printcolumn:name="Max (0=none)",type=integer,JSONPath=".spec.maxExecutors",description="The ceiling on this farm's executors; 0 means no ceiling"
// +kubebuilder:printcolumn:name="Running",type=integer,JSONPath=".status.runningExecutors",description="Executors running and not terminating"
// +kubebuilder:printcolumn:name="Pending",type=integer,JSONPath=".status.pendingExecutors",description="Executors not yet bound to a node"
// +kubebuilder:printcolumn:name="Borrowed",type=integer,JSONPath=".status.overquota",description="Assigned executors beyond the minimum (status.overquota): idle capacity lent to this farm, which a reclaim may take back"
// +kubebuilder:printcolumn:name="Reclaiming",type=integer,JSONPath=".status.reclaimingExecutors",description="Executors being evicted for another farm's guarantee, still terminating"
// +kubebuilder:printcolumn:name="Guarantee Met",type=string,JSONPath=`.status.conditions[?(@.type=="GuaranteeMet")].status`,description="The GuaranteeMet condition: False while the farm is below its minimum with executors waiting; empty until farm-controller has reported"
// +kubebuilder:printcolumn:name="Triggered",type=integer,JSONPath=".status.scaledownTriggered",priority=1,description="Consecutive reclaim triggers against this farm, towards scaledownAfterNTriggers"
// +kubebuilder:printcolumn:name="Last Reclaim",type=date,JSONPath=".status.lastReclaimTime",priority=1,description="When an executor of this farm was last marked for reclaim"
// +kubebuilder:printcolumn:name="Reclaimed From It",type=string,JSONPath=".status.lastReclaimedFrom.summary",priority=1,description="The last reclaim that took this farm's borrowed executors: how many, for whom"
// +kubebuilder:printcolumn:name="Reclaimed For It",type=string,JSONPath=".status.lastReclaimedFor.summary",priority=1,description="The last reclaim made for this farm's guarantee: how many, from whom"
// +kubebuilder:printcolumn:name="Selector",type=string,JSONPath=".status.selector",priority=1,description="The label selector of this farm's executors"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type Farm struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FarmSpec `json:"spec"`
	// +optional
	Status FarmStatus `json:"status,omitempty"`
}

// FarmList is a list of Farms.
//
// +kubebuilder:object:root=true
type FarmList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Farm `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Farm{}, &FarmList{})
}
