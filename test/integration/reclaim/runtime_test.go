package reclaim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestMinimumRuntimeSparesYoungExecutors: with minimumRuntime, a borrowed executor younger than
// it is a victim only when no older one would do. On pool "old" the youngest executor (the one a
// reclaim takes first otherwise) is spared for an older one; on pool "young", where every
// borrowed executor is young, one of them is taken.
func TestMinimumRuntimeSparesYoungExecutors(t *testing.T) {
	t.Parallel()
	const minimumRuntime = 15 * time.Second
	s := newScenario(t, "runtime", 0, withArgs(map[string]any{"minimumRuntime": minimumRuntime.String()}))
	s.node("old", inPool("old"))
	s.node("young", inPool("young"))
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 1, 0, 0)
	c := s.farm("c", 0, 0, 0)
	d := s.farm("d", 1, 0, 0)

	s.executorsWith(a, 0, 3, onPool("old"))
	s.waitRunning(a, 3, time.Minute)
	// The three grow older than the minimum runtime.
	time.Sleep(time.Until(s.startedAt(a, "exec-2").Add(minimumRuntime)))
	s.executorsWith(a, 3, 1, onPool("old"))
	s.waitRunning(a, 4, time.Minute)
	s.executorsWith(b, 0, 1, onPool("old"))
	s.waitRunning(b, 1, time.Minute)

	s.executorsWith(c, 0, 4, onPool("young"))
	s.waitRunning(c, 4, time.Minute)
	// The oldest of c's executors, read now: the one the reclaim takes is gone by the end.
	oldestYoung := s.startedAt(c, "exec-0")
	for _, name := range []string{"exec-1", "exec-2", "exec-3"} {
		if started := s.startedAt(c, name); started.Before(oldestYoung) {
			oldestYoung = started
		}
	}
	s.executorsWith(d, 0, 1, onPool("young"))
	s.waitRunning(d, 1, time.Minute)
	time.Sleep(settle)

	if diff := cmp.Diff(map[string]int{a.Namespace: 1, c.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	if young := s.pod(a, "exec-3"); young.DeletionTimestamp != nil {
		t.Errorf("a's young executor exec-3 was evicted although older ones could make the room")
	}
	if age := time.Since(oldestYoung); age >= minimumRuntime {
		t.Errorf("c's executors were %s old at the end, not younger than the minimum runtime: the young pool's case proves nothing", age)
	}
	t.Logf("minimum runtime %s: evictions %v; a's young executor kept", minimumRuntime, s.evicted.counts())
}

// pod returns a pod of the farm's namespace.
func (s *scenario) pod(farm types.NamespacedName, name string) *corev1.Pod {
	s.t.Helper()
	p, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Get(s.t.Context(), name, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// startedAt returns when a running pod started.
func (s *scenario) startedAt(farm types.NamespacedName, name string) time.Time {
	s.t.Helper()
	p := s.pod(farm, name)
	if p.Status.StartTime == nil {
		s.t.Fatalf("pod %s/%s has no start time", farm.Namespace, name)
	}
	return p.Status.StartTime.Time
}
