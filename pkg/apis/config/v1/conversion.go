package v1

import (
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/toinfn/farm/pkg/apis/config"
)

// Convert_v1_FarmArgs_To_config_FarmArgs converts the versioned arguments to the internal ones.
func Convert_v1_FarmArgs_To_config_FarmArgs(in *FarmArgs, out *config.FarmArgs, _ conversion.Scope) error {
	if in.TriggerInterval != nil {
		out.TriggerInterval = *in.TriggerInterval
	}
	out.Drivers = nil
	for _, d := range in.Drivers {
		out.Drivers = append(out.Drivers, config.DriverSelector{LabelKey: d.LabelKey, LabelValue: d.LabelValue})
	}
	if in.MaxReclaimingDrivers != nil {
		out.MaxReclaimingDrivers = *in.MaxReclaimingDrivers
	}
	if in.MinimumRuntime != nil {
		out.MinimumRuntime = *in.MinimumRuntime
	}
	if in.ThrashingReclaims != nil {
		out.ThrashingReclaims = *in.ThrashingReclaims
	}
	if in.ThrashingWindow != nil {
		out.ThrashingWindow = *in.ThrashingWindow
	}
	if in.BorrowCooldown != nil {
		out.BorrowCooldown = *in.BorrowCooldown
	}
	return nil
}

// Convert_config_FarmArgs_To_v1_FarmArgs converts the internal arguments to the versioned ones.
func Convert_config_FarmArgs_To_v1_FarmArgs(in *config.FarmArgs, out *FarmArgs, _ conversion.Scope) error {
	d := in.TriggerInterval
	out.TriggerInterval = &d
	out.Drivers = []DriverSelector{}
	for _, dr := range in.Drivers {
		out.Drivers = append(out.Drivers, DriverSelector{LabelKey: dr.LabelKey, LabelValue: dr.LabelValue})
	}
	n := in.MaxReclaimingDrivers
	out.MaxReclaimingDrivers = &n
	r := in.MinimumRuntime
	out.MinimumRuntime = &r
	tr, tw, bc := in.ThrashingReclaims, in.ThrashingWindow, in.BorrowCooldown
	out.ThrashingReclaims, out.ThrashingWindow, out.BorrowCooldown = &tr, &tw, &bc
	return nil
}

func addConversionFuncs(scheme *runtime.Scheme) error {
	if err := scheme.AddConversionFunc((*FarmArgs)(nil), (*config.FarmArgs)(nil), func(a, b any, s conversion.Scope) error {
		return Convert_v1_FarmArgs_To_config_FarmArgs(a.(*FarmArgs), b.(*config.FarmArgs), s)
	}); err != nil {
		return err
	}
	return scheme.AddConversionFunc((*config.FarmArgs)(nil), (*FarmArgs)(nil), func(a, b any, s conversion.Scope) error {
		return Convert_config_FarmArgs_To_v1_FarmArgs(a.(*config.FarmArgs), b.(*FarmArgs), s)
	})
}
