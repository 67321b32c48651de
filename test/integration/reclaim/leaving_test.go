package reclaim

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/quota"
)

// TestExecutorsSparkDecommissionsAreNoVictims: Spark labels an executor it decommissions (or
// marks inactive); farm-scheduler counts it as leaving its farm and never picks it, although it
// is the youngest executor on the node, which a reclaim takes first otherwise.
func TestExecutorsSparkDecommissionsAreNoVictims(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "decom", 1, nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	s.executors(a, 0, 3)
	s.waitRunning(a, 3, time.Minute)
	// Start times have a second's precision: exec-3 starts in a later second, the youngest.
	time.Sleep(time.Until(s.startedAt(a, "exec-2").Add(2 * time.Second)))
	s.executors(a, 3, 1)
	s.waitRunning(a, 4, time.Minute)
	s.label(a, "exec-3", quota.DecommissioningLabel, "")
	// The scheduler sees it leave its farm: 3 executors held, not 4.
	s.executors(b, 0, 1)
	s.waitRunning(b, 1, time.Minute)
	time.Sleep(settle)

	if diff := cmp.Diff(map[string]int{a.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	p, err := s.cluster.Clientset.CoreV1().Pods(a.Namespace).Get(t.Context(), "exec-3", metav1.GetOptions{})
	if err != nil || p.DeletionTimestamp != nil {
		t.Errorf("the executor Spark decommissions was evicted (%v)", err)
	}
}

// label sets a label on a pod, as Spark's driver does.
func (s *scenario) label(farm types.NamespacedName, pod, key, value string) {
	s.t.Helper()
	patch := []byte(`{"metadata":{"labels":{"` + key + `":"` + value + `"}}}`)
	if _, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Patch(context.Background(), pod, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		s.t.Fatal(err)
	}
}
