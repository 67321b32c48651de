package soak

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Checker follows every pod, Farm, node and PodDisruptionBudget of the cluster, in the order the
// API server reports their changes, and checks Farm's invariants:
//
//   - every eviction takes an executor of a Farm (never a pod of no Farm),
//   - from a farm that stays at or above its minimum (never one at or below it),
//   - and no more than needed: without it, the guaranteed waiting executors of the farm type
//     would not fit in the free room plus the room of the executors already being evicted;
//   - every guarantee that can be met is met within Bound (plus Failover for each scheduler
//     leader killed meanwhile).
//
// It judges from the API server's history as its watches deliver it, which can be a moment
// ahead of the scheduler's decision; so that a decision made on a view that was right is never
// flagged, the "no more than needed" rule counts executors bound within Window as still waiting,
// and pods gone within Window as still holding their room. Executors that their own driver
// deleted count for their farm until they are gone.
type Checker struct {
	// Bound is the time within which a guarantee that can be met must be met: the victims'
	// hysteresis, their grace period and a margin.
	Bound time.Duration
	// Failover is the extra time a guarantee may take for each scheduler leader killed while it
	// waits: the Lease's duration and a margin.
	Failover time.Duration
	// Window is how far the checker's view may be ahead of the scheduler's.
	Window time.Duration

	mu      sync.Mutex
	pods    map[types.UID]*tracked
	gone    []tombstone
	farms   map[types.NamespacedName]*farmv1alpha1.Farm
	nodes   map[string]*corev1.Node
	budgets map[types.NamespacedName]*policyv1.PodDisruptionBudget
	waiting map[types.NamespacedName]*episode
	kills   []time.Time
	report  Report
}

// Report is what the checker saw.
type Report struct {
	// Evictions counts the evictions seen (every one by Farm's reclaim, in the soak).
	Evictions int
	// Violations describes each broken invariant.
	Violations []string
	// Served holds, for every time a farm waited below its minimum, how long until it was not.
	Served []time.Duration
	// Unmeetable counts waits past the bound that no admissible eviction could have ended.
	Unmeetable int
}

type tracked struct {
	pod     *corev1.Pod
	boundAt time.Time
}

type tombstone struct {
	pod *corev1.Pod
	at  time.Time
}

// episode is a farm's wait below its minimum with executors waiting.
type episode struct {
	since   time.Time
	flagged bool
}

// NewChecker returns a Checker with the given bounds.
func NewChecker(bound, failover, window time.Duration) *Checker {
	return &Checker{
		Bound: bound, Failover: failover, Window: window,
		pods:    map[types.UID]*tracked{},
		farms:   map[types.NamespacedName]*farmv1alpha1.Farm{},
		nodes:   map[string]*corev1.Node{},
		budgets: map[types.NamespacedName]*policyv1.PodDisruptionBudget{},
		waiting: map[types.NamespacedName]*episode{},
	}
}

// Report returns a copy of what the checker saw so far.
func (c *Checker) Report() Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.report
	r.Violations = slices.Clone(r.Violations)
	r.Served = slices.Clone(r.Served)
	return r
}

// LeaderKilled records that a scheduler leader was killed at now.
func (c *Checker) LeaderKilled(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kills = append(c.kills, now)
}

// PodChanged takes a pod's new state (nil old for an add). An eviction — the DisruptionTarget
// condition the Eviction API and scheduler preemption set before they delete — is checked
// against the state just before it.
func (c *Checker) PodChanged(old, pod *corev1.Pod, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if disrupted(pod) && (old == nil || !disrupted(old)) {
		c.report.Evictions++
		c.checkEviction(pod, now)
	}
	t := c.pods[pod.UID]
	if t == nil {
		t = &tracked{}
		c.pods[pod.UID] = t
	}
	if pod.Spec.NodeName != "" && (t.pod == nil || t.pod.Spec.NodeName == "") && old != nil {
		t.boundAt = now
	}
	t.pod = pod
}

// PodDeleted takes a pod that is gone.
func (c *Checker) PodDeleted(pod *corev1.Pod, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pods, pod.UID)
	if pod.Spec.NodeName != "" {
		c.gone = append(c.gone, tombstone{pod: pod, at: now})
	}
}

// FarmChanged takes a Farm's new state, or its deletion (gone).
func (c *Checker) FarmChanged(f *farmv1alpha1.Farm, gone bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := types.NamespacedName{Namespace: f.Namespace, Name: f.Name}
	if gone {
		delete(c.farms, key)
		return
	}
	c.farms[key] = f
}

// NodeChanged takes a node's new state.
func (c *Checker) NodeChanged(n *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[n.Name] = n
}

// BudgetChanged takes a PodDisruptionBudget's new state, or its deletion (gone).
func (c *Checker) BudgetChanged(b *policyv1.PodDisruptionBudget, gone bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := types.NamespacedName{Namespace: b.Namespace, Name: b.Name}
	if gone {
		delete(c.budgets, key)
		return
	}
	c.budgets[key] = b
}

func (c *Checker) violate(format string, args ...any) {
	c.report.Violations = append(c.report.Violations, fmt.Sprintf(format, args...))
}

// checkEviction checks the eviction of v against the state before it.
func (c *Checker) checkEviction(v *corev1.Pod, now time.Time) {
	farm := c.farmOf(v)
	if farm == nil {
		c.violate("%s: evicted %s/%s, a pod of no Farm", now.Format(time.StampMilli), v.Namespace, v.Name)
		return
	}
	if held := c.held(farm, v.UID, time.Time{}, true); held < farm.Spec.MinExecutors {
		c.violate("%s: evicted %s/%s took farm %s/%s below its minimum (%d left, minimum %d)",
			now.Format(time.StampMilli), v.Namespace, v.Name, farm.Namespace, farm.Name, held, farm.Spec.MinExecutors)
	}
	// Without v, would the guaranteed waiting executors fit anyway?
	asOf := now.Add(-c.Window)
	waiting := c.guaranteedWaiting(farm.Spec.LabelKey, farm.Spec.LabelValue, asOf)
	if len(waiting) == 0 {
		c.violate("%s: evicted %s/%s while no executor of its type waited below its farm's minimum",
			now.Format(time.StampMilli), v.Namespace, v.Name)
		return
	}
	var leaving []string
	nodes := c.fitNodes(now, func(p *corev1.Pod) bool {
		if disrupted(p) && p.UID != v.UID {
			leaving = append(leaving, p.Namespace+"/"+p.Name)
			return true
		}
		return false
	})
	if place(waiting, nodes, nil) {
		var free []string
		for _, n := range nodes {
			free = append(free, fmt.Sprintf("%s:%dm", n.name, n.free.cpu))
		}
		c.violate("%s: evicted %s/%s on %s (%s) although the guaranteed waiting executors %v fit without it, in free room and the room of the executors leaving %v (free with them: %v)",
			now.Format(time.StampMilli), v.Namespace, v.Name, v.Spec.NodeName, disruptionReason(v), names(waiting), leaving, free)
	}
}

// Tick follows every farm's wait below its minimum and flags one that lasts past its bound
// although it could be ended.
func (c *Checker) Tick(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, farm := range c.farms {
		waiting := len(c.guaranteedWaitingOf(farm, time.Time{})) > 0
		e := c.waiting[key]
		switch {
		case waiting && e == nil:
			c.waiting[key] = &episode{since: now}
		case !waiting && e != nil:
			c.report.Served = append(c.report.Served, now.Sub(e.since))
			delete(c.waiting, key)
		case waiting && !e.flagged && now.Sub(e.since) > c.boundSince(e.since):
			e.flagged = true
			if c.meetable(farm, now) {
				c.violate("%s: farm %s waited %.1fs below its minimum (bound %s) although admissible evictions could have met it",
					now.Format(time.StampMilli), key, now.Sub(e.since).Seconds(), c.boundSince(e.since))
			} else {
				c.report.Unmeetable++
			}
		}
	}
	// Tombstones older than the window hold no room any more.
	c.gone = slices.DeleteFunc(c.gone, func(t tombstone) bool { return now.Sub(t.at) > c.Window })
}

// boundSince is the bound of a wait that began at since.
func (c *Checker) boundSince(since time.Time) time.Duration {
	bound := c.Bound
	for _, k := range c.kills {
		if !k.Before(since) {
			bound += c.Failover
		}
	}
	return bound
}

// meetable reports whether the farm's guaranteed waiting executors fit in the free room plus
// what admissible evictions (farms above their minimum, within their budgets) would free.
func (c *Checker) meetable(farm *farmv1alpha1.Farm, now time.Time) bool {
	waiting := c.guaranteedWaitingOf(farm, time.Time{})
	allowance := map[string]int{}
	for _, other := range c.farms {
		if other.Spec.LabelKey != farm.Spec.LabelKey || other.Spec.LabelValue != farm.Spec.LabelValue || other == farm {
			continue
		}
		over := int(c.held(other, "", time.Time{}, false) - other.Spec.MinExecutors)
		if over <= 0 {
			continue
		}
		for _, b := range c.budgets {
			if b.Namespace == other.Namespace {
				over = min(over, int(b.Status.DisruptionsAllowed))
			}
		}
		allowance[other.Namespace] = over
	}
	nodes := c.fitNodes(now, func(p *corev1.Pod) bool {
		return disrupted(p) // already leaving: their room is as good as free
	})
	for i := range nodes {
		for _, t := range c.pods {
			p := t.pod
			if p.Spec.NodeName != nodes[i].name || !c.holding(p) {
				continue
			}
			if f := c.farmOf(p); f != nil && allowance[f.Namespace] > 0 {
				nodes[i].victims = append(nodes[i].victims, fitVictim{farm: f.Namespace, size: requestOf(p)})
			}
		}
	}
	return place(waiting, nodes, allowance)
}

// fitNodes returns the nodes with their free room: allocatable less every pod that holds room
// (bound and not ended, pods gone within the window included), except those freed says are free.
func (c *Checker) fitNodes(now time.Time, freed func(*corev1.Pod) bool) []fitNode {
	used := map[string]room{}
	for _, t := range c.pods {
		p := t.pod
		if p.Spec.NodeName == "" || ended(p) || freed(p) {
			continue
		}
		used[p.Spec.NodeName] = used[p.Spec.NodeName].add(requestOf(p))
	}
	for _, t := range c.gone {
		if now.Sub(t.at) <= c.Window {
			used[t.pod.Spec.NodeName] = used[t.pod.Spec.NodeName].add(requestOf(t.pod))
		}
	}
	names := make([]string, 0, len(c.nodes))
	for name := range c.nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	nodes := make([]fitNode, 0, len(names))
	for _, name := range names {
		n := c.nodes[name]
		alloc := room{cpu: n.Status.Allocatable.Cpu().MilliValue(), memory: n.Status.Allocatable.Memory().Value()}
		nodes = append(nodes, fitNode{name: name, labels: n.Labels, free: alloc.sub(used[name])})
	}
	return nodes
}

// guaranteedWaiting returns the waiting executors of every farm of a type that its farm's
// minimum covers, as of asOf (zero: now; executors bound after asOf count as waiting).
func (c *Checker) guaranteedWaiting(key, value string, asOf time.Time) []*corev1.Pod {
	var out []*corev1.Pod
	for _, f := range c.farms {
		if f.Spec.LabelKey == key && f.Spec.LabelValue == value {
			out = append(out, c.guaranteedWaitingOf(f, asOf)...)
		}
	}
	return out
}

// guaranteedWaitingOf returns the farm's waiting executors its minimum covers: the oldest
// min - held of them.
func (c *Checker) guaranteedWaitingOf(f *farmv1alpha1.Farm, asOf time.Time) []*corev1.Pod {
	short := int(f.Spec.MinExecutors - c.held(f, "", asOf, false))
	if short <= 0 {
		return nil
	}
	var waiting []*corev1.Pod
	for _, t := range c.pods {
		p := t.pod
		if c.farmOf(p) != f || p.DeletionTimestamp != nil || ended(p) {
			continue
		}
		if p.Spec.NodeName == "" || (!asOf.IsZero() && t.boundAt.After(asOf)) {
			waiting = append(waiting, p)
		}
	}
	sort.Slice(waiting, func(i, j int) bool {
		return waiting[i].CreationTimestamp.Before(&waiting[j].CreationTimestamp) ||
			(waiting[i].CreationTimestamp.Equal(&waiting[j].CreationTimestamp) && waiting[i].Name < waiting[j].Name)
	})
	return waiting[:min(short, len(waiting))]
}

// held counts the farm's executors that hold a place: bound before asOf (zero: now), not ended,
// not being evicted, except. Executors their own driver deleted count until they are gone when
// deleted says so — for the farm that loses an executor, whose driver may be ending its job as
// the scheduler decides — and never for a farm that waits, as farm-scheduler counts them.
func (c *Checker) held(f *farmv1alpha1.Farm, except types.UID, asOf time.Time, deleted bool) int32 {
	var n int32
	for uid, t := range c.pods {
		if uid == except || c.farmOf(t.pod) != f || !c.holding(t.pod) {
			continue
		}
		if !deleted && t.pod.DeletionTimestamp != nil {
			continue
		}
		if !asOf.IsZero() && t.boundAt.After(asOf) {
			continue
		}
		n++
	}
	return n
}

// holding reports whether a pod holds a place for its farm: bound, not ended, not evicted.
func (c *Checker) holding(p *corev1.Pod) bool {
	return p.Spec.NodeName != "" && !ended(p) && !disrupted(p)
}

// farmOf returns the Farm of the pod's namespace whose label it carries, or nil.
func (c *Checker) farmOf(p *corev1.Pod) *farmv1alpha1.Farm {
	for key, f := range c.farms {
		if key.Namespace == p.Namespace && labels.Set(p.Labels).Has(f.Spec.LabelKey) && p.Labels[f.Spec.LabelKey] == f.Spec.LabelValue {
			return f
		}
	}
	return nil
}

// disrupted reports whether the pod carries the DisruptionTarget condition.
func disrupted(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// disruptionReason returns the reason of the pod's DisruptionTarget condition.
func disruptionReason(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget {
			return c.Reason
		}
	}
	return ""
}

func names(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Namespace + "/" + p.Name
	}
	return out
}

// ended reports whether the pod's containers are done.
func ended(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}
