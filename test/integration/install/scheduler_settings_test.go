package install

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	configv1 "github.com/toinfn/farm/pkg/apis/config/v1"
	"github.com/toinfn/farm/test/harness"
)

// nonDefaultSchedulerSettings changes every scheduler setting the chart's values expose.
var nonDefaultSchedulerSettings = []string{
	"--set", "scheduler.config.triggerInterval=250ms",
	"--set", "scheduler.config.packing.weight=7",
	"--set", "scheduler.config.clientConnection.qps=75",
	"--set", "scheduler.config.clientConnection.burst=150",
	"--set", "scheduler.config.percentageOfNodesToScore=30",
	"--set-json", `scheduler.config.drivers=[{"labelKey":"spark-role","labelValue":"driver"},{"labelKey":"component","labelValue":"singleuser-server"}]`,
	"--set", "scheduler.config.maxReclaimingDrivers=3",
	"--set", "scheduler.config.minimumRuntime=2m",
	"--set", "scheduler.config.borrowCooldown=30s",
}

// farmProfile returns the farm-scheduler profile's plugins and Farm's args of a scheduler
// configuration: the maps inside cfg, so a change to them changes cfg.
func farmProfile(t *testing.T, cfg map[string]any) (plugins, args map[string]any) {
	t.Helper()
	profiles, _ := cfg["profiles"].([]any)
	if len(profiles) != 1 {
		t.Fatalf("scheduler configuration has %d profiles, want 1", len(profiles))
	}
	p := profiles[0].(map[string]any)
	plugins, _ = p["plugins"].(map[string]any)
	pcs, _ := p["pluginConfig"].([]any)
	for _, pc := range pcs {
		if pc.(map[string]any)["name"] == "Farm" {
			args, _ = pc.(map[string]any)["args"].(map[string]any)
		}
	}
	if args == nil {
		t.Fatalf("scheduler configuration has no args for Farm")
	}
	return plugins, args
}

// farmArgs returns Farm's args of a scheduler configuration, the map inside cfg.
func farmArgs(t *testing.T, cfg map[string]any) map[string]any {
	t.Helper()
	_, args := farmProfile(t, cfg)
	return args
}

// renderedSchedulerConfig decodes the scheduler configuration of a rendered chart's ConfigMap.
func renderedSchedulerConfig(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	cm := find(t, objs, "ConfigMap", "farm-scheduler-config")
	data, _, _ := unstructured.NestedString(cm.Object, "data", "scheduler-config.yaml")
	cfg := map[string]any{}
	if err := yaml.Unmarshal([]byte(data), &cfg); err != nil {
		t.Fatalf("decoding the rendered scheduler configuration: %v\n%s", err, data)
	}
	return cfg
}

// The scheduler settings of the chart's values land in the scheduler configuration, and the
// built farm-scheduler runs with what it renders, or refuses to start naming the field it
// refuses. Values the chart's schema refuses never reach it.
func TestSchedulerSettingsFromChartValues(t *testing.T) {
	const started = "Starting Kubernetes Scheduler"
	tests := []struct {
		name string
		set  []string
		// check verifies the rendered configuration.
		check func(t *testing.T, cfg map[string]any)
		// wantRefused is what farm-scheduler must say when it refuses to start; empty: it starts.
		wantRefused string
		// wantHelmRefused is what helm must say when the chart's schema refuses the values.
		wantHelmRefused string
	}{
		{
			name: "every setting changed",
			set:  nonDefaultSchedulerSettings,
			check: func(t *testing.T, cfg map[string]any) {
				plugins, args := farmProfile(t, cfg)
				want := map[string]any{
					"triggerInterval":                  "250ms",
					"weight":                           int64(7),
					"qps":                              int64(75),
					"burst":                            int64(150),
					"percentageOfNodesToScore":         int64(30),
					"score plugins (packing on: none)": nil,
					"drivers": []any{
						map[string]any{"labelKey": "spark-role", "labelValue": "driver"},
						map[string]any{"labelKey": "component", "labelValue": "singleuser-server"},
					},
					"maxReclaimingDrivers": int64(3),
					"minimumRuntime":       "2m",
					"borrowCooldown":       "30s",
				}
				multiPoint, _, _ := unstructured.NestedSlice(plugins, "multiPoint", "enabled")
				got := map[string]any{
					"triggerInterval":                  args["triggerInterval"],
					"weight":                           multiPoint[0].(map[string]any)["weight"],
					"qps":                              cfg["clientConnection"].(map[string]any)["qps"],
					"burst":                            cfg["clientConnection"].(map[string]any)["burst"],
					"percentageOfNodesToScore":         cfg["percentageOfNodesToScore"],
					"score plugins (packing on: none)": plugins["score"],
					"drivers":                          args["drivers"],
					"maxReclaimingDrivers":             args["maxReclaimingDrivers"],
					"minimumRuntime":                   args["minimumRuntime"],
					"borrowCooldown":                   args["borrowCooldown"],
				}
				if !jsonEqual(t, got, want) {
					t.Errorf("rendered settings %v, want %v", got, want)
				}
			},
		},
		{
			name: "packing off",
			set:  []string{"--set", "scheduler.config.packing.enabled=false"},
			check: func(t *testing.T, cfg map[string]any) {
				plugins, _ := farmProfile(t, cfg)
				want := map[string]any{"disabled": []any{map[string]any{"name": "Farm"}}}
				if !jsonEqual(t, plugins["score"], want) {
					t.Errorf("score plugins %v, want %v: Farm's Score off, its other extension points on", plugins["score"], want)
				}
			},
		},
		{
			name:        "negative trigger interval",
			set:         []string{"--set", "scheduler.config.triggerInterval=-1s"},
			wantRefused: `triggerInterval: Invalid value: \"-1s\": must be greater than 0s and at most 5m0s`,
		},
		{
			name:        "percentage above 100",
			set:         []string{"--set", "scheduler.config.percentageOfNodesToScore=101"},
			wantRefused: "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]",
		},
		{
			name:        "negative burst",
			set:         []string{"--set", "scheduler.config.clientConnection.burst=-1"},
			wantRefused: "clientConnection.burst: Invalid value: -1: must be non-negative",
		},
		{
			name: "no drivers",
			set:  []string{"--set-json", "scheduler.config.drivers=[]"},
			check: func(t *testing.T, cfg map[string]any) {
				// Rendered as an empty list, not left out: the plugin defaults a missing list to
				// Spark's drivers, and reads [] as none.
				if drivers, ok := farmArgs(t, cfg)["drivers"]; !ok || !jsonEqual(t, drivers, []any{}) {
					t.Errorf("drivers rendered as %v (present %v), want []", drivers, ok)
				}
			},
		},
		{
			name:        "more reclaiming drivers than a farm may have",
			set:         []string{"--set", "scheduler.config.maxReclaimingDrivers=11"},
			wantRefused: "maxReclaimingDrivers: Invalid value: 11: must be between 0 and 10",
		},
		{
			name:        "minimum runtime above a day",
			set:         []string{"--set", "scheduler.config.minimumRuntime=25h"},
			wantRefused: `minimumRuntime: Invalid value: \"25h0m0s\": must be between 0s and 24h0m0s`,
		},
		{
			name:        "a negative cool-down",
			set:         []string{"--set", "scheduler.config.borrowCooldown=-1s"},
			wantRefused: `borrowCooldown: Invalid value: \"-1s\"`,
		},
		{
			name:        "driver label that is no label key",
			set:         []string{"--set-json", `scheduler.config.drivers=[{"labelKey":"not a key","labelValue":"driver"}]`},
			wantRefused: `drivers[0].labelKey: Invalid value: \"not a key\"`,
		},
		{
			name:            "driver without a label value",
			set:             []string{"--set-json", `scheduler.config.drivers=[{"labelKey":"spark-role"}]`},
			wantHelmRefused: "at '/scheduler/config/drivers/0': missing property 'labelValue'",
		},
		{
			name:            "packing weight 0, which kube-scheduler would take as 1",
			set:             []string{"--set", "scheduler.config.packing.weight=0"},
			wantHelmRefused: "at '/scheduler/config/packing/weight': minimum: got 0, want 1",
		},
		{
			name:            "trigger interval without a unit",
			set:             []string{"--set", "scheduler.config.triggerInterval=5"},
			wantHelmRefused: "at '/scheduler/config/triggerInterval': got number, want string",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, installArgs...), tc.set...)
			if tc.wantHelmRefused != "" {
				_, _, err := harness.RunHelm(t, args...)
				if err == nil || !strings.Contains(err.Error(), tc.wantHelmRefused) {
					t.Fatalf("helm template: %v, want an error saying %q", err, tc.wantHelmRefused)
				}
				return
			}
			cfg := renderedSchedulerConfig(t, render(t, args...))
			if tc.check != nil {
				tc.check(t, cfg)
			}

			// Run as the install test does, against this control plane; one replica alone here,
			// so no leader election.
			if err := unstructured.SetNestedField(cfg, cluster.Kubeconfig, "clientConnection", "kubeconfig"); err != nil {
				t.Fatal(err)
			}
			if err := unstructured.SetNestedField(cfg, false, "leaderElection", "leaderElect"); err != nil {
				t.Fatal(err)
			}
			data, err := yaml.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "scheduler-config.yaml")
			if err := writeFile(path, data); err != nil {
				t.Fatal(err)
			}
			p := cluster.StartSchedulerBinary(t, path)
			if tc.wantRefused != "" {
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				if err := p.Wait(ctx); err == nil || !strings.Contains(err.Error(), "exit status 1") {
					t.Fatalf("farm-scheduler ended with %v, want exit status 1\n%s", err, p.Output())
				}
				if out := p.Output(); !strings.Contains(out, tc.wantRefused) || strings.Contains(out, started) {
					t.Errorf("farm-scheduler's output does not refuse with %q before starting:\n%s", tc.wantRefused, out)
				}
				return
			}
			err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
				if p.Exited() {
					return false, errors.New("farm-scheduler exited")
				}
				return strings.Contains(p.Output(), started), nil
			})
			if err != nil {
				t.Fatalf("farm-scheduler did not start with the rendered configuration: %v\n%s", err, p.Output())
			}
		})
	}
}

// The chart's default values for the Farm plugin's arguments are the plugin's own defaults:
// installing the chart changes nothing that leaving the arguments out would not.
func TestChartFarmArgsDefaultToThePlugins(t *testing.T) {
	data, err := json.Marshal(farmArgs(t, renderedSchedulerConfig(t, render(t, installArgs...))))
	if err != nil {
		t.Fatal(err)
	}
	var rendered configv1.FarmArgs
	if err := json.Unmarshal(data, &rendered); err != nil {
		t.Fatalf("decoding the rendered Farm args %s: %v", data, err)
	}
	var defaults configv1.FarmArgs
	configv1.SetDefaults_FarmArgs(&defaults)
	if diff := cmp.Diff(defaults, rendered); diff != "" {
		t.Errorf("the chart's Farm args differ from the plugin's defaults (-plugin +chart):\n%s", diff)
	}
}
