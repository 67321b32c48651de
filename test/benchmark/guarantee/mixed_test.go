package guarantee

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/benchmark/contender"
	"github.com/toinfn/farm/test/harness"
)

// The mixed-size reclaim: executors of 1, 2 and 4 CPUs (4Gi per CPU) on 4-CPU nodes. The
// borrower (minimum 0) fills the nodes in four layouts, in turn: one 4-CPU executor; two of 2;
// one of 2 and two of 1; four of 1. The tenant, below its minimum, asks for executors of 4, 2,
// 2, 1 and 1 CPUs per eight nodes, one after the other as a driver does. Evicting exactly what
// the tenant asks is possible (with the whole demand in view, one 4-CPU victim for the 4-CPU
// executor, one for both 2-CPU executors, one 2-CPU victim for both 1-CPU executors); a planner
// that counts executors rather than room evicts more.

// borrowerLayouts are the CPU sizes of the borrower's executors on each node, by node index
// modulo 4.
var borrowerLayouts = [][]int64{{4}, {2, 2}, {2, 1, 1}, {1, 1, 1, 1}}

// tenantSizes are the CPU sizes the tenant asks for, per eight nodes.
var tenantSizes = []int64{4, 2, 2, 1, 1}

// BenchmarkMixedSizeReclaim reports, for Farm, the evicted CPUs per CPU the tenant needed, the
// evictions, and the time until the tenant's minimum runs.
func BenchmarkMixedSizeReclaim(b *testing.B) {
	c := contender.Farm{}
	sched := c.Start(b, cluster.ControlPlane)
	for _, nodes := range []int{8, 40} {
		b.Run(fmt.Sprintf("%dnodes", nodes), func(b *testing.B) {
			var runs, reached int
			var evictedCPU, neededCPU, evictions int64
			var toMin time.Duration
			for b.Loop() {
				r := runMixed(b, c, sched, fmt.Sprintf("mixed-%d-%d", nodes, runs), nodes)
				runs++
				evictedCPU += r.evictedCPU
				neededCPU += r.neededCPU
				evictions += int64(r.evictions)
				if r.reached {
					reached++
					toMin += r.toMin
				}
			}
			b.ReportMetric(float64(evictedCPU)/float64(neededCPU), "evicted-cpu/needed-cpu")
			b.ReportMetric(float64(evictions)/float64(runs), "evictions")
			b.ReportMetric(float64(reached)/float64(runs), "reached")
			if reached > 0 {
				b.ReportMetric(toMin.Seconds()/float64(reached), "s-to-min")
			}
		})
	}
}

// TestMixedSizeReclaimSmoke runs the mixed-size reclaim once on eight nodes: the tenant's
// minimum runs, with exactly as many CPUs evicted as it asked for. How many evictions that takes
// depends on how many of the tenant's executors the scheduler sees at once (three when it sees
// all five, as the planner's unit tests show; up to five when they arrive one by one), so it is
// reported, not asserted.
func TestMixedSizeReclaimSmoke(t *testing.T) {
	c := contender.Farm{}
	sched := c.Start(t, cluster.ControlPlane)
	r := runMixed(t, c, sched, "smoke-mixed", 8)
	t.Logf("mixed sizes on 8 nodes: minimum reached %v after %.2fs; %d evictions, %d CPUs evicted for %d needed", r.reached, r.toMin.Seconds(), r.evictions, r.evictedCPU, r.neededCPU)
	if !r.reached {
		t.Fatalf("the tenant's minimum did not run within %s", runDeadline)
	}
	if r.evictedCPU != r.neededCPU {
		t.Errorf("%d evictions freeing %d CPUs for %d needed; want exactly what is needed", r.evictions, r.evictedCPU, r.neededCPU)
	}
}

// mixedRun is what one mixed-size run measured.
type mixedRun struct {
	reached               bool
	toMin                 time.Duration
	evictions             int
	evictedCPU, neededCPU int64
}

func runMixed(tb testing.TB, c contender.Contender, sched *harness.ChildProcess, id string, nodes int) mixedRun {
	tb.Helper()
	borrower, tenant := id+"-borrower", id+"-tenant"
	defer prepareRun(tb, id, nodes, harness.DefaultNodeShape, []string{borrower, tenant})()
	var sizes []int64
	for range nodes / 8 {
		sizes = append(sizes, tenantSizes...)
	}
	c.Guarantee(tb, cluster.ControlPlane, borrower, 0, 0)
	c.Guarantee(tb, cluster.ControlPlane, tenant, len(sizes), 0)
	time.Sleep(guaranteesSettle)

	// The borrower's executors, pinned to their nodes so that every layout is there.
	borrowed, borrowedCPU := 0, int64(0)
	for n := range nodes {
		for i, cpus := range borrowerLayouts[n%len(borrowerLayouts)] {
			pod := mixedExecutor(c, borrower, fmt.Sprintf("exec-%d-%d", n, i), cpus)
			pod.Spec.NodeSelector = map[string]string{corev1.LabelHostname: fmt.Sprintf("%s-%d", id, n)}
			if _, err := cluster.Clientset.CoreV1().Pods(borrower).Create(tb.Context(), pod, metav1.CreateOptions{}); err != nil {
				tb.Fatal(err)
			}
			borrowed++
			borrowedCPU += cpus
		}
	}
	if running := waitRunning(tb, sched, borrower, borrowed, fillDeadline); running < borrowed {
		tb.Fatalf("the borrower runs %d of its %d executors", running, borrowed)
	}

	start := time.Now()
	var r mixedRun
	for i, cpus := range sizes {
		pod := mixedExecutor(c, tenant, fmt.Sprintf("exec-%d", i), cpus)
		pod.Spec.NodeSelector = map[string]string{"run": id}
		if _, err := cluster.Clientset.CoreV1().Pods(tenant).Create(tb.Context(), pod, metav1.CreateOptions{}); err != nil {
			tb.Fatal(err)
		}
		r.neededCPU += cpus
	}
	r.reached = waitRunning(tb, sched, tenant, len(sizes), runDeadline) >= len(sizes)
	r.toMin = time.Since(start)
	// Evicted executors may be gone already: count what is left.
	r.evictions, r.evictedCPU = borrowed, borrowedCPU
	for _, p := range listPods(tb, borrower) {
		if !quota.IsTerminating(&p) {
			r.evictions--
			r.evictedCPU -= p.Spec.Containers[0].Resources.Requests.Cpu().Value()
		}
	}
	return r
}

// mixedExecutor is an executor of cpus CPUs and cpus×4Gi for the contender.
func mixedExecutor(c contender.Contender, ns, name string, cpus int64) *corev1.Pod {
	pod := harness.ExecutorPod(ns, name, "spark-role", "executor")
	pod.Spec.SchedulerName = c.SchedulerName()
	r := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(cpus, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(cpus*4<<30, resource.BinarySI),
	}
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: r, Limits: r}
	return pod
}
