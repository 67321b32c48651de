package farm

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/apis/config"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// A driver starts a tenant's executors: a Spark driver in cluster mode, or the notebook pod that
// is one in client mode. On a cluster full of borrowed executors, a tenant below its minimum
// whose driver cannot start never asks for an executor, and its guarantee never starts; so a
// driver (a pod of farm-scheduler carrying one of the args' driver labels, of no Farm) in the
// namespace of a Farm below its minimum reclaims room for itself as that farm's guaranteed
// executors do. At most MaxReclaimingDrivers of a farm's drivers may, counting those already
// running, so a tenant cannot borrow through drivers.

// driverSelector returns the args' driver selector the pod matches.
func (p *Plugin) driverSelector(pod *corev1.Pod) (config.DriverSelector, bool) {
	for _, d := range p.args.Drivers {
		if v, ok := pod.Labels[d.LabelKey]; ok && v == d.LabelValue {
			return d, true
		}
	}
	return config.DriverSelector{}, false
}

// driverFarm returns the farm a driver starts executors for, of the namespace's farms: one whose
// executors carry the driver's label key first (spark-role=driver goes with spark-role=executor),
// then the oldest, as the oldest Farm owns the executors it selects.
func driverFarm(farms []farmcache.Farm, d config.DriverSelector) (farmcache.Farm, bool) {
	if len(farms) == 0 {
		return farmcache.Farm{}, false
	}
	sort.Slice(farms, func(i, j int) bool {
		a, b := farms[i].Farm, farms[j].Farm
		if ka, kb := a.Spec.LabelKey == d.LabelKey, b.Spec.LabelKey == d.LabelKey; ka != kb {
			return ka
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return farms[0], true
}

// driverOf returns the farm the pod is a driver for when that farm is below its minimum, or why
// the pod may not reclaim.
func (p *Plugin) driverOf(pod *corev1.Pod) (farmcache.Farm, string) {
	d, ok := p.driverSelector(pod)
	if !ok || p.args.MaxReclaimingDrivers == 0 {
		return farmcache.Farm{}, "the pod belongs to no Farm"
	}
	f, ok := driverFarm(p.farms.InNamespace(pod.Namespace), d)
	if !ok {
		return farmcache.Farm{}, fmt.Sprintf("driver in namespace %s, which has no Farm", pod.Namespace)
	}
	if !f.State.BelowMin() {
		return farmcache.Farm{}, fmt.Sprintf("driver of farm %s, which is at or above its minimum (%d of %d): a borrowing pod never reclaims", quota.Key(f.Farm), f.State.Assigned, f.State.Min)
	}
	return f, ""
}

// driverCovered reports whether the farm already has MaxReclaimingDrivers drivers running or
// with room being made for them; the pod would then borrow.
func (p *Plugin) driverCovered(pod *corev1.Pod, f farmcache.Farm, claimed map[types.UID]string) (bool, error) {
	pods, err := p.pods.Pods(pod.Namespace).List(labels.Everything())
	if err != nil {
		return false, err
	}
	farms := p.farms.InNamespace(pod.Namespace)
	var n int32
	for _, other := range pods {
		if other.UID == pod.UID || quota.IsTerminating(other) || quota.IsFinished(other) {
			continue
		}
		if other.Spec.NodeName == "" && claimed[other.UID] == "" && other.Status.NominatedNodeName == "" {
			continue
		}
		d, ok := p.driverSelector(other)
		if !ok {
			continue
		}
		if _, executor := p.farms.OwnerKey(other); executor {
			continue
		}
		if of, ok := driverFarm(farms, d); ok && quota.Key(of.Farm) == quota.Key(f.Farm) {
			n++
		}
	}
	return n >= p.args.MaxReclaimingDrivers, nil
}

// podWaiting reports whether a pod still waits for a node: an executor the farm cache counts as
// pending, or any other pod (a driver) the scheduler's informer shows unbound and not deleted.
func (p *Plugin) podWaiting(pod types.NamespacedName, uid types.UID) bool {
	if p.farms.Waiting(uid) {
		return true
	}
	live, err := p.pods.Pods(pod.Namespace).Get(pod.Name)
	return err == nil && live.UID == uid && live.Spec.NodeName == "" && live.DeletionTimestamp == nil
}
