package v1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	configv1 "k8s.io/kube-scheduler/config/v1"
)

// SchemeGroupVersion is kubescheduler.config.k8s.io/v1.
var SchemeGroupVersion = schema.GroupVersion{Group: configv1.GroupName, Version: "v1"}

var (
	// localSchemeBuilder extends kube-scheduler's v1 builder, as its in-tree defaults and
	// conversions do.
	localSchemeBuilder = &configv1.SchemeBuilder
	// AddToScheme registers the v1 FarmArgs with its defaults and conversions.
	AddToScheme = localSchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion, &FarmArgs{})
	return nil
}

func init() {
	localSchemeBuilder.Register(addKnownTypes, addDefaultingFuncs, addConversionFuncs)
}
