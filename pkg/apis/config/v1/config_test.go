package v1_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"

	"github.com/toinfn/farm/pkg/apis/config"
	_ "github.com/toinfn/farm/pkg/apis/config/scheme"
)

const header = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: farm-scheduler
  pluginConfig:
  - name: Farm
`

// load decodes a configuration the way kube-scheduler does at start.
func load(t *testing.T, pluginConfig string) (*config.FarmArgs, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(header+pluginConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := options.LoadConfigFromFile(klog.Background(), path)
	if err != nil {
		return nil, err
	}
	for _, pc := range cfg.Profiles[0].PluginConfig {
		if pc.Name == "Farm" {
			args, ok := pc.Args.(*config.FarmArgs)
			if !ok {
				t.Fatalf("Farm args decoded as %T, want *config.FarmArgs", pc.Args)
			}
			return args, nil
		}
	}
	t.Fatal("no pluginConfig for Farm after loading")
	return nil, nil
}

// withDefaults returns the defaulted arguments, changed by edit.
func withDefaults(edit func(*config.FarmArgs)) *config.FarmArgs {
	a := &config.FarmArgs{
		TriggerInterval:      metav1.Duration{Duration: time.Second},
		Drivers:              []config.DriverSelector{{LabelKey: "spark-role", LabelValue: "driver"}},
		MaxReclaimingDrivers: 1,
		ThrashingReclaims:    3,
		ThrashingWindow:      metav1.Duration{Duration: 10 * time.Minute},
	}
	edit(a)
	return a
}

func TestFarmArgsDecodeFromSchedulerConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    *config.FarmArgs
		wantErr string
	}{
		{
			name: "defaults",
			args: "    args: {}\n",
			want: withDefaults(func(a *config.FarmArgs) {}),
		},
		{
			name: "explicit interval",
			args: "    args:\n      triggerInterval: 250ms\n",
			want: withDefaults(func(a *config.FarmArgs) { a.TriggerInterval.Duration = 250 * time.Millisecond }),
		},
		{
			name: "notebooks are drivers too, two per farm, young executors spared",
			args: "    args:\n      drivers:\n      - {labelKey: spark-role, labelValue: driver}\n      - {labelKey: component, labelValue: singleuser-server}\n      maxReclaimingDrivers: 2\n      minimumRuntime: 10m\n",
			want: withDefaults(func(a *config.FarmArgs) {
				a.Drivers = append(a.Drivers, config.DriverSelector{LabelKey: "component", LabelValue: "singleuser-server"})
				a.MaxReclaimingDrivers = 2
				a.MinimumRuntime.Duration = 10 * time.Minute
			}),
		},
		{
			name: "thrashing after two reclaims in five minutes, a minute's cool-down",
			args: "    args:\n      thrashingReclaims: 2\n      thrashingWindow: 5m\n      borrowCooldown: 1m\n",
			want: withDefaults(func(a *config.FarmArgs) {
				a.ThrashingReclaims = 2
				a.ThrashingWindow.Duration = 5 * time.Minute
				a.BorrowCooldown.Duration = time.Minute
			}),
		},
		{
			name: "no drivers",
			args: "    args:\n      drivers: []\n",
			want: withDefaults(func(a *config.FarmArgs) { a.Drivers = nil }),
		},
		{
			name:    "a driver label misspelt",
			args:    "    args:\n      drivers:\n      - {labelkey: component, labelValue: x}\n",
			wantErr: `unknown field "drivers[0].labelkey"`,
		},
		{
			name:    "misspelt field",
			args:    "    args:\n      triggerIntervall: 2s\n",
			wantErr: `unknown field "triggerIntervall"`,
		},
		{
			name:    "not a duration",
			args:    "    args:\n      triggerInterval: soon\n",
			wantErr: "soon",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := load(t, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.TypeMeta = metav1.TypeMeta{}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decoded args (-want +got):\n%s", diff)
			}
		})
	}
}
