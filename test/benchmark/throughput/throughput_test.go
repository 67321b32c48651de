package throughput

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"
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
	for _, name := range []string{"Farm/5Nodes", "Reclaim/5Nodes"} {
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
// stock profile): they create the same Farms, so that both profiles face the same objects. It
// also arranges for the workload's batching report.
func installCRDs(tCtx ktesting.TContext) error {
	// Registered after scheduler_perf's own cleanup, so it runs first, before the metrics are reset.
	tCtx.TB().Cleanup(func() { reportBatching(os.Stderr, tCtx.TB().Name()) })
	return harness.InstallCRDs(tCtx, tCtx.RESTConfig())
}

// reportBatching writes how many scheduling cycles of the workload reused the previous cycle's
// filtering and scoring (OpportunisticBatching's node hint), why the batch was dropped when it
// was, and how many nodes the scorers and NodeResourcesFit's filter visited: the work a cycle
// that cannot batch does. Counters cover the whole workload, executors scheduled before the
// measurement included.
func reportBatching(w io.Writer, workload string) {
	counters := func(metric, label string, match map[string]string) string {
		values, err := testutil.GetCounterValuesFromGatherer(legacyregistry.DefaultGatherer, metric, match, label)
		if err != nil {
			return "none"
		}
		keys := slices.Sorted(maps.Keys(values))
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%.0f", k, values[k]))
		}
		return strings.Join(parts, " ")
	}
	fmt.Fprintf(w, "%s: batching: attempts: %s; flushed: %s; Score calls: %s; Filter calls: %s\n", workload,
		counters("scheduler_batch_attempts_total", "result", nil),
		counters("scheduler_batch_cache_flushed_total", "reason", nil),
		counters("scheduler_plugin_evaluation_total", "plugin", map[string]string{"extension_point": "Score"}),
		counters("scheduler_plugin_evaluation_total", "plugin", map[string]string{"extension_point": "Filter"}))
}
