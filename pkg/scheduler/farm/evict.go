package farm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"

	"github.com/toinfn/farm/pkg/eviction"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// evictions records each executor the plugin evicts, from the moment a plan picks it until the
// informer shows it terminating (or it is gone), so that every later plan counts it as leaving
// and never picks it again, even while an asynchronous preemption is still sending the eviction.
// It also remembers refused evictions for one trigger interval, so a refused victim is not asked
// again at once.
type evictions struct {
	farms *farmcache.Cache
	// interval is how long a refusal keeps a victim out of plans.
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	byUID   map[types.UID]evictionRecord
	refused map[types.UID]refusal
}

type evictionRecord struct {
	farm  types.NamespacedName
	node  string
	since time.Time
}

type refusal struct {
	at  time.Time
	why string
}

// unconfirmedTimeout bounds how long an eviction the informer never shows counts as leaving: a
// request that succeeded shows within seconds; one that never went out must not hold a plan
// back for ever.
const unconfirmedTimeout = 30 * time.Second

func newEvictions(farms *farmcache.Cache, interval time.Duration) *evictions {
	return &evictions{farms: farms, interval: interval, now: time.Now, byUID: map[types.UID]evictionRecord{}, refused: map[types.UID]refusal{}}
}

// add records an eviction the plan decided, before it is sent.
func (e *evictions) add(victim *corev1.Pod, farm types.NamespacedName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.byUID[victim.UID] = evictionRecord{farm: farm, node: victim.Spec.NodeName, since: e.now()}
	delete(e.refused, victim.UID)
}

// drop forgets an eviction that did not happen.
func (e *evictions) drop(victim types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.byUID, victim)
}

// refuse forgets an eviction the API refused, and keeps the victim out of plans for an interval.
func (e *evictions) refuse(victim types.UID, why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.byUID, victim)
	e.refused[victim] = refusal{at: e.now(), why: why}
}

// requested reports whether the plugin evicts the pod and the informer does not show it
// terminating yet.
func (e *evictions) requested(uid types.UID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.byUID[uid]
	return ok
}

// ledger is a copy of what the evictions record, taken once per plan, which then asks about
// many pods and farms without taking the lock for each.
type ledger struct {
	requested map[types.UID]bool
	// nodes are the nodes of the requested evictions: room is being made there.
	nodes []string
	// inFlight counts, per farm, its requested evictions the cache still shows assigned: they
	// no longer count as what the farm may lose.
	inFlight map[types.NamespacedName]int32
	// refused holds why each recently refused pod was refused.
	refused map[types.UID]string
}

// snapshot copies the evictions in flight and the refusals of the last interval.
func (e *evictions) snapshot() ledger {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := ledger{
		requested: make(map[types.UID]bool, len(e.byUID)),
		inFlight:  map[types.NamespacedName]int32{},
		refused:   map[types.UID]string{},
	}
	for uid, r := range e.byUID {
		l.requested[uid] = true
		l.nodes = append(l.nodes, r.node)
		if !e.farms.Leaving(uid) {
			l.inFlight[r.farm]++
		}
	}
	now := e.now()
	for uid, r := range e.refused {
		if now.Sub(r.at) < e.interval {
			l.refused[uid] = "eviction refused less than a trigger interval ago: " + r.why
		}
	}
	return l
}

// prune forgets evictions the informer shows done (the victim terminating or gone), or never
// shows at all, and refusals older than an interval.
func (e *evictions) prune() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for uid, r := range e.byUID {
		if e.farms.Leaving(uid) || now.Sub(r.since) > unconfirmedTimeout {
			delete(e.byUID, uid)
		}
	}
	for uid, r := range e.refused {
		if now.Sub(r.at) >= e.interval {
			delete(e.refused, uid)
		}
	}
}

// evictVictim replaces the upstream executor's last step: instead of deleting the victim, it
// evicts it the way all of Farm does (package eviction). A refused eviction fails the reclaim and
// says why on the waiting pod.
func (p *Plugin) evictVictim(ctx context.Context, c preemption.Candidate, preemptor preemption.ExecutorPreemptor, victim *corev1.Pod, _ string) (bool, error) {
	logger := klog.FromContext(ctx)
	victimFarm, _ := p.farms.OwnerKey(victim)
	recorder := p.handle.EventRecorder().WithLogger(logger)

	waiting := preemptorPod(preemptor)
	err := eviction.Evict(ctx, p.handle.ClientSet(), victim, quota.ReasonReclaimed,
		fmt.Sprintf("%s: borrowed executor of farm %s reclaimed for %s/%s, whose farm is below its minimum", SchedulerName, victimFarm, preemptor.GetNamespace(), preemptor.GetName()))
	switch {
	case err == nil:
	case errors.Is(err, eviction.ErrGone):
		p.evictions.drop(victim.UID)
		return false, nil
	default:
		p.evictions.refuse(victim.UID, err.Error())
		// The pod stays nominated to a node where nothing leaves; upstream's asynchronous
		// actuation only logs the error. Forget the claim and plan again on the cadence.
		p.claims.set(waiting, "")
		p.retryOnCadence(logger, waiting)
		recorder.Eventf(waiting, victim, corev1.EventTypeWarning, EventReclaimBlocked, "Reclaiming",
			"Eviction of executor %s/%s of farm %s refused: %v", victim.Namespace, victim.Name, victimFarm, err)
		if forFarm, ok := p.guaranteedBy(waiting); ok {
			p.farmEvent(forFarm, corev1.EventTypeWarning, EventReclaimBlocked,
				fmt.Sprintf("Reclaim blocked: an eviction from farm %s was refused: %v", victimFarm, err))
		}
		logger.V(2).Info("Eviction refused", "preemptor", klog.KObj(preemptor), "victim", klog.KObj(victim), "farm", victimFarm, "err", err)
		return false, err
	}

	evictionsTotal.WithLabelValues(victimFarm.Namespace, victimFarm.Name).Inc()
	preemptorFarm := "(none)"
	if f, ok := p.guaranteedBy(waiting); ok {
		preemptorFarm = f.String()
		p.reports.add(victimFarm, f)
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
