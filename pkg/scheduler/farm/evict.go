package farm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"

	"github.com/toinfn/farm/pkg/eviction"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// Reasons of the events farm-scheduler records about a reclaim.
const (
	// EventReclaimed is recorded on each evicted executor, related to the pod it was evicted for.
	EventReclaimed = "Reclaimed"
	// EventReclaiming is recorded on the waiting pod for each executor evicted for it.
	EventReclaiming = "Reclaiming"
	// EventReclaimBlocked is recorded on the waiting pod when an eviction is refused (e.g. by a
	// PodDisruptionBudget).
	EventReclaimBlocked = "ReclaimBlocked"
	// EventReclaimPending is recorded on the waiting pod while victim farms' hysteresis runs.
	EventReclaimPending = "ReclaimPending"
)

// evictions remembers each executor the plugin evicted and the waiting pod it was evicted for,
// until that pod is bound or gone. The room a victim frees belongs to its waiting pod from the
// eviction request until the pod lands, across the victim's graceful termination and after it:
// counting it only while the victim terminates would let a second waiting pod see the freed room
// as missing and evict again.
type evictions struct {
	farms *farmcache.Cache

	mu    sync.Mutex
	byUID map[types.UID]evictionRecord
}

type evictionRecord struct {
	farm types.NamespacedName
	// waiting is the pod the room is for.
	waiting types.UID
}

func newEvictions(farms *farmcache.Cache) *evictions {
	return &evictions{farms: farms, byUID: map[types.UID]evictionRecord{}}
}

func (e *evictions) add(victim types.UID, farm types.NamespacedName, waiting types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.byUID[victim] = evictionRecord{farm: farm, waiting: waiting}
}

func (e *evictions) drop(victim types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.byUID, victim)
}

// requested reports whether the plugin evicted the pod.
func (e *evictions) requested(uid types.UID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.byUID[uid]
	return ok
}

// leaving counts, for a farm, the executors reclaimed for pods still waiting (open), and how many
// of those the cache shows terminating (so they are not counted twice with other terminating
// executors). Evictions whose pod has landed or gone are forgotten.
func (e *evictions) leaving(farm types.NamespacedName) (open, terminating int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for uid, ev := range e.byUID {
		if !e.farms.Waiting(ev.waiting) {
			delete(e.byUID, uid)
			continue
		}
		if ev.farm != farm {
			continue
		}
		open++
		if e.farms.Terminating(uid) {
			terminating++
		}
	}
	return open, terminating
}

// evictVictim replaces the upstream executor's last step: instead of deleting the victim, it
// evicts it the way all of Farm does (package eviction). A refused eviction fails the reclaim and
// says why on the waiting pod.
func (p *Plugin) evictVictim(ctx context.Context, c preemption.Candidate, preemptor preemption.ExecutorPreemptor, victim *corev1.Pod, _ string) (bool, error) {
	logger := klog.FromContext(ctx)
	victimFarm, _ := p.farms.OwnerKey(victim)
	recorder := p.handle.EventRecorder().WithLogger(logger)

	waiting := preemptorPod(preemptor)
	p.evictions.add(victim.UID, victimFarm, preemptor.UID())
	err := eviction.Evict(ctx, p.handle.ClientSet(), victim, quota.ReasonReclaimed,
		fmt.Sprintf("%s: borrowed executor of farm %s reclaimed for %s/%s, whose farm is below its minimum", SchedulerName, victimFarm, preemptor.GetNamespace(), preemptor.GetName()))
	switch {
	case err == nil:
	case errors.Is(err, eviction.ErrGone):
		p.evictions.drop(victim.UID)
		return false, nil
	default:
		p.evictions.drop(victim.UID)
		recorder.Eventf(waiting, victim, corev1.EventTypeWarning, EventReclaimBlocked, "Reclaiming",
			"Eviction of executor %s/%s of farm %s refused: %v", victim.Namespace, victim.Name, victimFarm, err)
		logger.V(2).Info("Eviction refused", "preemptor", klog.KObj(preemptor), "victim", klog.KObj(victim), "farm", victimFarm, "err", err)
		return false, err
	}

	evictionsTotal.WithLabelValues(victimFarm.String()).Inc()
	preemptorFarm := "(none)"
	if f, ok := p.farms.OwnerKey(waiting); ok {
		preemptorFarm = f.String()
	}
	recorder.Eventf(victim, waiting, corev1.EventTypeNormal, EventReclaimed, "Evicting",
		"Borrowed executor of farm %s evicted on node %s for %s/%s of farm %s, which is below its minimum", victimFarm, c.Name(), preemptor.GetNamespace(), preemptor.GetName(), preemptorFarm)
	recorder.Eventf(waiting, victim, corev1.EventTypeNormal, EventReclaiming, "Evicting",
		"Evicted borrowed executor %s/%s of farm %s on node %s to meet farm %s's minimum", victim.Namespace, victim.Name, victimFarm, c.Name(), preemptorFarm)
	logger.V(2).Info("Reclaimed a borrowed executor", "preemptor", klog.KObj(preemptor), "victim", klog.KObj(victim), "victimFarm", victimFarm, "node", c.Name())
	return false, nil
}

// preemptorPod returns the waiting pod behind the evaluator's preemptor, for events: the
// preemptor wrapper itself is not an API object.
func preemptorPod(preemptor preemption.ExecutorPreemptor) *corev1.Pod {
	var any *corev1.Pod
	for _, pod := range preemptor.Pods() {
		if pod.UID == preemptor.UID() {
			return pod
		}
		any = pod
	}
	return any
}
