package guarantee

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/benchmark/contender"
	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}

// slotsPerNode is how many executors a harness.DefaultNodeShape node holds.
const slotsPerNode = 4

// fillDeadline bounds the wait for the borrower to fill the cluster; guaranteesSettle is how long
// a scheduler is given to see new guarantees.
const (
	fillDeadline     = time.Minute
	guaranteesSettle = 2 * time.Second
)

// fillStall ends the wait for the borrower early when none more of its executors has started
// for this long: a contender that stops lending (CapacityScheduling and Kueue lend only the
// other tenants' unused minimums) would otherwise hold every such run for fillDeadline.
const fillStall = 5 * time.Second

// runDeadline bounds the wait for a tenant's minimum: a scheduler that has not given it after
// this long is reported as not giving it.
const runDeadline = time.Minute

// scenario is how the cluster's guarantees are set when the tenant arrives.
type scenario struct {
	name string
	// short names the run's namespaces and nodes.
	short string
	// borrowerMin is the borrower's minimum, given the cluster's slots and the tenant's minimum.
	borrowerMin func(slots, tenantMin int) int
	// grace is the borrower's executors' termination grace period: how long an evicted
	// executor keeps its room, as a decommissioning Spark executor does.
	grace int64
}

var scenarios = []scenario{
	// The minimums add up to the cluster: what an elastic quota system is designed for.
	{name: "minimums-fill-cluster", short: "full", borrowerMin: func(slots, tenantMin int) int { return slots - tenantMin }},
	// The borrower has no minimum, so the minimums add up to less than the cluster: Farm's
	// usual case; CapacityScheduling refuses to preempt when used + request > the sum of
	// minimums (scheduler-plugins issue #683).
	{name: "borrower-min-0", short: "zero", borrowerMin: func(int, int) int { return 0 }},
	// As the first, but evicted executors take 5 s to go: while they terminate, every waiting
	// executor is still unschedulable, and a scheduler that plans each one as if the others'
	// victims were still running evicts more than it needs.
	{name: "minimums-fill-cluster-grace-5s", short: "grace", borrowerMin: func(slots, tenantMin int) int { return slots - tenantMin }, grace: 5},
}

// BenchmarkTimeToGuarantee fills the cluster with a borrower's executors, then lets a tenant
// below its minimum submit exactly its minimum, and reports how long until all of them run, the
// share of runs in which they did within a minute, and how many of the borrower's executors
// were evicted per executor the tenant needed.
func BenchmarkTimeToGuarantee(b *testing.B) {
	for _, c := range []contender.Contender{contender.Farm{}, contender.CapacityScheduling{}, contender.Kueue{}, contender.Kueue{CohortQuota: true}} {
		b.Run(c.Name(), func(b *testing.B) {
			sched := c.Start(b, cluster.ControlPlane)
			for _, sc := range scenarios {
				for _, size := range []struct{ nodes, min int }{
					{nodes: 10, min: 8},
					{nodes: 50, min: 40},
					{nodes: 100, min: 100},
				} {
					b.Run(fmt.Sprintf("%s/%dnodes_min%d", sc.name, size.nodes, size.min), func(b *testing.B) {
						var toMin time.Duration
						var runs, filled, reached, evictions, needed int
						var filledShare float64
						var left waiting
						for b.Loop() {
							r := runGuarantee(b, c, sched, sc, fmt.Sprintf("%s-%s-%d-%d", c.Name(), sc.short, size.nodes, runs), size.nodes, size.min)
							runs++
							filledShare += float64(r.filled) / float64(r.slots)
							if r.filled < r.slots {
								continue
							}
							filled++
							if r.reached {
								reached++
								toMin += r.toMin
							}
							evictions += r.evictions
							needed += r.needed
							left.add(r.left)
						}
						// filled is the share of the cluster the borrower could take; the other
						// figures cover only the runs where it took all of it.
						b.ReportMetric(filledShare/float64(runs), "filled")
						if filled == 0 {
							return
						}
						if reached > 0 {
							b.ReportMetric(toMin.Seconds()/float64(reached), "s-to-min")
						}
						b.ReportMetric(float64(reached)/float64(filled), "reached")
						b.ReportMetric(float64(evictions)/float64(needed), "evictions/needed")
						left.report(b, filled)
					})
				}
			}
		})
	}
}

// TestTimeToGuaranteeSmoke runs the benchmark's runs once on a small cluster, so that they
// cannot rot, and checks what Farm guarantees in both scenarios: every needed executor runs,
// with exactly one borrowed executor evicted for each. Of the peers it checks only that they
// placed the borrower's executors (a peer that admits or schedules nothing has rotted); their
// figures are reported.
// Kueue runs with its cohort quota, the variant with the most code (about 25 s); the plain one
// differs only in not making the cohort's quota.
func TestTimeToGuaranteeSmoke(t *testing.T) {
	for _, c := range []contender.Contender{contender.Farm{}, contender.CapacityScheduling{}, contender.Kueue{CohortQuota: true}} {
		t.Run(c.Name(), func(t *testing.T) {
			sched := c.Start(t, cluster.ControlPlane)
			for _, sc := range scenarios {
				r := runGuarantee(t, c, sched, sc, "smoke-"+c.Name()+"-"+sc.short, 3, 4)
				t.Logf("%s: borrower filled %d of %d slots; minimum of %d reached: %v after %.2fs; %d evictions; left waiting: %+v", sc.name, r.filled, r.slots, r.needed, r.reached, r.toMin.Seconds(), r.evictions, r.left)
				if r.filled == 0 {
					t.Errorf("%s: none of the borrower's executors ran", sc.name)
				}
				if _, isFarm := c.(contender.Farm); !isFarm {
					continue
				}
				if r.filled < r.slots {
					t.Errorf("%s: the borrower filled %d of %d slots", sc.name, r.filled, r.slots)
					continue
				}
				if !r.reached {
					t.Errorf("%s: the tenant's minimum of %d did not run within %s", sc.name, r.needed, runDeadline)
				}
				if r.evictions != r.needed {
					t.Errorf("%s: %d borrowed executors evicted for %d needed", sc.name, r.evictions, r.needed)
				}
			}
		})
	}
}

// guaranteeRun is what one run measured.
type guaranteeRun struct {
	// filled is how many of the cluster's slots the borrower's executors took; a run measures
	// a reclaim only when that is all of them.
	filled, slots int
	reached       bool
	toMin         time.Duration
	evictions     int
	needed        int
	// left is where the tenant's executors that were not running at the end waited.
	left waiting
}

// waiting counts a tenant's executors that wait: gated (a scheduling gate holds them back from
// the scheduler: Kueue has not admitted them) or unplaced (the scheduler's to place, and it
// found no node).
type waiting struct{ gated, unplaced int }

func (w *waiting) add(o waiting) { w.gated, w.unplaced = w.gated+o.gated, w.unplaced+o.unplaced }

// report reports the waiting executors per run, when any waited.
func (w waiting) report(b *testing.B, runs int) {
	if w.gated > 0 {
		b.ReportMetric(float64(w.gated)/float64(runs), "left-gated")
	}
	if w.unplaced > 0 {
		b.ReportMetric(float64(w.unplaced)/float64(runs), "left-unplaced")
	}
}

// waitingIn counts the namespace's waiting executors.
func waitingIn(tb testing.TB, ns string) waiting {
	tb.Helper()
	var w waiting
	for _, p := range listPods(tb, ns) {
		switch {
		case p.Spec.NodeName != "" || quota.IsTerminating(&p):
		case len(p.Spec.SchedulingGates) > 0:
			w.gated++
		default:
			w.unplaced++
		}
	}
	return w
}

// runGuarantee creates nodes for the run, fills them with executors of a borrower, then submits
// min executors of a tenant whose minimum is min, and waits until they run or runDeadline
// passes. Its objects are removed at the end, so runs do not weigh on each other.
func runGuarantee(tb testing.TB, c contender.Contender, sched *harness.ChildProcess, sc scenario, id string, nodes, min int) guaranteeRun {
	tb.Helper()
	slots := nodes * slotsPerNode
	borrower, tenant := id+"-borrower", id+"-tenant"
	defer prepareRun(tb, id, nodes, harness.DefaultNodeShape, []string{borrower, tenant})()
	defer withdraw(tb, c, borrower, tenant)
	c.Guarantee(tb, cluster.ControlPlane, borrower, sc.borrowerMin(slots, min), 0)
	c.Guarantee(tb, cluster.ControlPlane, tenant, min, 0)
	if l, ok := c.(contender.Lender); ok {
		l.Lend(tb, cluster.ControlPlane, id, contender.ExecutorRequests(slots-sc.borrowerMin(slots, min)-min))
	}
	// The scheduler learns guarantees from its informers: let them arrive before any executor,
	// so that no executor is placed as if its namespace had none.
	time.Sleep(guaranteesSettle)

	createExecutors(tb, c, borrower, id, slots, sc.grace)
	if running := waitFilled(tb, sched, borrower, slots); running < slots {
		// The contender does not let the borrower fill the cluster: there is nothing to
		// reclaim, and the run measures nothing.
		return guaranteeRun{filled: running, slots: slots, needed: min}
	}

	start := time.Now()
	createExecutors(tb, c, tenant, id, min, 0)
	running := waitRunning(tb, sched, tenant, min, runDeadline)
	r := guaranteeRun{filled: slots, slots: slots, reached: running >= min, toMin: time.Since(start), needed: min}
	if !r.reached {
		r.left = waitingIn(tb, tenant)
	}

	left := 0
	for _, p := range listPods(tb, borrower) {
		if !quota.IsTerminating(&p) {
			left++
		}
	}
	r.evictions = slots - left
	return r
}

// prepareRun creates a run's nodes, labelled run=id (createExecutors keeps the run's executors on
// them), and its namespaces, labelled with contender.RunLabel (Kueue puts the run's tenants in
// one cohort), and returns what deletes them again with every pod in them, so that
// runs do not weigh on each other.
func prepareRun(tb testing.TB, id string, nodes int, shape harness.NodeShape, namespaces []string) (cleanup func()) {
	tb.Helper()
	var nodeNames []string
	for i := range nodes {
		node := harness.NewNode(fmt.Sprintf("%s-%d", id, i), shape)
		node.Labels["run"] = id
		if _, err := cluster.Clientset.CoreV1().Nodes().Create(tb.Context(), node, metav1.CreateOptions{}); err != nil {
			tb.Fatal(err)
		}
		nodeNames = append(nodeNames, node.Name)
	}
	for _, ns := range namespaces {
		namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{contender.RunLabel: id}}}
		if _, err := cluster.Clientset.CoreV1().Namespaces().Create(tb.Context(), namespace, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			tb.Fatal(err)
		}
	}
	return func() {
		for _, ns := range namespaces {
			if err := cluster.Clientset.CoreV1().Pods(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{}); err != nil {
				tb.Errorf("cleaning up %s: %v", ns, err)
			}
		}
		for _, n := range nodeNames {
			if err := cluster.Clientset.CoreV1().Nodes().Delete(context.Background(), n, metav1.DeleteOptions{}); err != nil {
				tb.Errorf("cleaning up node %s: %v", n, err)
			}
		}
	}
}

// withdraw removes the namespaces' guarantees at the end of a run, for a contender whose
// guarantees would weigh on later runs (contender.Withdrawer).
func withdraw(tb testing.TB, c contender.Contender, namespaces ...string) {
	tb.Helper()
	if w, ok := c.(contender.Withdrawer); ok {
		for _, ns := range namespaces {
			w.Withdraw(tb, cluster.ControlPlane, ns)
		}
	}
}

// createExecutors creates n executors for the contender with a grace period of grace seconds,
// kept to the run's nodes.
func createExecutors(tb testing.TB, c contender.Contender, ns, run string, n int, grace int64) {
	tb.Helper()
	for i := range n {
		pod := harness.ExecutorPod(ns, fmt.Sprintf("exec-%d", i), "spark-role", "executor")
		contender.PrepareExecutor(c, pod)
		pod.Spec.TerminationGracePeriodSeconds = ptr.To(grace)
		pod.Spec.NodeSelector = map[string]string{"run": run}
		if _, err := cluster.Clientset.CoreV1().Pods(ns).Create(tb.Context(), pod, metav1.CreateOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
}

func listPods(tb testing.TB, ns string) []corev1.Pod {
	tb.Helper()
	pods, err := cluster.Clientset.CoreV1().Pods(ns).List(tb.Context(), metav1.ListOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return pods.Items
}

// waitRunning waits until want executors of the namespace are Running and not terminating, or
// until timeout; it returns how many were.
func waitRunning(tb testing.TB, sched *harness.ChildProcess, ns string, want int, timeout time.Duration) int {
	tb.Helper()
	return waitRunningOrStalled(tb, sched, ns, want, timeout, 0)
}

// waitFilled waits as waitRunning for a borrower filling the cluster, at most fillDeadline, and
// gives up after fillStall without a new executor running.
func waitFilled(tb testing.TB, sched *harness.ChildProcess, ns string, want int) int {
	tb.Helper()
	return waitRunningOrStalled(tb, sched, ns, want, fillDeadline, fillStall)
}

// waitRunningOrStalled is waitRunning that also returns once the count has not grown for stall
// (0: never).
func waitRunningOrStalled(tb testing.TB, sched *harness.ChildProcess, ns string, want int, timeout, stall time.Duration) int {
	tb.Helper()
	running, most, grown := 0, -1, time.Now()
	err := wait.PollUntilContextTimeout(tb.Context(), 20*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		if sched.Exited() {
			return false, fmt.Errorf("the scheduler exited:\n%s", sched.Output())
		}
		running = 0
		for _, p := range listPods(tb, ns) {
			if quota.IsRunning(&p) {
				running++
			}
		}
		if running > most {
			most, grown = running, time.Now()
		}
		return running >= want || (stall > 0 && time.Since(grown) > stall), nil
	})
	if err != nil && sched.Exited() {
		tb.Fatal(err)
	}
	return running
}
