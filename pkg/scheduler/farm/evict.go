package farm

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
	schedutil "k8s.io/kubernetes/pkg/scheduler/util"

	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// evictions remembers each executor the plugin evicted and the waiting pod it was evicted for,
// until that pod is bound or gone. The room a victim frees belongs to its waiting pod from the
// eviction request until the pod lands, across the victim's graceful termination and after it:
// counting it only while the victim terminates would let a second waiting pod see the freed room
// as missing and evict again.
type evictions struct {
	farms *farmcache.Cache

	mu    sync.Mutex
	byUID map[types.UID]eviction
}

type eviction struct {
	farm types.NamespacedName
	// waiting is the pod the room is for.
	waiting types.UID
}

func newEvictions(farms *farmcache.Cache) *evictions {
	return &evictions{farms: farms, byUID: map[types.UID]eviction{}}
}

func (e *evictions) add(victim types.UID, farm types.NamespacedName, waiting types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.byUID[victim] = eviction{farm: farm, waiting: waiting}
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
// marks it with the DisruptionTarget condition and evicts it through the Eviction API, so
// PodDisruptionBudgets hold and the executor gets its own termination grace period (Spark
// decommissioning needs it). A refused eviction fails the reclaim and says why on the waiting pod.
func (p *Plugin) evictVictim(ctx context.Context, c preemption.Candidate, preemptor preemption.ExecutorPreemptor, victim *corev1.Pod, _ string) (bool, error) {
	logger := klog.FromContext(ctx)
	cs := p.handle.ClientSet()
	victimFarm, _ := p.farms.OwnerKey(victim)
	recorder := p.handle.EventRecorder().WithLogger(logger)

	waiting := preemptorPod(preemptor)
	p.evictions.add(victim.UID, victimFarm, preemptor.UID())
	condition := &corev1.PodCondition{
		Type:    corev1.DisruptionTarget,
		Status:  corev1.ConditionTrue,
		Reason:  corev1.PodReasonPreemptionByScheduler,
		Message: fmt.Sprintf("%s: reclaiming a borrowed executor of farm %s for a farm below its minimum", SchedulerName, victimFarm),
	}
	newStatus := victim.Status.DeepCopy()
	if setCondition(newStatus, condition) {
		if err := schedutil.PatchPodStatus(ctx, cs, victim.Name, victim.Namespace, &victim.Status, newStatus); err != nil {
			p.evictions.drop(victim.UID)
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, fmt.Errorf("marking %s/%s as a disruption target: %w", victim.Namespace, victim.Name, err)
		}
	}
	err := cs.PolicyV1().Evictions(victim.Namespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Namespace: victim.Namespace, Name: victim.Name},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &victim.UID}},
	})
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		p.evictions.drop(victim.UID)
		return false, nil
	default:
		p.evictions.drop(victim.UID)
		msg := fmt.Sprintf("Eviction of executor %s/%s of farm %s refused: %v", victim.Namespace, victim.Name, victimFarm, err)
		recorder.Eventf(waiting, victim, corev1.EventTypeWarning, "ReclaimBlocked", "Reclaiming", msg)
		logger.V(2).Info("Eviction refused", "preemptor", klog.KObj(preemptor), "victim", klog.KObj(victim), "farm", victimFarm, "err", err)
		return false, fmt.Errorf("evicting %s/%s: %w", victim.Namespace, victim.Name, err)
	}

	evictionsTotal.WithLabelValues(victimFarm.String()).Inc()
	preemptorFarm := "(none)"
	if f, ok := p.farms.OwnerKey(waiting); ok {
		preemptorFarm = f.String()
	}
	recorder.Eventf(victim, waiting, corev1.EventTypeNormal, "Reclaimed", "Evicting",
		"Borrowed executor of farm %s evicted on node %s for %s/%s of farm %s, which is below its minimum", victimFarm, c.Name(), preemptor.GetNamespace(), preemptor.GetName(), preemptorFarm)
	recorder.Eventf(waiting, victim, corev1.EventTypeNormal, "Reclaiming", "Evicting",
		"Evicted borrowed executor %s/%s of farm %s on node %s to meet farm %s's minimum", victim.Namespace, victim.Name, victimFarm, c.Name(), preemptorFarm)
	logger.V(2).Info("Reclaimed a borrowed executor", "preemptor", klog.KObj(preemptor), "victim", klog.KObj(victim), "victimFarm", victimFarm, "node", c.Name())
	return false, nil
}

// setCondition sets c in status, reporting whether anything changed.
func setCondition(status *corev1.PodStatus, c *corev1.PodCondition) bool {
	now := metav1.Now()
	for i := range status.Conditions {
		old := &status.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message {
			return false
		}
		c.LastTransitionTime = old.LastTransitionTime
		if old.Status != c.Status {
			c.LastTransitionTime = now
		}
		status.Conditions[i] = *c
		return true
	}
	c.LastTransitionTime = now
	status.Conditions = append(status.Conditions, *c)
	return true
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
