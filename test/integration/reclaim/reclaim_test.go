package reclaim

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
)

// settle is how long a test watches for evictions that must not happen.
const settle = 3 * time.Second

func TestReclaimTakesExactlyWhatTheGuaranteeNeeds(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "exact", 3, nil)
	a := s.farm("a", 4, 0, 0)
	b := s.farm("b", 4, 0, 0)
	s.executors(a, 0, 12)
	s.waitRunning(a, 12, time.Minute)

	s.executors(b, 0, 4)
	took := s.waitRunning(b, 4, time.Minute)
	time.Sleep(settle)

	if diff := cmp.Diff(map[string]int{a.Namespace: 4}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	t.Logf("4 guaranteed executors running %.1fs after submission, %d evictions", took.Seconds(), s.evicted.counts()[a.Namespace])
}

func TestReclaimIsProportionalToOverquota(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "proportional", 3, nil)
	a := s.farm("a", 2, 0, 0) // will be over by 6
	b := s.farm("b", 2, 0, 0) // will be over by 2
	c := s.farm("c", 4, 0, 0)
	s.executors(a, 0, 8)
	s.waitRunning(a, 8, time.Minute)
	s.executors(b, 0, 4)
	s.waitRunning(b, 4, time.Minute)

	s.executors(c, 0, 4)
	s.waitRunning(c, 4, time.Minute)
	time.Sleep(settle)

	if diff := cmp.Diff(map[string]int{a.Namespace: 3, b.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
}

func TestNothingToReclaim(t *testing.T) {
	t.Parallel()
	t.Run("every other farm at its minimum", func(t *testing.T) {
		s := newScenario(t, "atmin", 1, nil)
		a := s.farm("a", 4, 0, 0)
		c := s.farm("c", 2, 0, 0)
		s.executors(a, 0, 4)
		s.waitRunning(a, 4, time.Minute)
		s.executors(c, 0, 1)
		s.waitUnschedulable(c, "exec-0", "is over its minimum")
		time.Sleep(settle)
		if got := s.evicted.counts(); len(got) != 0 {
			t.Errorf("evictions: %v, want none", got)
		}
	})
	t.Run("only pods that belong to no Farm", func(t *testing.T) {
		s := newScenario(t, "nofarm", 1, nil)
		c := s.farm("c", 2, 0, 0)
		// Four executors of the type in a namespace without a Farm fill the node.
		orphans := s.id + "-orphans"
		if _, err := s.cluster.Clientset.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: orphans}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		o := c
		o.Namespace = orphans
		s.executors(o, 0, 4)
		s.waitRunning(o, 4, time.Minute)
		s.executors(c, 0, 1)
		s.waitUnschedulable(c, "exec-0", "is over its minimum")
		time.Sleep(settle)
		if got := s.evicted.counts(); len(got) != 0 {
			t.Errorf("evictions: %v, want none", got)
		}
	})
}

func TestMaxExecutorsCeiling(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "ceiling", 1, nil)
	a := s.farm("a", 1, 2, 0)
	s.executors(a, 0, 3)
	s.waitRunning(a, 2, time.Minute)
	s.waitUnschedulable(a, s.pendingPod(a), "farm "+a.String()+" is at its maxExecutors (2)")
	if got := s.running(a); got != 2 {
		t.Errorf("running executors = %d, want the ceiling 2", got)
	}
}

func TestBorrowingPodsNeverEvict(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "borrowers", 1, nil)
	a := s.farm("a", 1, 0, 0)
	atMin := s.farm("b", 1, 0, 0)
	noMin := s.farm("c", 0, 0, 0)
	s.executors(a, 0, 3)
	s.executors(atMin, 0, 1)
	s.waitRunning(a, 3, time.Minute)
	s.waitRunning(atMin, 1, time.Minute)

	// The node is full; b is at its minimum and c has none: both would only borrow.
	s.executors(atMin, 1, 1)
	s.executors(noMin, 0, 1)
	s.waitUnschedulable(atMin, "exec-1", "a borrowing pod never reclaims")
	s.waitUnschedulable(noMin, "exec-0", "a borrowing pod never reclaims")
	time.Sleep(settle)
	if got := s.evicted.counts(); len(got) != 0 {
		t.Errorf("evictions: %v, want none", got)
	}
}

// waitEvictions waits until the namespace has seen n evictions.
func (s *scenario) waitEvictions(namespace string, n int, timeout time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	if err := wait.PollUntilContextTimeout(s.t.Context(), 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		return s.evicted.counts()[namespace] >= n, nil
	}); err != nil {
		s.t.Fatalf("waiting for %d evictions in %s: %v (seen %v)", n, namespace, err, s.evicted.counts())
	}
	return time.Since(start)
}

// pendingPod returns the name of the farm's one unbound executor.
func (s *scenario) pendingPod(farm types.NamespacedName) string {
	s.t.Helper()
	var name string
	err := wait.PollUntilContextTimeout(s.t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		var pending []string
		for _, p := range pods.Items {
			if p.Spec.NodeName == "" {
				pending = append(pending, p.Name)
			}
		}
		if len(pending) == 1 {
			name = pending[0]
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		s.t.Fatalf("waiting for exactly one pending executor of %s: %v", farm, err)
	}
	return name
}
