package reclaim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/toinfn/farm/pkg/quota"
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
	t.Parallel()
	s := newScenario(t, "race", 1, nil)
	s.cluster.StartDefaultScheduler(t)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)

	// A notebook of no Farm waits for the default scheduler: the node is full.
	notebook := harness.ExecutorPod(b.Namespace, "notebook", "app", "notebook")
	notebook.Spec.SchedulerName = corev1.DefaultSchedulerName
	notebook.Spec.NodeSelector = map[string]string{"scenario": s.id}
	if _, err := s.cluster.Clientset.CoreV1().Pods(b.Namespace).Create(t.Context(), notebook, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.waitPodCondition(b.Namespace, "notebook", func(p *corev1.Pod) bool {
		c := podScheduled(p)
		return c != nil && c.Reason == corev1.PodReasonUnschedulable
	})

	start := time.Now()
	s.executors(b, 0, 1)
	s.waitEvictions(a.Namespace, 1, time.Minute)
	// farm-scheduler is slow to come back: the default scheduler has the freed room to itself.
	s.sched.Pause()
	s.waitPodCondition(b.Namespace, "notebook", func(p *corev1.Pod) bool { return p.Spec.NodeName != "" })
	s.sched.Resume()

	// Two ways it goes, both real: farm-scheduler sees the room taken before it binds (RoomTaken on
	// its pod, and it reclaims again), or its cache has not yet seen the notebook bound and it binds
	// into the taken room, and the kubelet rejects the pod (OutOfcpu) — then the tenant's driver
	// replaces the executor, as Spark does, and the replacement reclaims again.
	bound := 2*(time.Second+time.Duration(harness.ExecutorGracePeriod)*time.Second) + 5*time.Second
	running, rejected := s.keepOneExecutor(b, time.Minute)
	took := time.Since(start)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 2}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	if took > bound {
		t.Errorf("guarantee met %.1fs after the executor arrived, want within %s (two reclaims)", took.Seconds(), bound)
	}
	var taken []string
	for _, e := range s.events(b.Namespace, "exec-0") {
		if strings.HasPrefix(e, farm.EventRoomTaken+":") {
			taken = append(taken, e)
		}
	}
	if len(taken) == 0 && len(rejected) == 0 {
		t.Errorf("the room was taken but neither farm-scheduler reported it (%s) nor the kubelet rejected the executor; events: %v", farm.EventRoomTaken, s.events(b.Namespace, "exec-0"))
	}
	if n := s.running(b); n != 2 {
		t.Errorf("running in %s: %d, want the notebook and the executor", b.Namespace, n)
	}
	t.Logf("room taken by the default scheduler's notebook; %s running %.1fs after the executor arrived (bound %s, paused included); evictions %v; reported %v; rejected by the kubelet %v",
		running, took.Seconds(), bound, s.evicted.counts(), taken, rejected)
}

// keepOneExecutor waits until the farm runs an executor, replacing each one the kubelet rejects
// (Failed) as a Spark driver does; it returns the running one and those rejected.
func (s *scenario) keepOneExecutor(farm types.NamespacedName, timeout time.Duration) (string, []string) {
	s.t.Helper()
	var running string
	var rejected []string
	next := 1
	err := wait.PollUntilContextTimeout(s.t.Context(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).List(ctx, metav1.ListOptions{LabelSelector: s.labelKey})
		if err != nil {
			return false, err
		}
		waiting := false
		for _, p := range pods.Items {
			switch {
			case quota.IsRunning(&p):
				running = p.Name
				return true, nil
			case p.Status.Phase == corev1.PodFailed && !slices.Contains(rejected, p.Name):
				rejected = append(rejected, p.Name)
			case !quota.IsFinished(&p):
				waiting = true
			}
		}
		if !waiting {
			for ; ; next++ {
				if err := s.createExecutor(farm, fmt.Sprintf("exec-%d", next)); err == nil {
					break
				}
			}
		}
		return false, nil
	})
	if err != nil {
		s.t.Fatalf("no executor of %s running: %v (rejected %v)", farm, err, rejected)
	}
	return running, rejected
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
func (s *scenario) waitPodCondition(namespace, name string, cond func(*corev1.Pod) bool) {
	t := s.t
	t.Helper()
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := s.cluster.Clientset.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
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
