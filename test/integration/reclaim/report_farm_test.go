package reclaim

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/scheduler/farm"
)

// TestReclaimIsToldOnTheFarms: the victims go away with their events; the Farms keep the story.
// After a reclaim, the farm that lost executors and the farm they were taken for each have events
// saying how many and for (from) whom, and their status records the last reclaim; a reclaim a
// PodDisruptionBudget blocks is an event on the waiting farm that names the budget.
func TestReclaimIsToldOnTheFarms(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "told", 1, nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	c := s.farm("c", 1, 0, 0)
	s.executors(a, 0, 4)
	s.waitRunning(a, 4, time.Minute)
	s.executors(b, 0, 2)
	s.waitRunning(b, 2, time.Minute)

	// Every eviction is told on a, in events of one trigger interval each.
	var told []string
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		told = s.farmEvents(a, farm.EventExecutorsReclaimed)
		return reclaimedIn(t, told) == 2, nil
	})
	if err != nil {
		t.Fatalf("events on Farm %s: %q, want 2 executors reclaimed in all", a, told)
	}
	for _, e := range told {
		if !strings.Contains(e, " for "+b.String()) {
			t.Errorf("event on %s %q does not name the farm reclaimed for, %s", a, e, b)
		}
	}
	if got := s.farmEvents(b, farm.EventReclaimedForGuarantee); reclaimedIn(t, got) != 2 || !strings.Contains(strings.Join(got, "\n"), "from "+a.String()) {
		t.Errorf("events on Farm %s: %q, want 2 executors reclaimed from %s in all", b, got, a)
	}
	from := s.waitRecord(a, func(st farmv1alpha1.FarmStatus) *farmv1alpha1.ReclaimRecord { return st.LastReclaimedFrom })
	forB := s.waitRecord(b, func(st farmv1alpha1.FarmStatus) *farmv1alpha1.ReclaimRecord { return st.LastReclaimedFor })
	if diff := cmp.Diff([]string{b.String()}, from.Farms); diff != "" || from.Executors < 1 || from.Time.IsZero() {
		t.Errorf("%s status.lastReclaimedFrom = %+v, want executors taken for %s", a, from, b)
	}
	if diff := cmp.Diff([]string{a.String()}, forB.Farms); diff != "" || forB.Executors < 1 {
		t.Errorf("%s status.lastReclaimedFor = %+v, want executors taken from %s", b, forB, a)
	}

	// a's two borrowed executors are all c could have; a budget protects them.
	s.protect(a.Namespace, s.labelKey, 2)
	s.executors(c, 0, 1)
	var blocked []string
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		blocked = s.farmEvents(c, farm.EventReclaimBlocked)
		return len(blocked) > 0, nil
	})
	if err != nil || !strings.Contains(blocked[0], "PodDisruptionBudget "+a.Namespace+"/keep-all") {
		t.Errorf("events on Farm %s: %q, want one naming the budget that blocks the reclaim", c, blocked)
	}
	if got := s.evicted.counts()[a.Namespace]; got != 2 {
		t.Errorf("evictions from %s: %d, want the 2 before the budget", a, got)
	}
	t.Logf("told on %s: %q; status.lastReclaimedFrom %q; on %s: %q", a, told, from.Summary, c, blocked)
}

// farmEvents returns the notes of the events of a reason about a Farm.
func (s *scenario) farmEvents(f types.NamespacedName, reason string) []string {
	t := s.t
	t.Helper()
	list, err := s.cluster.Clientset.EventsV1().Events(f.Namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Farm" && e.Regarding.Name == f.Name && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}

// reclaimedIn sums the executor counts of "Reclaimed N executor(s) ..." notes.
func reclaimedIn(t *testing.T, notes []string) int {
	t.Helper()
	sum := 0
	for _, n := range notes {
		var k int
		if _, err := fmt.Sscanf(n, "Reclaimed %d executor", &k); err != nil {
			t.Fatalf("event note %q: %v", n, err)
		}
		sum += k
	}
	return sum
}

// waitRecord waits until a Farm's status has the record get returns.
func (s *scenario) waitRecord(f types.NamespacedName, get func(farmv1alpha1.FarmStatus) *farmv1alpha1.ReclaimRecord) *farmv1alpha1.ReclaimRecord {
	t := s.t
	t.Helper()
	var r *farmv1alpha1.ReclaimRecord
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		farm := &farmv1alpha1.Farm{}
		if err := s.cluster.Client.Get(ctx, f, farm); err != nil {
			return false, err
		}
		r = get(farm.Status)
		return r != nil, nil
	})
	if err != nil {
		t.Fatalf("Farm %s: no reclaim record in its status: %v", f, err)
	}
	return r
}
