package reclaim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// reclaimFootprint runs the same history with or without the elastic quota scorer and returns
// how many nodes the reclaim of 4 borrowed executors touched: g holds its minimum of 8 (two per
// node), a borrows 4, f fills the rest at its minimum, then c arrives below its minimum and needs
// 4; only a's executors may go.
func reclaimFootprint(t *testing.T, id string, scorer bool) int {
	var edit func(map[string]any)
	if !scorer {
		edit = func(cfg map[string]any) {
			profile := cfg["profiles"].([]any)[0].(map[string]any)
			profile["plugins"].(map[string]any)["score"] = map[string]any{"disabled": []any{map[string]any{"name": "Farm"}}}
		}
	}
	s := newScenario(t, id, 4, edit)
	g := s.farm("g", 8, 0, 0)
	a := s.farm("a", 0, 0, 0)
	f := s.farm("f", 4, 0, 0)
	c := s.farm("c", 4, 0, 0)
	s.executors(g, 0, 8)
	s.waitRunning(g, 8, time.Minute)
	// Borrowers arrive one by one, as a Spark driver scales up.
	for i := range 4 {
		s.executors(a, i, 1)
		s.waitRunning(a, i+1, time.Minute)
	}
	s.executors(f, 0, 4)
	s.waitRunning(f, 4, time.Minute)

	s.executors(c, 0, 4)
	s.waitRunning(c, 4, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 4}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	return s.evicted.nodesTouched()
}

func TestScorerPacksBorrowedExecutors(t *testing.T) {
	t.Parallel()
	// Subtests, so that each scheduler stops before the other starts.
	var with, without int
	t.Run("with the scorer", func(t *testing.T) { with = reclaimFootprint(t, "scorer-on", true) })
	t.Run("without the scorer", func(t *testing.T) { without = reclaimFootprint(t, "scorer-off", false) })
	t.Logf("a reclaim of 4 touched %d nodes with the elastic quota scorer, %d without", with, without)
	if with >= without {
		t.Errorf("nodes touched by the reclaim: %d with the scorer, %d without; want fewer with it", with, without)
	}
}
