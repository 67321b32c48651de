package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"sigs.k8s.io/yaml"

	"github.com/toinfn/farm/manifests"
	"github.com/toinfn/farm/pkg/scheduler"
)

// SchedulerConfig writes the shipped scheduler configuration, pointed at this control plane and
// with leader election off, to a file and returns its path. edit, when not nil, may change the
// decoded document further (e.g. to set plugin args).
func (cp *ControlPlane) SchedulerConfig(tb TB, edit func(cfg map[string]any)) string {
	tb.Helper()
	cfg := map[string]any{}
	if err := yaml.Unmarshal(manifests.SchedulerConfig, &cfg); err != nil {
		tb.Fatalf("decoding the shipped scheduler config: %v", err)
	}
	conn, _ := cfg["clientConnection"].(map[string]any)
	if conn == nil {
		conn = map[string]any{}
	}
	conn["kubeconfig"] = cp.Kubeconfig
	cfg["clientConnection"] = conn
	le, _ := cfg["leaderElection"].(map[string]any)
	if le == nil {
		le = map[string]any{}
	}
	le["leaderElect"] = false
	cfg["leaderElection"] = le
	if edit != nil {
		edit(cfg)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		tb.Fatalf("encoding scheduler config: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "scheduler-config.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatalf("writing scheduler config: %v", err)
	}
	return path
}

// SetFarmArgs sets arguments of the Farm plugin in a decoded scheduler configuration (the first
// profile's, as the shipped configuration has one), for SchedulerConfig's edit.
func SetFarmArgs(cfg map[string]any, args map[string]any) {
	profile := cfg["profiles"].([]any)[0].(map[string]any)
	for _, pc := range profile["pluginConfig"].([]any) {
		if pc := pc.(map[string]any); pc["name"] == "Farm" {
			for k, v := range args {
				pc["args"].(map[string]any)[k] = v
			}
		}
	}
}

// StartSchedulerBinary runs the built farm-scheduler with the given configuration file, without
// its serving endpoints.
func (cp *ControlPlane) StartSchedulerBinary(tb TB, configPath string, extraArgs ...string) *ChildProcess {
	tb.Helper()
	args := append([]string{"--config=" + configPath, "--secure-port=0", "-v=2"}, extraArgs...)
	return StartProcess(tb, Binary(tb, "farm-scheduler"), args...)
}

// StartDefaultScheduler runs the cluster's default scheduler: kube-scheduler's default profile
// (the farm-scheduler binary without Farm in any profile) for pods of schedulerName
// default-scheduler. It sees none of farm-scheduler's nominations, as on a real cluster.
func (cp *ControlPlane) StartDefaultScheduler(tb TB) *ChildProcess {
	tb.Helper()
	config := cp.SchedulerConfig(tb, func(cfg map[string]any) {
		cfg["profiles"] = []any{map[string]any{"schedulerName": corev1.DefaultSchedulerName}}
	})
	return cp.StartSchedulerBinary(tb, config)
}

var inProcessSchedulers atomic.Int32

// StartScheduler runs farm-scheduler in this process until ctx ends, through kube-scheduler's
// app.Setup and app.Run with the same plugin registry as the binary. The returned channel
// receives the scheduler's error if it stops before ctx ends.
func StartScheduler(ctx context.Context, configPath string) (<-chan error, error) {
	opts := options.NewOptions()
	opts.ConfigFile = configPath
	opts.SecureServing.BindPort = 0
	// Informer names must be unique in a process; tests may run several schedulers.
	name, err := cache.NewInformerName(fmt.Sprintf("farm-scheduler-%d", inProcessSchedulers.Add(1)))
	if err != nil {
		return nil, err
	}
	opts.InformerName = name
	cc, sched, err := app.Setup(ctx, opts, scheduler.PluginOptions()...)
	if err != nil {
		return nil, fmt.Errorf("setting up farm-scheduler: %w", err)
	}
	errs := make(chan error, 1)
	go func() {
		if err := app.Run(ctx, cc, sched); err != nil && ctx.Err() == nil {
			errs <- fmt.Errorf("farm-scheduler stopped: %w", err)
		}
		close(errs)
	}()
	return errs, nil
}
