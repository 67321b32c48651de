package reclaim

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/test/harness"
)

// stuckFinalizer keeps a deleted pod in Terminating, as a node that went away keeps its pods.
const stuckFinalizer = "farm-test.toinfn.it/stuck"

// TestReclaimPastExecutorsStuckInTerminating: two of a guaranteed farm's own executors hang in
// Terminating on a full node; their replacements must not wait for ever. Once the stuck pods'
// grace period and the scheduler's margin are over, their room counts as held and borrowed
// executors are reclaimed instead.
func TestReclaimPastExecutorsStuckInTerminating(t *testing.T) {
	s := newScenario(t, "stuck", 1, nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	s.executors(b, 0, 2)
	s.waitRunning(b, 2, time.Minute)
	s.executors(a, 0, 2)
	s.waitRunning(a, 2, time.Minute)

	// b's two executors get stuck: a finalizer nobody removes, then a deletion.
	for _, name := range []string{"exec-0", "exec-1"} {
		setStuck(t, b, name, true)
		t.Cleanup(func() { setStuck(t, b, name, false) })
		if err := cluster.Clientset.CoreV1().Pods(b.Namespace).Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.executors(b, 2, 2)
	// Bound: the stuck pods' grace period, the scheduler's 15 s margin, a trigger interval and
	// the victims' own grace period, plus 5 s.
	bound := time.Duration(harness.ExecutorGracePeriod)*time.Second + 15*time.Second + time.Second + time.Duration(harness.ExecutorGracePeriod)*time.Second + 5*time.Second
	took := s.waitRunning(b, 2, bound)
	time.Sleep(settle)
	if got := s.evicted.counts()[a.Namespace]; got != 2 {
		t.Errorf("borrowed executors evicted: %d, want 2", got)
	}
	t.Logf("replacements of 2 stuck executors running %.1fs after submission (bound %s); borrowed executors evicted: %d", took.Seconds(), bound, s.evicted.counts()[a.Namespace])
}

// setStuck adds or removes the finalizer that keeps a pod in Terminating.
func setStuck(t *testing.T, farm types.NamespacedName, pod string, stuck bool) {
	t.Helper()
	finalizers := []string{}
	if stuck {
		finalizers = []string{stuckFinalizer}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": finalizers}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Clientset.CoreV1().Pods(farm.Namespace).Patch(context.Background(), pod, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && stuck {
		t.Fatal(err)
	}
}
