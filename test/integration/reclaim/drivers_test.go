package reclaim

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/test/harness"
)

// notebookLabel marks JupyterHub's notebook servers; the test's scheduler takes them as drivers.
const notebookKey, notebookValue = "component", "singleuser-server"

// withDriverArgs adds the notebook label to the Farm plugin's drivers (Spark's stays).
var withDriverArgs = withArgs(map[string]any{"drivers": []any{
	map[string]any{"labelKey": "spark-role", "labelValue": "driver"},
	map[string]any{"labelKey": notebookKey, "labelValue": notebookValue},
}})

// TestDriverStartsOnAFullCluster: the cluster is full of borrowed executors and tenant b, below
// its minimum, submits a Spark driver. The driver reclaims room for itself; a second driver of b
// borrows (it waits, evicting nothing); the first driver's executors reclaim theirs up to b's
// minimum; and tenant c's notebook, marked as a driver by the scheduler's arguments, starts as b's
// driver did.
func TestDriverStartsOnAFullCluster(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "drivers", 1, withDriverArgs)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	c := s.farm("c", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)
	// Bound: a trigger interval, the victim's grace period, plus 5 s.
	bound := time.Second + time.Duration(harness.ExecutorGracePeriod)*time.Second + 5*time.Second

	start := time.Now()
	s.driver(b, "driver", "spark-role", "driver")
	s.waitPodRunning(b, "driver", bound)
	driverTook := time.Since(start)
	// While b is still below its minimum, a second driver of b would borrow: it waits and
	// evicts nothing.
	s.driver(b, "driver-2", "spark-role", "driver")
	s.waitUnschedulable(b, "driver-2", "already has 1 driver(s) running or being placed")
	if got := s.evicted.counts()[a.Namespace]; got != 1 {
		t.Fatalf("evictions after b's drivers: %d, want 1 (the first driver's)", got)
	}
	s.executors(b, 0, 2)
	s.waitRunning(b, 3, time.Minute) // the driver and its two executors
	executorsTook := time.Since(start)

	start = time.Now()
	s.driver(c, "notebook", notebookKey, notebookValue)
	s.waitPodRunning(c, "notebook", bound)
	notebookTook := time.Since(start)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 4}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	if got := s.scheduledCondition(b, "driver-2"); got == nil || got.Status != corev1.ConditionFalse {
		t.Errorf("b's second driver: PodScheduled %+v, want it still waiting", got)
	}
	t.Logf("driver running %.1fs after submission (bound %s); b at its minimum %.1fs after the driver's submission; notebook running %.1fs after submission; evictions %v",
		driverTook.Seconds(), bound, executorsTook.Seconds(), notebookTook.Seconds(), s.evicted.counts())
}

// driver creates a pod of farm-scheduler in the farm's namespace, labelled key=value, pinned to
// the scenario's nodes.
func (s *scenario) driver(farm types.NamespacedName, name, key, value string) {
	s.t.Helper()
	pod := harness.ExecutorPod(farm.Namespace, name, key, value)
	pod.Spec.NodeSelector = map[string]string{"scenario": s.id}
	if _, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Create(s.t.Context(), pod, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// waitPodRunning waits until the named pod runs.
func (s *scenario) waitPodRunning(farm types.NamespacedName, name string, timeout time.Duration) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), timeout)
	defer cancel()
	for {
		p, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning {
			return
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("pod %s/%s not running within %s (last error %v); the scheduler's output follows", farm.Namespace, name, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
