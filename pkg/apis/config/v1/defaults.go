package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// DefaultTriggerInterval is one second: short enough that a guaranteed pod waits about
// scaledownAfterNTriggers seconds, long enough that a burst of pods counts as one trigger.
const DefaultTriggerInterval = time.Second

// DefaultDriver is the label Spark gives its driver pods.
var DefaultDriver = DriverSelector{LabelKey: "spark-role", LabelValue: "driver"}

// DefaultMaxReclaimingDrivers is one driver per farm: an application starts its executors.
const DefaultMaxReclaimingDrivers int32 = 1

// DefaultThrashingReclaims and DefaultThrashingWindow: more than three separate reclaims of a
// farm's borrowed executors in ten minutes is thrashing.
const (
	DefaultThrashingReclaims int32 = 3
	DefaultThrashingWindow         = 10 * time.Minute
)

// SetDefaults_FarmArgs fills in unset fields.
func SetDefaults_FarmArgs(obj *FarmArgs) {
	if obj.TriggerInterval == nil {
		obj.TriggerInterval = &metav1.Duration{Duration: DefaultTriggerInterval}
	}
	// nil is unset; an explicit empty list turns driver reclaim off.
	if obj.Drivers == nil {
		obj.Drivers = []DriverSelector{DefaultDriver}
	}
	if obj.MaxReclaimingDrivers == nil {
		n := DefaultMaxReclaimingDrivers
		obj.MaxReclaimingDrivers = &n
	}
	if obj.MinimumRuntime == nil {
		obj.MinimumRuntime = &metav1.Duration{}
	}
	if obj.ThrashingReclaims == nil {
		n := DefaultThrashingReclaims
		obj.ThrashingReclaims = &n
	}
	if obj.ThrashingWindow == nil {
		obj.ThrashingWindow = &metav1.Duration{Duration: DefaultThrashingWindow}
	}
	if obj.BorrowCooldown == nil {
		obj.BorrowCooldown = &metav1.Duration{}
	}
}

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	scheme.AddTypeDefaultingFunc(&FarmArgs{}, func(obj any) { SetDefaults_FarmArgs(obj.(*FarmArgs)) })
	return nil
}
