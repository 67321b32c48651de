package config

import (
	"k8s.io/apimachinery/pkg/runtime"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
)

// SchemeGroupVersion is kube-scheduler's internal configuration version.
var SchemeGroupVersion = schedconfig.SchemeGroupVersion

var (
	// localSchemeBuilder extends kube-scheduler's own builder, so every scheme it builds, including
	// the one it converts plugin arguments with, knows FarmArgs.
	localSchemeBuilder = &schedconfig.SchemeBuilder
	// AddToScheme registers the internal FarmArgs.
	AddToScheme = localSchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion, &FarmArgs{})
	return nil
}

func init() {
	localSchemeBuilder.Register(addKnownTypes)
}
