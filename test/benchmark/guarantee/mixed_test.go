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
// borrower (minimum 0, or for Kueue also the cluster less the tenant's minimum) fills the nodes
// in four layouts, in turn: one 4-CPU executor; two of 2;
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

// mixedScenario is how the guarantees are set in a mixed-size run.
type mixedScenario struct {
	name string
	// short names the run's namespaces and nodes.
	short string
	// borrowerFills gives the borrower a minimum of the cluster less the tenant's, so that the
	// minimums add up to the cluster; otherwise the borrower's minimum is 0. It is only run for
	// contenders whose guarantees are resources (contender.ResourceGuarantor): a minimum counted in
	// executors of several sizes has no such sum.
	borrowerFills bool
}

var mixedScenarios = []mixedScenario{
	{name: "borrower-min-0", short: "zero"},
	{name: "minimums-fill-cluster", short: "full", borrowerFills: true},
}

// BenchmarkMixedSizeReclaim reports the share of the cluster the borrower could fill, then the
// evicted CPUs per CPU the tenant needed, the evictions, and the time until the tenant's minimum
// runs, over the runs where the borrower filled the cluster.
func BenchmarkMixedSizeReclaim(b *testing.B) {
	for _, c := range []contender.Contender{contender.Farm{}, contender.Kueue{}, contender.Kueue{CohortQuota: true}} {
		b.Run(c.Name(), func(b *testing.B) {
			sched := c.Start(b, cluster.ControlPlane)
			for _, sc := range mixedScenarios {
				if _, ok := c.(contender.ResourceGuarantor); sc.borrowerFills && !ok {
					continue
				}
				for _, nodes := range []int{8, 40} {
					b.Run(fmt.Sprintf("%s/%dnodes", sc.name, nodes), func(b *testing.B) {
						var runs, filled, reached int
						var filledShare float64
						var evictedCPU, neededCPU, evictions int64
						var toMin time.Duration
						var left waiting
						for b.Loop() {
							r := runMixed(b, c, sched, sc, fmt.Sprintf("mixed-%s-%s-%d-%d", c.Name(), sc.short, nodes, runs), nodes)
							runs++
							filledShare += r.filledShare
							if r.filledShare < 1 {
								continue
							}
							filled++
							evictedCPU += r.evictedCPU
							neededCPU += r.neededCPU
							evictions += int64(r.evictions)
							left.add(r.left)
							if r.reached {
								reached++
								toMin += r.toMin
							}
						}
						b.ReportMetric(filledShare/float64(runs), "filled")
						if filled == 0 {
							return
						}
						b.ReportMetric(float64(evictedCPU)/float64(neededCPU), "evicted-cpu/needed-cpu")
						b.ReportMetric(float64(evictions)/float64(filled), "evictions")
						b.ReportMetric(float64(reached)/float64(filled), "reached")
						if reached > 0 {
							b.ReportMetric(toMin.Seconds()/float64(reached), "s-to-min")
						}
						left.report(b, filled)
					})
				}
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
	r := runMixed(t, c, sched, mixedScenarios[0], "smoke-mixed", 8)
	t.Logf("mixed sizes on 8 nodes: minimum reached %v after %.2fs; %d evictions, %d CPUs evicted for %d needed", r.reached, r.toMin.Seconds(), r.evictions, r.evictedCPU, r.neededCPU)
	if r.filledShare < 1 {
		t.Fatalf("the borrower filled %.0f%% of the cluster", 100*r.filledShare)
	}
	if !r.reached {
		t.Fatalf("the tenant's minimum did not run within %s", runDeadline)
	}
	if r.evictedCPU != r.neededCPU {
		t.Errorf("%d evictions freeing %d CPUs for %d needed; want exactly what is needed", r.evictions, r.evictedCPU, r.neededCPU)
	}
}

// mixedRun is what one mixed-size run measured.
type mixedRun struct {
	// filledShare is the share of the cluster's CPUs the borrower's executors took; a run
	// measures a reclaim only when that is all of them.
	filledShare           float64
	reached               bool
	toMin                 time.Duration
	evictions             int
	evictedCPU, neededCPU int64
	left                  waiting
}

func runMixed(tb testing.TB, c contender.Contender, sched *harness.ChildProcess, sc mixedScenario, id string, nodes int) mixedRun {
	tb.Helper()
	borrower, tenant := id+"-borrower", id+"-tenant"
	defer prepareRun(tb, id, nodes, harness.DefaultNodeShape, []string{borrower, tenant})()
	defer withdraw(tb, c, borrower, tenant)
	var sizes []int64
	for range nodes / 8 {
		sizes = append(sizes, tenantSizes...)
	}
	if rg, ok := c.(contender.ResourceGuarantor); ok {
		// The tenant's minimum is what its executors ask for; the cluster is 4 CPUs and 16Gi a node.
		var cpus int64
		for _, n := range sizes {
			cpus += n
		}
		borrowerCPUs := int64(0)
		if sc.borrowerFills {
			borrowerCPUs = int64(nodes)*4 - cpus
		}
		rg.GuaranteeResources(tb, cluster.ControlPlane, borrower, cpuAndMemory(borrowerCPUs))
		rg.GuaranteeResources(tb, cluster.ControlPlane, tenant, cpuAndMemory(cpus))
		if l, ok := c.(contender.Lender); ok {
			l.Lend(tb, cluster.ControlPlane, id, cpuAndMemory(int64(nodes)*4-borrowerCPUs-cpus))
		}
	} else {
		c.Guarantee(tb, cluster.ControlPlane, borrower, 0, 0)
		c.Guarantee(tb, cluster.ControlPlane, tenant, len(sizes), 0)
	}
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
	var r mixedRun
	if running := waitFilled(tb, sched, borrower, borrowed); running < borrowed {
		// Nothing to reclaim: report the share of the cluster the borrower could take.
		var runningCPU int64
		for _, p := range listPods(tb, borrower) {
			if quota.IsRunning(&p) {
				runningCPU += p.Spec.Containers[0].Resources.Requests.Cpu().Value()
			}
		}
		r.filledShare = float64(runningCPU) / float64(borrowedCPU)
		return r
	}
	r.filledShare = 1

	start := time.Now()
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
	if !r.reached {
		r.left = waitingIn(tb, tenant)
	}
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

// cpuAndMemory is cpus CPUs and cpus×4Gi, what executors of cpus CPUs in all ask for.
func cpuAndMemory(cpus int64) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(cpus, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(cpus*4<<30, resource.BinarySI),
	}
}

// mixedExecutor is an executor of cpus CPUs and cpus×4Gi for the contender.
func mixedExecutor(c contender.Contender, ns, name string, cpus int64) *corev1.Pod {
	pod := harness.ExecutorPod(ns, name, "spark-role", "executor")
	contender.PrepareExecutor(c, pod)
	r := cpuAndMemory(cpus)
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: r, Limits: r}
	return pod
}
