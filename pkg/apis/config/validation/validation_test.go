package validation

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/toinfn/farm/pkg/apis/config"
)

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
