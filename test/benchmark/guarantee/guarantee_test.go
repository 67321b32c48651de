package guarantee

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}

// slotsPerNode is how many executors a harness.DefaultNodeShape node holds.
const slotsPerNode = 4

// BenchmarkTimeToGuarantee fills the cluster with a borrower's executors, then lets a tenant
// below its minimum submit exactly its minimum, and reports how long until all of them run and
// how many of the borrower's executors were evicted per executor the tenant needed.
func BenchmarkTimeToGuarantee(b *testing.B) {
	for _, size := range []struct{ nodes, min int }{
		{nodes: 10, min: 8},
		{nodes: 50, min: 40},
		{nodes: 100, min: 100},
	} {
		b.Run(fmt.Sprintf("%dnodes_min%d", size.nodes, size.min), func(b *testing.B) {
			sched := cluster.StartSchedulerBinary(b, cluster.SchedulerConfig(b, nil))
			var toMin time.Duration
			var evictions, needed int
			i := 0
			for b.Loop() {
				r := runGuarantee(b, sched, fmt.Sprintf("g%d-%d", size.nodes, i), size.nodes, size.min)
				toMin += r.toMin
				evictions += r.evictions
				needed += r.needed
				i++
			}
			b.ReportMetric(toMin.Seconds()/float64(i), "s-to-min")
			b.ReportMetric(float64(evictions)/float64(needed), "evictions/needed")
		})
	}
}

// TestTimeToGuaranteeSmoke runs the benchmark's scenario once on a small cluster, so that it
// cannot rot, and checks what the benchmark reports: every needed executor runs, and exactly one
// borrowed executor was evicted for each.
func TestTimeToGuaranteeSmoke(t *testing.T) {
	sched := cluster.StartSchedulerBinary(t, cluster.SchedulerConfig(t, nil))
	r := runGuarantee(t, sched, "smoke", 3, 4)
	if r.evictions != r.needed {
		t.Errorf("%d borrowed executors evicted for %d needed", r.evictions, r.needed)
	}
	t.Logf("minimum of %d running %.2fs after submission; %d evictions", r.needed, r.toMin.Seconds(), r.evictions)
}

// guaranteeRun is what one run measured.
type guaranteeRun struct {
	toMin     time.Duration
	evictions int
	needed    int
}

// runGuarantee creates nodes for the run, fills them with executors of a borrower (minimum 0),
// then submits min executors of a tenant whose minimum is min, and waits until they run. Its
// objects are removed at the end, so runs do not weigh on each other.
func runGuarantee(tb testing.TB, sched *harness.ChildProcess, id string, nodes, min int) guaranteeRun {
	tb.Helper()
	ctx := tb.Context()
	var nodeNames []string
	for i := range nodes {
		node := harness.NewNode(fmt.Sprintf("%s-%d", id, i), harness.DefaultNodeShape)
		node.Labels["run"] = id
		if _, err := cluster.Clientset.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			tb.Fatal(err)
		}
		nodeNames = append(nodeNames, node.Name)
	}
	borrower := newTenant(tb, id+"-borrower", 0)
	tenant := newTenant(tb, id+"-tenant", min)
	defer func() {
		for _, ns := range []string{borrower, tenant} {
			if err := cluster.Clientset.CoreV1().Pods(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{}); err != nil {
				tb.Errorf("cleaning up %s: %v", ns, err)
			}
		}
		for _, n := range nodeNames {
			if err := cluster.Clientset.CoreV1().Nodes().Delete(context.Background(), n, metav1.DeleteOptions{}); err != nil {
				tb.Errorf("cleaning up node %s: %v", n, err)
			}
		}
	}()

	slots := nodes * slotsPerNode
	createExecutors(tb, borrower, id, slots)
	waitRunning(tb, sched, borrower, slots)

	start := time.Now()
	createExecutors(tb, tenant, id, min)
	waitRunning(tb, sched, tenant, min)
	toMin := time.Since(start)

	left := 0
	for _, p := range listPods(tb, borrower) {
		if p.DeletionTimestamp == nil {
			left++
		}
	}
	return guaranteeRun{toMin: toMin, evictions: slots - left, needed: min}
}

// newTenant creates a namespace and its Farm (hysteresis of one trigger).
func newTenant(tb testing.TB, ns string, min int) string {
	tb.Helper()
	if err := cluster.CreateNamespace(tb.Context(), ns); err != nil {
		tb.Fatal(err)
	}
	farm := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spark"},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: int32(min), ScaledownAfterNTriggers: 1},
	}
	if err := cluster.Client.Create(tb.Context(), farm); err != nil {
		tb.Fatal(err)
	}
	return ns
}

// createExecutors creates n executors with no grace period, kept to the run's nodes.
func createExecutors(tb testing.TB, ns, run string, n int) {
	tb.Helper()
	for i := range n {
		pod := harness.ExecutorPod(ns, fmt.Sprintf("exec-%d", i), "spark-role", "executor")
		pod.Spec.TerminationGracePeriodSeconds = ptr.To[int64](0)
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

// waitRunning waits until want executors of the namespace are Running and not terminating.
func waitRunning(tb testing.TB, sched *harness.ChildProcess, ns string, want int) {
	tb.Helper()
	running := 0
	err := wait.PollUntilContextTimeout(tb.Context(), 20*time.Millisecond, 5*time.Minute, true, func(context.Context) (bool, error) {
		if sched.Exited() {
			return false, fmt.Errorf("the scheduler exited")
		}
		running = 0
		for _, p := range listPods(tb, ns) {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running++
			}
		}
		return running >= want, nil
	})
	if err != nil {
		tb.Fatalf("waiting for %d running executors in %s (running: %d): %v\n%s", want, ns, running, err, sched.Output())
	}
}
