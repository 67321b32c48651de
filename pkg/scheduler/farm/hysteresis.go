package farm

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// triggers counts, per victim farm, consecutive reclaim triggers: a farm loses executors only
// once its count reaches its scaledownAfterNTriggers. At most one trigger per interval counts,
// however many waiting pods ask, so N triggers take about N intervals.
type triggers struct {
	interval time.Duration
	now      func() time.Time

	mu     sync.Mutex
	byFarm map[types.NamespacedName]*trigger
}

type trigger struct {
	count int32
	// last is when count last went up; seen is when a plan last needed the farm.
	last, seen time.Time
}

func newTriggers(interval time.Duration) *triggers {
	return &triggers{interval: interval, now: time.Now, byFarm: map[types.NamespacedName]*trigger{}}
}

// fire counts a trigger against each farm that owes executors (if the last one is at least an
// interval old) and returns the farms whose count reached their threshold, with what they owe,
// and a description of the others.
func (t *triggers) fire(owed map[types.NamespacedName]int32, threshold func(types.NamespacedName) int32) (map[types.NamespacedName]int32, []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	ready := map[types.NamespacedName]int32{}
	var waiting []string
	for key, n := range owed {
		tr, ok := t.byFarm[key]
		if !ok {
			tr = &trigger{}
			t.byFarm[key] = tr
		}
		tr.seen = now
		// The first trigger counts at once; later ones once per interval.
		if tr.count == 0 || now.Sub(tr.last) >= t.interval {
			tr.count++
			tr.last = now
		}
		if need := threshold(key); tr.count >= need {
			ready[key] = n
		} else {
			waiting = append(waiting, fmt.Sprintf("farm %s owes %d, trigger %d of %d", key, n, tr.count, need))
		}
	}
	sort.Strings(waiting)
	return ready, waiting
}

// expire resets every farm no plan has needed for two intervals (waiting pods retry on the
// trigger cadence, so a farm still needed is fired at least once an interval) and every farm
// overMin says is no longer over its minimum: the count restarts once no guaranteed demand needs
// the farm's executors or it has none to give.
func (t *triggers) expire(overMin func(types.NamespacedName) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for key, tr := range t.byFarm {
		if now.Sub(tr.seen) > 2*t.interval || !overMin(key) {
			delete(t.byFarm, key)
		}
	}
}

// restore takes up counts a previous leader published (status.scaledownTriggered), so that a
// failover neither repeats the hysteresis nor lets a victim farm off: each farm continues from
// its count, its next trigger an interval from now. A restored farm no plan needs within two
// intervals expires as any other.
func (t *triggers) restore(counts map[types.NamespacedName]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for key, n := range counts {
		if _, ok := t.byFarm[key]; !ok && n > 0 {
			t.byFarm[key] = &trigger{count: n, last: now, seen: now}
		}
	}
}

// counts returns the current count of every farm being triggered.
func (t *triggers) counts() map[types.NamespacedName]int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[types.NamespacedName]int32, len(t.byFarm))
	for k, tr := range t.byFarm {
		out[k] = tr.count
	}
	return out
}
