package reclaim

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

// triggerInterval sets the Farm plugin's triggerInterval in a scheduler configuration.
func triggerInterval(d string) func(map[string]any) {
	return withArgs(map[string]any{"triggerInterval": d})
}

// withArgs sets Farm plugin arguments in a scheduler configuration.
func withArgs(args map[string]any) func(map[string]any) {
	return func(cfg map[string]any) { harness.SetFarmArgs(cfg, args) }
}

func TestHysteresisDelaysReclaimByNTriggers(t *testing.T) {
	t.Parallel()
	const n, interval = 3, time.Second
	s := newScenario(t, "hysteresis", 1, triggerInterval(interval.String()))
	a := s.farm("a", 0, 0, n)
	b := s.farm("b", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)

	start := time.Now()
	s.executors(b, 0, 1)
	// The counter climbs where people and dashboards can see it.
	var seen int32
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		f := &farmv1alpha1.Farm{}
		if err := s.cluster.Client.Get(ctx, a, f); err != nil {
			return false, err
		}
		seen = max(seen, f.Status.ScaledownTriggered)
		if got := s.evicted.counts()[a.Namespace]; got > 0 {
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("waiting for the reclaim: %v", err)
	}
	took := time.Since(start)
	if seen < 1 {
		t.Errorf("status.scaledownTriggered never showed a trigger before the eviction")
	}
	// Two intervals must pass between the first and the third trigger; the upper bound only
	// guards against a reclaim left to wait for an unrelated event or the 5-minute flush.
	if min := (n - 1) * interval; took < min {
		t.Errorf("first eviction %.1fs after the guaranteed pod arrived, before %d triggers %s apart (%.1fs)", took.Seconds(), n, interval, min.Seconds())
	}
	if limit := time.Duration(n+5) * interval; took > limit {
		t.Errorf("first eviction %.1fs after the guaranteed pod arrived, want within about %d × %s", took.Seconds(), n, interval)
	}
	s.waitRunning(b, 1, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	t.Logf("hysteresis N=%d, interval %s: first eviction after %.1fs, highest scaledownTriggered seen %d", n, interval, took.Seconds(), seen)
}

func TestPodDisruptionBudgetForbidsReclaim(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "pdb", 1, nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.Namespace, Name: "keep-all"},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &intstr.IntOrString{Type: intstr.Int, IntVal: 0},
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{s.labelKey: "executor"}},
		},
	}
	if _, err := s.cluster.Clientset.PolicyV1().PodDisruptionBudgets(a.Namespace).Create(t.Context(), pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The disruption controller does not run here: publish the budget's status as it would.
	pdb, err := s.cluster.Clientset.PolicyV1().PodDisruptionBudgets(a.Namespace).Get(t.Context(), "keep-all", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: 0, CurrentHealthy: 4, DesiredHealthy: 4, ExpectedPods: 4}
	if _, err := s.cluster.Clientset.PolicyV1().PodDisruptionBudgets(a.Namespace).UpdateStatus(t.Context(), pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	s.executors(b, 0, 1)
	var last []string
	err = wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		last = s.events(b.Namespace, "exec-0")
		for _, e := range last {
			if strings.HasPrefix(e, "ReclaimBlocked: ") && strings.Contains(e, "PodDisruptionBudget "+a.Namespace+"/keep-all") {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no ReclaimBlocked event naming the disruption budget on the waiting pod; events: %q", last)
	}
	time.Sleep(settle)
	if got := s.evicted.counts(); len(got) != 0 {
		t.Errorf("evictions: %v, want none", got)
	}
	if got := s.running(a); got != 4 {
		t.Errorf("running executors of the protected farm = %d, want 4", got)
	}
}

func TestNoPingPongWhenTheVictimFarmRecreatesExecutors(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "pingpong", 3, nil)
	a := s.farm("a", 4, 0, 0)
	b := s.farm("b", 4, 0, 0)
	s.executors(a, 0, 12)
	s.waitRunning(a, 12, time.Minute)

	// Like a Spark driver, a recreates every executor it loses, at once.
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		next := 100
		_ = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			pods, err := s.cluster.Clientset.CoreV1().Pods(a.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, nil
			}
			live := 0
			for _, p := range pods.Items {
				if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodFailed {
					live++
				}
			}
			for ; live < 12; live++ {
				if err := s.createExecutor(a, "exec-"+strconv.Itoa(next)); err == nil {
					next++
				}
			}
			return false, nil
		})
	}()
	t.Cleanup(func() { stop(); wg.Wait() })

	s.executors(b, 0, 4)
	s.waitRunning(b, 4, time.Minute)
	afterMin := s.evicted.counts()
	time.Sleep(2 * settle)
	if got := s.running(b); got != 4 {
		t.Errorf("b running %d executors after its replacements came back, want its minimum 4", got)
	}
	if diff := cmp.Diff(afterMin, s.evicted.counts()); diff != "" {
		t.Errorf("evictions after b reached its minimum (-then +now):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{a.Namespace: 4}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
}
