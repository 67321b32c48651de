package controller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/toinfn/farm/pkg/eviction"
	"github.com/toinfn/farm/pkg/quota"
)

// scaleDown enforces a lowered maxExecutors: once a farm has stayed above its ceiling for
// scaledownAfterNTriggers consecutive triggers, its newest executors beyond the ceiling (never
// below its minimum) are evicted the same way the scheduler reclaims: package eviction, in
// quota.VictimFirst order.
type scaleDown struct {
	clientset kubernetes.Interface
	interval  time.Duration
	now       func() time.Time

	mu       sync.Mutex
	triggers map[types.NamespacedName]*scaleDownTrigger
}

type scaleDownTrigger struct {
	count int32
	last  time.Time
}

// forget drops the trigger count of a deleted farm.
func (s *scaleDown) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.triggers, key)
}

// run evicts what the ceiling requires, or counts a trigger; it returns when to look again.
func (s *scaleDown) run(ctx context.Context, o *observation) (time.Duration, error) {
	key := quota.Key(o.farm)
	st := o.state
	excess := int32(0)
	if st.Max > 0 {
		excess = st.Assigned - max(st.Max, st.Min)
	}
	s.mu.Lock()
	if excess <= 0 {
		delete(s.triggers, key)
		s.mu.Unlock()
		return 0, nil
	}
	tr, ok := s.triggers[key]
	if !ok {
		tr = &scaleDownTrigger{}
		s.triggers[key] = tr
	}
	now := s.now()
	if tr.count == 0 || now.Sub(tr.last) >= s.interval {
		tr.count++
		tr.last = now
	}
	need := max(1, o.farm.Spec.ScaledownAfterNTriggers)
	count := tr.count
	s.mu.Unlock()
	if count < need {
		klog.FromContext(ctx).V(2).Info("Farm above its ceiling", "farm", key, "excess", excess, "trigger", count, "of", need)
		return s.interval, nil
	}

	var assigned []*corev1.Pod
	for _, p := range o.owned {
		if quota.IsAssigned(p) {
			assigned = append(assigned, p)
		}
	}
	sort.SliceStable(assigned, func(i, j int) bool { return quota.VictimFirst(assigned[i], assigned[j]) })
	var errs []error
	for _, p := range assigned[:min(int(excess), len(assigned))] {
		msg := fmt.Sprintf("farm-controller: farm %s has %d executors, above its maxExecutors %d", key, st.Assigned, st.Max)
		if err := eviction.Evict(ctx, s.clientset, p, quota.ReasonScaledDown, msg); err != nil && !errors.Is(err, eviction.ErrGone) {
			errs = append(errs, err)
			continue
		}
		scaleDownEvictions.WithLabelValues(key.Namespace, key.Name).Inc()
		klog.FromContext(ctx).V(2).Info("Scaled an executor down", "farm", key, "executor", klog.KObj(p))
	}
	s.mu.Lock()
	delete(s.triggers, key)
	s.mu.Unlock()
	return 0, errors.Join(errs...)
}
