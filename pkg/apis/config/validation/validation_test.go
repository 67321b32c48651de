package validation

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/toinfn/farm/pkg/apis/config"
)

func TestValidateFarmArgsDriversAndRuntime(t *testing.T) {
	valid := func() *config.FarmArgs {
		return &config.FarmArgs{
			TriggerInterval:      metav1.Duration{Duration: time.Second},
			Drivers:              []config.DriverSelector{{LabelKey: "spark-role", LabelValue: "driver"}},
			MaxReclaimingDrivers: 1,
			ThrashingReclaims:    3,
			ThrashingWindow:      metav1.Duration{Duration: 10 * time.Minute},
		}
	}
	tests := []struct {
		name    string
		edit    func(*config.FarmArgs)
		wantErr string
	}{
		{name: "defaults", edit: func(*config.FarmArgs) {}},
		{name: "a notebook label, off by zero, a day of runtime", edit: func(a *config.FarmArgs) {
			a.Drivers = append(a.Drivers, config.DriverSelector{LabelKey: "hub.jupyter.org/notebook", LabelValue: "true"})
			a.MaxReclaimingDrivers = 0
			a.MinimumRuntime.Duration = MaxMinimumRuntime
		}},
		{name: "bad label key", edit: func(a *config.FarmArgs) { a.Drivers[0].LabelKey = "a b" },
			wantErr: `drivers[0].labelKey: Invalid value: "a b"`},
		{name: "bad label value", edit: func(a *config.FarmArgs) { a.Drivers[0].LabelValue = "-x-" },
			wantErr: `drivers[0].labelValue: Invalid value: "-x-"`},
		{name: "too many drivers", edit: func(a *config.FarmArgs) { a.MaxReclaimingDrivers = MaxReclaimingDrivers + 1 },
			wantErr: "maxReclaimingDrivers: Invalid value: 11: must be between 0 and 10"},
		{name: "negative runtime", edit: func(a *config.FarmArgs) { a.MinimumRuntime.Duration = -time.Second },
			wantErr: `minimumRuntime: Invalid value: "-1s"`},
		{name: "thrashing off needs no window", edit: func(a *config.FarmArgs) { a.ThrashingReclaims = 0 }},
		{name: "negative thrashing count", edit: func(a *config.FarmArgs) { a.ThrashingReclaims = -1 },
			wantErr: "thrashingReclaims: Invalid value: -1: must be 0 (off) or more"},
		{name: "thrashing without a window", edit: func(a *config.FarmArgs) { a.ThrashingWindow.Duration = 0 },
			wantErr: `thrashingWindow: Invalid value: "0s"`},
		{name: "negative cool-down", edit: func(a *config.FarmArgs) { a.BorrowCooldown.Duration = -time.Second },
			wantErr: `borrowCooldown: Invalid value: "-1s"`},
		{name: "runtime beyond a day", edit: func(a *config.FarmArgs) { a.MinimumRuntime.Duration = 25 * time.Hour },
			wantErr: `minimumRuntime: Invalid value: "25h0m0s": must be between 0s and 24h0m0s`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := valid()
			tc.edit(a)
			err := ValidateFarmArgs(nil, a)
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateFarmArgs(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		wantErr  string
	}{
		{name: "one second", interval: time.Second},
		{name: "upper bound", interval: MaxTriggerInterval},
		{name: "zero", interval: 0, wantErr: `triggerInterval: Invalid value: "0s"`},
		{name: "negative", interval: -time.Second, wantErr: `triggerInterval: Invalid value: "-1s"`},
		{name: "too long", interval: time.Hour, wantErr: `triggerInterval: Invalid value: "1h0m0s": must be greater than 0s and at most 5m0s`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateFarmArgs(nil, &config.FarmArgs{TriggerInterval: metav1.Duration{Duration: tc.interval}})
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
