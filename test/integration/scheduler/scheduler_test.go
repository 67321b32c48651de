package scheduler

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	if err := cluster.CreateNamespace(t.Context(), name); err != nil {
		t.Fatal(err)
	}
}

func TestBinaryBindsFarmPodsAndLeavesOthersAlone(t *testing.T) {
	ctx := t.Context()
	createNamespace(t, "tenant-a")
	if _, err := cluster.CreateNodes(ctx, "bind", 2, harness.DefaultNodeShape); err != nil {
		t.Fatal(err)
	}
	farm := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "jupyter-a"},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 2},
	}
	if err := cluster.Client.Create(ctx, farm); err != nil {
		t.Fatal(err)
	}
	// The pod for another scheduler exists before farm-scheduler starts, so it has had every
	// chance to be picked up by the time the farm pod is running.
	other := harness.ExecutorPod("tenant-a", "not-ours", "spark-role", "executor")
	other.Spec.SchedulerName = corev1.DefaultSchedulerName
	if _, err := cluster.Clientset.CoreV1().Pods("tenant-a").Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	sched := cluster.StartSchedulerBinary(t, cluster.SchedulerConfig(t, nil))

	executor := harness.ExecutorPod("tenant-a", "exec-1", "spark-role", "executor")
	if _, err := cluster.Clientset.CoreV1().Pods("tenant-a").Create(ctx, executor, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var got *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if sched.Exited() {
			return false, errors.New("farm-scheduler exited")
		}
		p, err := cluster.Clientset.CoreV1().Pods("tenant-a").Get(ctx, "exec-1", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got = p
		return p.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("waiting for the farm pod to run: %v (last seen: node %q, phase %q)", err, got.Spec.NodeName, got.Status.Phase)
	}
	if !strings.HasPrefix(got.Spec.NodeName, "bind-") {
		t.Errorf("farm pod bound to %q, want a simulated node bind-*", got.Spec.NodeName)
	}

	o, err := cluster.Clientset.CoreV1().Pods("tenant-a").Get(ctx, "not-ours", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Spec.NodeName != "" {
		t.Errorf("pod for %q was bound to %q by farm-scheduler", corev1.DefaultSchedulerName, o.Spec.NodeName)
	}
	for _, c := range o.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			t.Errorf("pod for %q got a PodScheduled condition from farm-scheduler: %+v", corev1.DefaultSchedulerName, c)
		}
	}
}

func TestMalformedConfigStopsTheScheduler(t *testing.T) {
	tests := []struct {
		name string
		// edit breaks the shipped configuration; raw, when set, replaces it outright.
		edit func(cfg map[string]any)
		raw  string
		// want is what the scheduler's output must say about the problem (klog quotes the
		// error, so quotes inside it come escaped and are left out here).
		want []string
	}{
		{
			name: "unknown plugin",
			edit: func(cfg map[string]any) {
				cfg["profiles"] = []any{map[string]any{
					"schedulerName": "farm-scheduler",
					"plugins":       map[string]any{"multiPoint": map[string]any{"enabled": []any{map[string]any{"name": "Farmm"}}}},
				}}
			},
			want: []string{"Farmm", "does not exist"},
		},
		{
			name: "unknown field",
			edit: func(cfg map[string]any) { cfg["percentageOfNodesToScor"] = 50 },
			want: []string{"unknown field", "percentageOfNodesToScor"},
		},
		{
			name: "invalid value",
			edit: func(cfg map[string]any) { cfg["percentageOfNodesToScore"] = 150 },
			want: []string{"percentageOfNodesToScore", "150"},
		},
		{
			name: "plugin args with a misspelt field",
			edit: func(cfg map[string]any) { farmArgs(cfg)["triggerIntervall"] = "2s" },
			want: []string{"unknown field", "triggerIntervall"},
		},
		{
			name: "plugin args out of range",
			edit: func(cfg map[string]any) { farmArgs(cfg)["triggerInterval"] = "-1s" },
			want: []string{"triggerInterval: Invalid value", "-1s", "must be greater than 0s"},
		},
		{
			name: "not YAML",
			raw:  "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles: [\n",
			want: []string{"yaml", "line 3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := cluster.SchedulerConfig(t, tc.edit)
			if tc.raw != "" {
				if err := os.WriteFile(path, []byte(tc.raw), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p := cluster.StartSchedulerBinary(t, path)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			err := p.Wait(ctx)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("farm-scheduler with a malformed config: got %v, want a non-zero exit\n%s", err, p.Output())
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Output(), w) {
					t.Errorf("farm-scheduler output does not say %q:\n%s", w, p.Output())
				}
			}
		})
	}
}

// The in-process scheduler of the demo and the benchmarks goes through app.Setup and app.Run with
// the binary's registry; it must schedule just as the binary does.
func TestInProcessSchedulerBindsFarmPods(t *testing.T) {
	ctx := t.Context()
	createNamespace(t, "tenant-b")
	if _, err := cluster.CreateNodes(ctx, "inproc", 1, harness.DefaultNodeShape); err != nil {
		t.Fatal(err)
	}
	errs, err := harness.StartScheduler(ctx, cluster.SchedulerConfig(t, nil))
	if err != nil {
		t.Fatalf("starting farm-scheduler in-process: %v", err)
	}
	executor := harness.ExecutorPod("tenant-b", "exec-1", "spark-role", "executor")
	executor.Spec.NodeSelector = map[string]string{corev1.LabelHostname: "inproc-0"}
	if _, err := cluster.Clientset.CoreV1().Pods("tenant-b").Create(ctx, executor, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-errs:
			return false, err
		default:
		}
		p, err := cluster.Clientset.CoreV1().Pods("tenant-b").Get(ctx, "exec-1", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.Spec.NodeName == "inproc-0" && p.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("waiting for the in-process scheduler to bind exec-1 to inproc-0: %v", err)
	}
}

// farmArgs returns the Farm plugin's args in a decoded scheduler configuration.
func farmArgs(cfg map[string]any) map[string]any {
	profile := cfg["profiles"].([]any)[0].(map[string]any)
	for _, pc := range profile["pluginConfig"].([]any) {
		pc := pc.(map[string]any)
		if pc["name"] == "Farm" {
			return pc["args"].(map[string]any)
		}
	}
	panic("the shipped configuration has no pluginConfig for Farm")
}
