package farm

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// TestTriggers follows one victim farm (scaledownAfterNTriggers 3, interval 1 s) through the
// hysteresis on a fake clock.
func TestTriggers(t *testing.T) {
	alice := types.NamespacedName{Namespace: "alice", Name: "f"}
	type step struct {
		name string
		// advance moves the clock before the step.
		advance time.Duration
		// fire, restore (a published count) or expire (overMin says whether the farm is still over
		// its minimum).
		action  string
		restore int32
		overMin bool

		wantCount int32
		wantReady bool
	}
	tests := []struct {
		name  string
		steps []step
	}{{
		name: "one trigger per interval, ready at the third",
		steps: []step{
			{name: "first counts at once", action: "fire", wantCount: 1},
			{name: "again within the interval: no count", advance: 300 * time.Millisecond, action: "fire", wantCount: 1},
			{name: "an interval on", advance: 700 * time.Millisecond, action: "fire", wantCount: 2},
			{name: "ready", advance: time.Second, action: "fire", wantCount: 3, wantReady: true},
		},
	}, {
		name: "a new leader continues from the published count",
		steps: []step{
			{name: "restore 2", action: "restore", restore: 2, wantCount: 2},
			{name: "within the interval: still 2", advance: 500 * time.Millisecond, action: "fire", wantCount: 2},
			{name: "an interval on: ready", advance: 500 * time.Millisecond, action: "fire", wantCount: 3, wantReady: true},
		},
	}, {
		name: "a restored count no plan needs expires after two intervals",
		steps: []step{
			{name: "restore 2", action: "restore", restore: 2, wantCount: 2},
			{name: "kept within two intervals", advance: 2 * time.Second, action: "expire", overMin: true, wantCount: 2},
			{name: "gone after", advance: time.Millisecond, action: "expire", overMin: true, wantCount: 0},
		},
	}, {
		name: "a farm no longer over its minimum resets at once",
		steps: []step{
			{name: "first", action: "fire", wantCount: 1},
			{name: "not over its minimum", action: "expire", overMin: false, wantCount: 0},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			tr := newTriggers(time.Second)
			tr.now = func() time.Time { return now }
			for _, s := range tc.steps {
				now = now.Add(s.advance)
				ready := false
				switch s.action {
				case "fire":
					r, _ := tr.fire(map[types.NamespacedName]int32{alice: 1}, func(types.NamespacedName) int32 { return 3 })
					ready = r[alice] > 0
				case "restore":
					tr.restore(map[types.NamespacedName]int32{alice: s.restore})
				case "expire":
					tr.expire(func(types.NamespacedName) bool { return s.overMin })
				}
				if got := tr.counts()[alice]; got != s.wantCount || ready != s.wantReady {
					t.Errorf("%s: count %d ready %v, want %d %v", s.name, got, ready, s.wantCount, s.wantReady)
				}
			}
		})
	}
}
