package reclaim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

// stuckFinalizer keeps a deleted pod in Terminating, as a node that went away keeps its pods.
const stuckFinalizer = "farm-test.toinfn.it/stuck"

// TestReclaimPastExecutorsStuckInTerminating: two of a guaranteed farm's own executors hang in
// Terminating on a full node; their replacements must not wait for ever. Once the stuck pods'
// grace period and the scheduler's margin are over, their room counts as held and borrowed
// executors are reclaimed instead.
func TestReclaimPastExecutorsStuckInTerminating(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "stuck", 1, nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	s.executors(b, 0, 2)
	s.waitRunning(b, 2, time.Minute)
	s.executors(a, 0, 2)
	s.waitRunning(a, 2, time.Minute)

	// b's two executors get stuck.
	s.strand(b, "exec-0", "exec-1")
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

// strand deletes a farm's executors and keeps them in Terminating until the test ends, as a node
// that went away keeps its pods.
func (s *scenario) strand(farm types.NamespacedName, names ...string) {
	t := s.t
	t.Helper()
	for _, name := range names {
		s.setStuck(farm, name, true)
		t.Cleanup(func() { s.setStuck(farm, name, false) })
		if err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// setStuck adds or removes the finalizer that keeps a pod in Terminating.
func (s *scenario) setStuck(farm types.NamespacedName, pod string, stuck bool) {
	t := s.t
	t.Helper()
	finalizers := []string{}
	if stuck {
		finalizers = []string{stuckFinalizer}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": finalizers}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Patch(context.Background(), pod, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && stuck {
		t.Fatal(err)
	}
}

// withLeaderElection runs farm-scheduler replicas on one Lease with short timings, as the chart
// runs two.
func withLeaderElection(lease string, interval time.Duration) func(map[string]any) {
	return func(cfg map[string]any) {
		triggerInterval(interval.String())(cfg)
		cfg["leaderElection"] = map[string]any{
			"leaderElect":       true,
			"resourceLock":      "leases",
			"resourceName":      lease,
			"resourceNamespace": "default",
			"leaseDuration":     "3s",
			"renewDeadline":     "2s",
			"retryPeriod":       "500ms",
		}
	}
}

// TestSchedulerFailoverMidHysteresis: two replicas, the leader killed (SIGKILL) while a victim
// farm's hysteresis runs. The new leader takes up the published count (it does not start the
// hysteresis over, nor let the farm off), the guarantee is met, and exactly one executor is
// evicted.
func TestSchedulerFailoverMidHysteresis(t *testing.T) {
	t.Parallel()
	const n, interval = 4, time.Second
	edit := withLeaderElection("farm-scheduler-failover", interval)
	s := newScenario(t, "failover", 1, edit)
	second := s.cluster.StartSchedulerBinary(t, s.cluster.SchedulerConfig(t, edit))
	a := s.farm("a", 0, 0, n)
	b := s.farm("b", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)

	start := time.Now()
	s.executors(b, 0, 1)
	// Mid-hysteresis: the count published is 2 of 4.
	s.waitTriggered(a, 2)
	leader, standby := s.sched, second
	if !strings.Contains(leader.Output(), "Successfully acquired lease") {
		leader, standby = second, s.sched
	}
	if !strings.Contains(leader.Output(), "Successfully acquired lease") {
		t.Fatalf("no replica leads:\n%s\n%s", s.sched.Output(), second.Output())
	}
	leader.Kill()
	s.sched = standby // waitRunning watches the replica that is left

	// The count never goes back while the new leader takes over, and the eviction comes.
	var seen []int32
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		f := &farmv1alpha1.Farm{}
		if err := s.cluster.Client.Get(ctx, a, f); err != nil {
			return false, err
		}
		if len(seen) == 0 || seen[len(seen)-1] != f.Status.ScaledownTriggered {
			seen = append(seen, f.Status.ScaledownTriggered)
		}
		return s.evicted.counts()[a.Namespace] > 0, nil
	})
	if err != nil {
		t.Fatalf("waiting for the reclaim after the failover: %v (scaledownTriggered seen: %v)", err, seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("scaledownTriggered went back from %d to %d during the failover: the hysteresis started over (seen %v)", seen[i-1], seen[i], seen)
		}
	}
	s.waitRunning(b, 1, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	// Bound: the lease (3 s), the hysteresis, the victim's grace period, plus 5 s.
	total := time.Since(start) - settle
	if bound := 3*time.Second + n*interval + time.Duration(harness.ExecutorGracePeriod)*time.Second + 5*time.Second; total > bound {
		t.Errorf("guarantee met %.1fs after the pod arrived, want within %s", total.Seconds(), bound)
	}
	t.Logf("leader killed at count 2 of %d; guarantee met %.1fs after the pod arrived; scaledownTriggered seen %v; evictions %v", n, total.Seconds(), seen, s.evicted.counts())
}

// waitTriggered waits until a farm's status.scaledownTriggered reaches at least n.
func (s *scenario) waitTriggered(farm types.NamespacedName, n int32) {
	t := s.t
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		f := &farmv1alpha1.Farm{}
		if err := s.cluster.Client.Get(ctx, farm, f); err != nil {
			return false, err
		}
		return f.Status.ScaledownTriggered >= n, nil
	})
	if err != nil {
		t.Fatalf("farm %s: scaledownTriggered never reached %d: %v", farm, n, err)
	}
}

// TestReclaimSurvivesAnApiserverOutage: farm-scheduler loses the apiserver for 5 s while a
// victim farm's hysteresis runs. When it is back, the guarantee is met, with exactly one
// eviction.
func TestReclaimSurvivesAnApiserverOutage(t *testing.T) {
	t.Parallel()
	const n, interval, outage = 3, time.Second, 5 * time.Second
	cluster := pool.Acquire(t)
	relay := cluster.NewOutage(t)
	s := newScenarioOn(t, cluster, "outage", 1, func(cfg map[string]any) {
		triggerInterval(interval.String())(cfg)
		cfg["clientConnection"].(map[string]any)["kubeconfig"] = relay.Kubeconfig
	})
	a := s.farm("a", 0, 0, n)
	b := s.farm("b", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)

	start := time.Now()
	s.executors(b, 0, 1)
	s.waitTriggered(a, 1)
	closed := relay.Cut(outage)
	took := s.waitRunning(b, 1, time.Minute)
	total := time.Since(start)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	if bound := outage + n*interval + time.Duration(harness.ExecutorGracePeriod)*time.Second + 5*time.Second; total > bound {
		t.Errorf("guarantee met %.1fs after the pod arrived, want within %s", total.Seconds(), bound)
	}
	// The cut reached the scheduler: its connections were closed and it tried again while cut.
	// (Counted at the relay: client-go's wording for a broken watch varies with timing.)
	if closed == 0 || relay.Refused() == 0 {
		t.Errorf("the outage did not reach farm-scheduler: %d connections closed, %d reconnections refused", closed, relay.Refused())
	}
	t.Logf("apiserver unreachable for %s mid-hysteresis; guarantee met %.1fs after the pod arrived (%.1fs after the wait began); evictions %v; %d connections closed, %d reconnections refused", outage, total.Seconds(), took.Seconds(), s.evicted.counts(), closed, relay.Refused())
}

// TestReclaimAroundANodeThatWentAway: the node holding a guaranteed farm's executors goes
// NotReady (unreachable taints, as the node lifecycle controller sets them) and its executors
// hang in Terminating. Their replacements cannot go there: borrowed executors on the healthy node
// are reclaimed for them at once, without waiting for the stuck pods.
func TestReclaimAroundANodeThatWentAway(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "nodegone", 0, nil)
	s.node("dead", nil)
	s.node("alive", nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	dead := map[string]string{corev1.LabelHostname: s.id + "-dead"}
	s.executorsWith(b, 0, 2, func(p *corev1.Pod) { p.Spec.NodeSelector = dead })
	s.waitRunning(b, 2, time.Minute)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)

	// The node goes away: Ready Unknown, unreachable taints; its pods are deleted and hang.
	node, err := s.cluster.Clientset.CoreV1().Nodes().Get(t.Context(), s.id+"-dead", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Spec.Taints = append(node.Spec.Taints,
		corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
		corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute})
	node, err = s.cluster.Clientset.CoreV1().Nodes().Update(t.Context(), node, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == corev1.NodeReady {
			node.Status.Conditions[i].Status = corev1.ConditionUnknown
			node.Status.Conditions[i].Reason = "NodeStatusUnknown"
		}
	}
	if _, err := s.cluster.Clientset.CoreV1().Nodes().UpdateStatus(t.Context(), node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.strand(b, "exec-0", "exec-1")
	s.executors(b, 2, 2)
	// Bound: a trigger interval, the victims' grace period, plus 5 s; no wait for the stuck pods.
	bound := time.Second + time.Duration(harness.ExecutorGracePeriod)*time.Second + 5*time.Second
	took := s.waitRunning(b, 2, bound)
	time.Sleep(settle)
	if got := s.evicted.counts()[a.Namespace]; got != 2 {
		t.Errorf("borrowed executors evicted: %d, want 2", got)
	}
	t.Logf("node gone with 2 executors stuck: replacements running %.1fs after submission (bound %s); borrowed executors evicted: %d", took.Seconds(), bound, s.evicted.counts()[a.Namespace])
}

// TestSchedulerFailoverMidEviction: two replicas, the leader killed (SIGKILL) the moment its
// eviction lands, while the victim still decommissions (a long grace period). The new leader
// finds the victim leaving from what the API shows and waits for its room: nothing is evicted
// twice, and the guarantee is met once the victim is gone.
func TestSchedulerFailoverMidEviction(t *testing.T) {
	t.Parallel()
	const interval, victimGrace = time.Second, 10
	edit := withLeaderElection("farm-scheduler-midevict", interval)
	s := newScenario(t, "midevict", 1, edit)
	second := s.cluster.StartSchedulerBinary(t, s.cluster.SchedulerConfig(t, edit))
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 1, 0, 0)
	s.executorsWith(a, 0, 4, func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](victimGrace) })
	s.waitRunning(a, 4, time.Minute)

	start := time.Now()
	s.executors(b, 0, 1)
	s.waitEvictions(a.Namespace, 1, time.Minute)
	leader, standby := s.sched, second
	if !strings.Contains(leader.Output(), "Successfully acquired lease") {
		leader, standby = second, s.sched
	}
	leader.Kill()
	killedAfter := time.Since(start)
	s.sched = standby

	s.waitRunning(b, 1, time.Minute)
	total := time.Since(start)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	// Bound: the victim's grace period (it decommissions whoever leads), the Lease, plus 5 s.
	if bound := victimGrace*time.Second + 3*time.Second + 5*time.Second; total > bound {
		t.Errorf("guarantee met %.1fs after the pod arrived, want within %s", total.Seconds(), bound)
	}
	t.Logf("leader killed %.1fs after the pod arrived, its eviction landed; guarantee met %.1fs after the pod arrived; evictions %v", killedAfter.Seconds(), total.Seconds(), s.evicted.counts())
}
