package quota

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Type is a farm type: Farms with the same executor label key and value hold executors of the
// same kind, and only they may reclaim executors from each other.
type Type struct {
	LabelKey   string
	LabelValue string
}

// TypeOf returns the farm type of a Farm.
func TypeOf(farm *farmv1alpha1.Farm) Type {
	return Type{LabelKey: farm.Spec.LabelKey, LabelValue: farm.Spec.LabelValue}
}

// String renders the type as its label selector, e.g. "spark-role=executor".
func (t Type) String() string {
	return t.LabelKey + "=" + t.LabelValue
}

// Key identifies a Farm; its String form, namespace/name, keys the FarmManager status maps.
func Key(farm *farmv1alpha1.Farm) types.NamespacedName {
	return types.NamespacedName{Namespace: farm.Namespace, Name: farm.Name}
}

// Selects reports whether pod is one of farm's executors by the Farm's selector: same namespace
// and the label key set to the label value. It does not settle ownership when Farms overlap;
// Owner does.
func Selects(farm *farmv1alpha1.Farm, pod *corev1.Pod) bool {
	if farm.Namespace != pod.Namespace {
		return false
	}
	v, ok := pod.Labels[farm.Spec.LabelKey]
	return ok && v == farm.Spec.LabelValue
}

// SameSelector reports whether two Farms select exactly the same pods.
func SameSelector(a, b *farmv1alpha1.Farm) bool {
	return a.Namespace == b.Namespace && TypeOf(a) == TypeOf(b)
}

// Older reports whether Farm a takes precedence over Farm b when both select a pod: the older one
// by creation time; for equal times (the API server keeps whole seconds) the smaller namespace,
// then the smaller name. The order is total so scheduler and controller always pick the same owner.
func Older(a, b *farmv1alpha1.Farm) bool {
	ta, tb := a.CreationTimestamp, b.CreationTimestamp
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// Owner returns the Farm that owns pod among farms, or nil when none selects it: of the Farms
// that select it, the oldest.
func Owner(farms []*farmv1alpha1.Farm, pod *corev1.Pod) *farmv1alpha1.Farm {
	var owner *farmv1alpha1.Farm
	for _, f := range farms {
		if Selects(f, pod) && (owner == nil || Older(f, owner)) {
			owner = f
		}
	}
	return owner
}

// LimitsOf reads a Farm's guarantee and ceiling from its spec.
func LimitsOf(farm *farmv1alpha1.Farm) Limits {
	return Limits{Min: farm.Spec.MinExecutors, Max: farm.Spec.MaxExecutors}
}
