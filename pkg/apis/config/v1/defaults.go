package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// DefaultTriggerInterval is one second: short enough that a guaranteed pod waits about
// scaledownAfterNTriggers seconds, long enough that a burst of pods counts as one trigger.
const DefaultTriggerInterval = time.Second

// SetDefaults_FarmArgs fills in unset fields.
func SetDefaults_FarmArgs(obj *FarmArgs) {
	if obj.TriggerInterval == nil {
		obj.TriggerInterval = &metav1.Duration{Duration: DefaultTriggerInterval}
	}
}

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	scheme.AddTypeDefaultingFunc(&FarmArgs{}, func(obj any) { SetDefaults_FarmArgs(obj.(*FarmArgs)) })
	return nil
}
