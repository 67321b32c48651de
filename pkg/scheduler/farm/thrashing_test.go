package farm

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/apis/config"
	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

func TestThrashWatch(t *testing.T) {
	a := types.NamespacedName{Namespace: "alice", Name: "f"}
	s := func(d time.Duration) time.Time { return t0.Add(d) }
	// pingPong is a farm reclaimed every minute and borrowing again in between, n times.
	pingPong := func(n int) []event {
		var out []event
		for i := range n {
			out = append(out, event{at: time.Duration(i) * time.Minute}, event{at: time.Duration(i)*time.Minute + 30*time.Second, borrow: true})
		}
		return out
	}
	tests := []struct {
		name string
		// events are a's executors reclaimed, or a borrowing executor of a placed, in order.
		events []event
		at     time.Duration
		want   metav1.ConditionStatus
		wantN  string
	}{
		{name: "never reclaimed", at: time.Minute, want: metav1.ConditionFalse, wantN: "reclaimed 0 times"},
		{name: "evictions in consecutive intervals are one reclaim, borrowing between them or not",
			events: []event{{at: 0}, {at: time.Second}, {at: 1500 * time.Millisecond, borrow: true}, {at: 2 * time.Second}, {at: 3 * time.Second}},
			at:     4 * time.Second, want: metav1.ConditionFalse, wantN: "reclaimed 1 times"},
		{name: "as many reclaims as allowed", events: pingPong(3), at: 3 * time.Minute, want: metav1.ConditionFalse, wantN: "reclaimed 3 times"},
		{name: "one more: thrashing", events: pingPong(4), at: 3 * time.Minute, want: metav1.ConditionTrue, wantN: "reclaimed 4 times"},
		{name: "without borrowing again, reclaims after quiet gaps are one",
			events: []event{{at: 0}, {at: time.Minute}, {at: 2 * time.Minute}, {at: 3 * time.Minute}},
			at:     3 * time.Minute, want: metav1.ConditionFalse, wantN: "reclaimed 1 times"},
		{name: "borrowing before the first reclaim does not count", events: append([]event{{at: 0, borrow: true}}, pingPong(3)...), at: 3 * time.Minute, want: metav1.ConditionFalse, wantN: "reclaimed 3 times"},
		{name: "old reclaims leave the window", events: pingPong(4), at: 11*time.Minute + 30*time.Second, want: metav1.ConditionFalse, wantN: "reclaimed 2 times"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newThrashWatch(time.Second, 10*time.Minute, 3)
			for _, e := range tc.events {
				if e.borrow {
					w.borrowedAgain(a)
				} else {
					w.reclaimed(a, s(e.at))
				}
			}
			c := w.condition(a, s(tc.at), nil)
			if c.Status != tc.want || !strings.Contains(c.Message, tc.wantN) {
				t.Errorf("condition %s %q, want %s saying %q", c.Status, c.Message, tc.want, tc.wantN)
			}
		})
	}

	// The transition time moves only when the status does.
	w := newThrashWatch(time.Second, 10*time.Minute, 0)
	first := w.condition(a, s(0), nil)
	w.reclaimed(a, s(time.Minute))
	second := w.condition(a, s(time.Minute), first)
	third := w.condition(a, s(2*time.Minute), second)
	if !first.LastTransitionTime.Equal(&metav1.Time{Time: s(0)}) || !second.LastTransitionTime.Equal(&metav1.Time{Time: s(time.Minute)}) || !third.LastTransitionTime.Equal(&second.LastTransitionTime) {
		t.Errorf("transitions %v, %v, %v: want 0, 1m (False to True), 1m (still True)", first.LastTransitionTime, second.LastTransitionTime, third.LastTransitionTime)
	}
}

func TestThrashWatchAfterFailover(t *testing.T) {
	a := types.NamespacedName{Namespace: "alice", Name: "f"}
	s := func(d time.Duration) time.Time { return t0.Add(d) }
	// What the predecessor published, from reclaims the new leader never saw.
	published := &metav1.Condition{Type: farmv1alpha1.FarmThrashing, Status: metav1.ConditionTrue, Reason: "RepeatedReclaims", LastTransitionTime: metav1.NewTime(s(-time.Minute))}
	tests := []struct {
		name string
		lead bool
		at   time.Duration
		want metav1.ConditionStatus
	}{
		{name: "a replica that did not take over recomputes: no reclaims, not thrashing", at: time.Minute, want: metav1.ConditionFalse},
		{name: "a new leader keeps what its predecessor published", lead: true, at: time.Minute, want: metav1.ConditionTrue},
		{name: "until a window of its own has passed", lead: true, at: 10*time.Minute + time.Second, want: metav1.ConditionFalse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newThrashWatch(time.Second, 10*time.Minute, 3)
			if tc.lead {
				w.lead(s(0))
			}
			c := w.condition(a, s(tc.at), published)
			if c.Status != tc.want {
				t.Fatalf("condition %s %q, want %s", c.Status, c.Message, tc.want)
			}
			if c.Status == metav1.ConditionTrue && !c.LastTransitionTime.Equal(&published.LastTransitionTime) {
				t.Errorf("transition time %v, want the published %v", c.LastTransitionTime, published.LastTransitionTime)
			}
		})
	}
}

// event is something the thrash watch is told: a farm's executors reclaimed, or one of its
// executors placed beyond its minimum.
type event struct {
	at     time.Duration
	borrow bool
}

func TestCoolingDown(t *testing.T) {
	a := types.NamespacedName{Namespace: "alice", Name: "f"}
	now := t0.Add(time.Hour)
	recorded := func(ago time.Duration) *farmv1alpha1.ReclaimRecord {
		return &farmv1alpha1.ReclaimRecord{Time: metav1.NewTime(now.Add(-ago))}
	}
	tests := []struct {
		name     string
		cooldown time.Duration
		recorded *farmv1alpha1.ReclaimRecord
		want     time.Duration
	}{
		{name: "off", recorded: recorded(time.Second), want: 0},
		{name: "never reclaimed", cooldown: time.Minute, want: 0},
		{name: "reclaimed 10s ago, a minute's cool-down", cooldown: time.Minute, recorded: recorded(10 * time.Second), want: 50 * time.Second},
		{name: "cool-down over", cooldown: time.Minute, recorded: recorded(2 * time.Minute), want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Plugin{args: config.FarmArgs{BorrowCooldown: metav1.Duration{Duration: tc.cooldown}}, reports: newReclaimReports()}
			if got := p.coolingDown(a, tc.recorded, now); got != tc.want {
				t.Errorf("coolingDown = %s, want %s", got, tc.want)
			}
		})
	}
}
