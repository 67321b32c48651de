package throughput

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	perf "k8s.io/kubernetes/test/integration/scheduler_perf"
	"k8s.io/kubernetes/test/utils/client-go/ktesting"

	"github.com/toinfn/farm/pkg/scheduler/farm"
	"github.com/toinfn/farm/test/harness"
)

// configFile holds the workloads, relative to the package directory (scheduler_perf reads every
// path in it relative to the working directory, which go test sets to the package directory).
const configFile = "testdata/performance-config.yaml"

// topic names this benchmark's JSON results file.
const topic = "farm"

// BenchmarkPerfScheduling runs the workloads of configFile whose labels match
// -perf-scheduling-label-filter (default: performance).
func BenchmarkPerfScheduling(b *testing.B) {
	perf.RunBenchmarkPerfScheduling(b, configFile, topic, registry(), perf.WithPrepareFn(installCRDs))
}

// TestSmoke runs the small workloads (labels integration-test and short) through
// BenchmarkPerfScheduling, in a child process so that they run as real benchmarks: scheduler_perf
// takes out-of-tree plugins only on its benchmark entry point. Each workload waits until every
// executor it created is scheduled (in Reclaim, only reclaims make room for them) and fails
// otherwise, so a workload that reports its results has scheduled all its executors.
func TestSmoke(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), self,
		"-test.run=^$",
		"-test.bench=^BenchmarkPerfScheduling$",
		"-test.benchtime=1x",
		"-test.timeout=20m",
		"-perf-scheduling-label-filter=integration-test,short",
		"-data-items-dir="+t.TempDir(),
	)
	cmd.Env = append(os.Environ(), "ARTIFACTS="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the smoke workloads failed: %v\n%s", err, out)
	}
	// A workload that ran to the end reports the scheduling duration of its measured executors;
	// a skipped one (wrong labels) reports nothing.
	for _, name := range []string{"Stock/5Nodes", "Farm/5Nodes", "FarmWithoutScore/5Nodes", "Reclaim/5Nodes"} {
		line := regexp.MustCompile(`(?m)^BenchmarkPerfScheduling/` + regexp.QuoteMeta(name) + `(-\d+)?\s.*SchedulingDuration/Duration`)
		if !line.Match(out) {
			t.Errorf("workload %s reported no results:\n%s", name, out)
		}
	}
}

// registry registers the Farm plugin the way farm-scheduler does (pkg/scheduler.PluginOptions),
// behind a factory that first installs the CRDs its informer needs.
func registry() frameworkruntime.Registry {
	return frameworkruntime.Registry{farm.Name: newFarmPlugin}
}

// newFarmPlugin installs the Farm CRDs, then builds the plugin. scheduler_perf starts the
// scheduler, and so runs every plugin factory, before any workload op, on a fresh apiserver;
// farm.New waits until its Farm informer has listed Farms, which needs the CRDs to be served.
func newFarmPlugin(ctx context.Context, args runtime.Object, handle fwk.Handle) (fwk.Plugin, error) {
	if err := harness.InstallCRDs(ctx, handle.KubeConfig()); err != nil {
		return nil, fmt.Errorf("installing the Farm CRDs: %w", err)
	}
	return farm.New(ctx, args, handle)
}

// installCRDs makes the Farm CRDs available to workloads that run without the Farm plugin (the
// stock profile): they create the same Farms, so that both profiles face the same objects.
func installCRDs(tCtx ktesting.TContext) error {
	return harness.InstallCRDs(tCtx, tCtx.RESTConfig())
}
