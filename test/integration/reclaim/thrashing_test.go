package reclaim

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// TestThrashingFarmIsShown: a ping-pong — b's executor comes, a borrowed executor of a is
// reclaimed for it, b's executor goes, a borrows the room again — repeated. With
// thrashingReclaims 2, a's Thrashing condition is False after two reclaims and True after the
// third.
func TestThrashingFarmIsShown(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "thrash", 1, withArgs(map[string]any{"thrashingReclaims": 2, "thrashingWindow": "5m"}))
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)
	next := 4
	for round := range 3 {
		if round == 2 {
			if c := s.thrashing(a); c == nil || c.Status != metav1.ConditionFalse {
				t.Fatalf("after two reclaims, %s Thrashing = %+v, want False", a, c)
			}
		}
		name := fmt.Sprintf("exec-%d", round)
		s.executors(b, round, 1)
		s.waitRunning(b, 1, time.Minute)
		s.deletePodAndWait(b, name)
		s.executors(a, next, 1) // a's driver replaces what it lost, and borrows the room again
		next++
		s.waitRunning(a, 4, time.Minute)
	}
	var c *metav1.Condition
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		c = s.thrashing(a)
		return c != nil && c.Status == metav1.ConditionTrue, nil
	})
	if err != nil || !strings.Contains(c.Message, "reclaimed 3 times") {
		t.Fatalf("after three reclaims, %s Thrashing = %+v, want True saying reclaimed 3 times", a, c)
	}
	t.Logf("%s: %s", farmv1alpha1.FarmThrashing, c.Message)
}

// TestBorrowCooldown: with borrowCooldown, a farm that just lost a borrowed executor does not
// borrow again until the cool-down is over, although the room is free.
func TestBorrowCooldown(t *testing.T) {
	t.Parallel()
	const cooldown = 8 * time.Second
	s := newScenario(t, "cooldown", 1, withArgs(map[string]any{"borrowCooldown": cooldown.String()}))
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)
	s.executors(b, 0, 1)
	s.waitEvictions(a.Namespace, 1, time.Minute)
	lost := time.Now()
	s.waitRunning(b, 1, time.Minute)
	s.deletePodAndWait(b, "exec-0") // the room is free again

	s.executors(a, 4, 1)
	s.waitUnschedulable(a, "exec-4", "borrowCooldown")
	s.waitPodRunning(a, "exec-4", time.Minute)
	after := time.Since(lost)
	if after < cooldown-time.Second {
		t.Errorf("a borrowed again %.1fs after losing an executor, want no sooner than its %s cool-down", after.Seconds(), cooldown)
	}
	t.Logf("a borrowed again %.1fs after losing an executor (cool-down %s)", after.Seconds(), cooldown)
}

// thrashing returns a Farm's Thrashing condition.
func (s *scenario) thrashing(f types.NamespacedName) *metav1.Condition {
	s.t.Helper()
	obj := &farmv1alpha1.Farm{}
	if err := s.cluster.Client.Get(s.t.Context(), f, obj); err != nil {
		s.t.Fatal(err)
	}
	return apimeta.FindStatusCondition(obj.Status.Conditions, farmv1alpha1.FarmThrashing)
}

// deletePodAndWait deletes a pod, as its owner would, and waits until it is gone.
func (s *scenario) deletePodAndWait(f types.NamespacedName, name string) {
	s.t.Helper()
	pods := s.cluster.Clientset.CoreV1().Pods(f.Namespace)
	if err := pods.Delete(s.t.Context(), name, metav1.DeleteOptions{}); err != nil {
		s.t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(s.t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := pods.Get(ctx, name, metav1.GetOptions{})
		return err != nil, nil
	})
	if err != nil {
		s.t.Fatalf("pod %s/%s never went away", f.Namespace, name)
	}
}
