package farm

import (
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// thrashWatch remembers, per farm, the reclaims that took its borrowed executors. A farm
// thrashes when it is reclaimed, borrows again, is reclaimed again, and so on: evictions after a
// quiet gap are a new reclaim only if the farm borrowed again since the last one. Evictions
// closer than gap, or with no borrowing between them (a farm kept from borrowing by a cool-down,
// say, losing executors to tenant after tenant), are one reclaim.
type thrashWatch struct {
	gap, window time.Duration
	// limit is how many reclaims within window a farm may have before it is thrashing.
	limit int32

	mu sync.Mutex
	// reclaims holds each farm's reclaim start times within the window; last its latest eviction.
	reclaims map[types.NamespacedName][]time.Time
	last     map[types.NamespacedName]time.Time
	// borrowed holds the farms that borrowed an executor since their latest eviction.
	borrowed map[types.NamespacedName]bool
	// leading is when this replica began to publish conditions (lead).
	leading time.Time
}

func newThrashWatch(interval, window time.Duration, limit int32) *thrashWatch {
	return &thrashWatch{gap: 2 * interval, window: window, limit: limit,
		reclaims: map[types.NamespacedName][]time.Time{}, last: map[types.NamespacedName]time.Time{},
		borrowed: map[types.NamespacedName]bool{}}
}

// lead records that this replica publishes the conditions from now on. The reclaims that made a
// predecessor publish Thrashing are in no memory but its own: condition keeps a True it finds
// for one window from now, by which time those reclaims would have left the window anyway.
func (w *thrashWatch) lead(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.leading = now
}

// borrowedAgain records that an executor of the farm was placed beyond its minimum.
func (w *thrashWatch) borrowedAgain(farm types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, reclaimed := w.last[farm]; reclaimed {
		w.borrowed[farm] = true
	}
}

// reclaimed records evictions from the farm at now.
func (w *thrashWatch) reclaimed(farm types.NamespacedName, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if last, ok := w.last[farm]; !ok || now.Sub(last) > w.gap && w.borrowed[farm] {
		w.reclaims[farm] = append(w.reclaims[farm], now)
	}
	w.last[farm] = now
	delete(w.borrowed, farm)
}

// forget drops a deleted farm's reclaims: a farm re-created with its name starts afresh.
func (w *thrashWatch) forget(farm types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.reclaims, farm)
	delete(w.last, farm)
	delete(w.borrowed, farm)
}

// count returns how many reclaims took the farm's executors within the window before now.
func (w *thrashWatch) count(farm types.NamespacedName, now time.Time) int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	kept := w.reclaims[farm][:0]
	for _, t := range w.reclaims[farm] {
		if now.Sub(t) <= w.window {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(w.reclaims, farm)
		if now.Sub(w.last[farm]) > w.window {
			delete(w.last, farm)
			delete(w.borrowed, farm)
		}
		return 0
	}
	w.reclaims[farm] = kept
	return int32(len(kept))
}

// condition returns the farm's Thrashing condition at now, keeping prev's transition time while
// its status does not change, and a True prev for a window after this replica began to lead.
func (w *thrashWatch) condition(farm types.NamespacedName, now time.Time, prev *metav1.Condition) *metav1.Condition {
	n := w.count(farm, now)
	w.mu.Lock()
	inherited := now.Sub(w.leading) < w.window
	w.mu.Unlock()
	if n <= w.limit && inherited && prev != nil && prev.Status == metav1.ConditionTrue {
		return prev.DeepCopy()
	}
	c := &metav1.Condition{Type: farmv1alpha1.FarmThrashing, Status: metav1.ConditionFalse, Reason: "FewReclaims",
		Message: fmt.Sprintf("borrowed executors reclaimed %d times within %s (thrashing above %d)", n, w.window, w.limit)}
	if n > w.limit {
		c.Status, c.Reason = metav1.ConditionTrue, "RepeatedReclaims"
		c.Message = fmt.Sprintf("borrowed executors reclaimed %d times within %s, more than %d: the farm borrows, loses and borrows again; consider the scheduler's borrowCooldown", n, w.window, w.limit)
	}
	c.LastTransitionTime = metav1.NewTime(now)
	if prev != nil && prev.Status == c.Status {
		c.LastTransitionTime = prev.LastTransitionTime
	}
	return c
}

// coolingDown returns how long a farm that lost borrowed executors must still wait before it
// borrows again (BorrowCooldown), counting from its latest loss this replica made or its status
// records (a new leader's); 0 when it may borrow.
func (p *Plugin) coolingDown(farm types.NamespacedName, recorded *farmv1alpha1.ReclaimRecord, now time.Time) time.Duration {
	cooldown := p.args.BorrowCooldown.Duration
	if cooldown <= 0 {
		return 0
	}
	last := p.reports.lastTaken(farm)
	if recorded != nil && recorded.Time.After(last) {
		last = recorded.Time.Time
	}
	if last.IsZero() {
		return 0
	}
	return max(0, last.Add(cooldown).Sub(now))
}

// retryAfter moves the pod back to the active queue after d: the end of a cool-down is no
// cluster event.
func (p *Plugin) retryAfter(logger klog.Logger, pod *corev1.Pod, d time.Duration) {
	time.AfterFunc(d, func() {
		p.handle.Activate(logger, map[string]*corev1.Pod{pod.Namespace + "/" + pod.Name: pod})
	})
}
