package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FarmManagerSpec names a farm type: every Farm with the same label key and value.
type FarmManagerSpec struct {
	// LabelKey is the executor label key of the farm type, for example spark-role.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="!format.qualifiedName().validate(self).hasValue()",message="must be a valid label key: an optional DNS subdomain prefix and '/', then a name of at most 63 alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric"
	LabelKey string `json:"labelKey"`
	// LabelValue is the executor label value of the farm type, for example executor.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="!format.labelValue().validate(self).hasValue()",message="must be a valid label value: empty, or at most 63 alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric"
	LabelValue string `json:"labelValue"`
}

// FarmManagerStatus reports every Farm of the type, keyed namespace/name, with the original
// operator's map names.
type FarmManagerStatus struct {
	// Overquota is each farm's assigned executors beyond its minimum.
	// +optional
	Overquota map[string]int32 `json:"overquota,omitempty"`
	// Underquota is each farm's shortfall below its minimum.
	// +optional
	Underquota map[string]int32 `json:"underquota,omitempty"`
	// Pending is each farm's executors not yet bound to a node.
	// +optional
	Pending map[string]int32 `json:"pending,omitempty"`
	// Tobescaledown is each farm's executors being reclaimed.
	// +optional
	Tobescaledown map[string]int32 `json:"tobescaledown,omitempty"`

	// Farms is the number of Farms of this type. The counts are always written, zero included,
	// so that `kubectl get farmmanagers` shows 0 rather than an empty column.
	// +optional
	Farms int32 `json:"farms"`
	// TotalOverquota sums Overquota.
	// +optional
	TotalOverquota int32 `json:"totalOverquota"`
	// TotalUnderquota sums Underquota.
	// +optional
	TotalUnderquota int32 `json:"totalUnderquota"`
	// TotalPending sums Pending.
	// +optional
	TotalPending int32 `json:"totalPending"`
	// TotalTobescaledown sums Tobescaledown.
	// +optional
	TotalTobescaledown int32 `json:"totalTobescaledown"`
	// ObservedGeneration is the spec generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions report the manager's own state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FarmManager reports on every Farm of one farm type (same executor label key and value).
// It is observability only: scheduling never depends on it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=fm,categories=farm-scheduler
// +kubebuilder:printcolumn:name="Label Key",type=string,JSONPath=".spec.labelKey"
// +kubebuilder:printcolumn:name="Label Value",type=string,JSONPath=".spec.labelValue"
// +kubebuilder:printcolumn:name="Farms",type=integer,JSONPath=".status.farms"
// +kubebuilder:printcolumn:name="Overquota",type=integer,JSONPath=".status.totalOverquota"
// +kubebuilder:printcolumn:name="Underquota",type=integer,JSONPath=".status.totalUnderquota"
// +kubebuilder:printcolumn:name="Pending",type=integer,JSONPath=".status.totalPending"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type FarmManager struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FarmManagerSpec `json:"spec"`
	// +optional
	Status FarmManagerStatus `json:"status,omitempty"`
}

// FarmManagerList is a list of FarmManagers.
//
// +kubebuilder:object:root=true
type FarmManagerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FarmManager `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FarmManager{}, &FarmManagerList{})
}
