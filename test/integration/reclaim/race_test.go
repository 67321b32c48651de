package reclaim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/toinfn/farm/pkg/scheduler/farm"
	"github.com/toinfn/farm/test/harness"
)

// TestDefaultSchedulerTakesTheFreedRoom: the cluster's default scheduler has a notebook waiting
// on the same node when a reclaim frees room for a guaranteed executor, and farm-scheduler is
// slow to come back (paused while the victim leaves), so the notebook takes the room: the default
// scheduler does not see farm-scheduler's nomination. farm-scheduler notices the room taken
// (RoomTaken on the waiting pod) and reclaims once more; the guarantee is met with exactly one
// eviction per executor's worth of room lost, and the notebook keeps running.
func TestDefaultSchedulerTakesTheFreedRoom(t *testing.T) {
	s := newScenario(t, "race", 1, nil)
	cluster.StartDefaultScheduler(t)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)

	// A notebook of no Farm waits for the default scheduler: the node is full.
	notebook := harness.ExecutorPod(b.Namespace, "notebook", "app", "notebook")
	notebook.Spec.SchedulerName = corev1.DefaultSchedulerName
	notebook.Spec.NodeSelector = map[string]string{"scenario": s.id}
	if _, err := cluster.Clientset.CoreV1().Pods(b.Namespace).Create(t.Context(), notebook, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPodCondition(t, b.Namespace, "notebook", func(p *corev1.Pod) bool {
		c := podScheduled(p)
		return c != nil && c.Reason == corev1.PodReasonUnschedulable
	})

	start := time.Now()
	s.executors(b, 0, 1)
	s.waitEvictions(a.Namespace, 1, time.Minute)
	// farm-scheduler is slow to come back: the default scheduler has the freed room to itself.
	s.sched.Pause()
	waitPodCondition(t, b.Namespace, "notebook", func(p *corev1.Pod) bool { return p.Spec.NodeName != "" })
	s.sched.Resume()

	bound := 2*(time.Second+time.Duration(harness.ExecutorGracePeriod)*time.Second) + 5*time.Second
	waitPodCondition(t, b.Namespace, "exec-0", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	took := time.Since(start)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 2}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	if took > bound {
		t.Errorf("guarantee met %.1fs after the executor arrived, want within %s (two reclaims)", took.Seconds(), bound)
	}
	const pod = "exec-0"
	var taken []string
	for _, e := range events(t, b.Namespace, pod) {
		if strings.HasPrefix(e, farm.EventRoomTaken+":") {
			taken = append(taken, e)
		}
	}
	if len(taken) == 0 {
		t.Errorf("no %s event on %s/%s; events: %v", farm.EventRoomTaken, b.Namespace, pod, events(t, b.Namespace, pod))
	}
	if running := s.running(b); running != 2 {
		t.Errorf("running in %s: %d, want the notebook and the executor", b.Namespace, running)
	}
	t.Logf("room taken by the default scheduler's notebook; guarantee met %.1fs after the executor arrived (bound %s, paused included); evictions %v; %v", took.Seconds(), bound, s.evicted.counts(), taken)
}

// podScheduled returns a pod's PodScheduled condition.
func podScheduled(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// waitPodCondition waits until cond holds for the pod.
func waitPodCondition(t *testing.T, namespace, name string, cond func(*corev1.Pod) bool) {
	t.Helper()
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := cluster.Clientset.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = p
		return cond(p), nil
	})
	if err != nil {
		t.Fatalf("pod %s/%s: %v (last status: %+v)", namespace, name, err, last.Status)
	}
}
