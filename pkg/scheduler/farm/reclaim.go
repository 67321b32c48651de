package farm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"

	"github.com/toinfn/farm/pkg/quota"
)

var (
	_ fwk.PostFilterPlugin = &Plugin{}
	_ preemption.Interface = &reclaimer{}
)

// planKey keys the reclaim plan of the current cycle, read by the preemption dry run.
const planKey fwk.StateKey = Name + "/plan"

// reclaimPlan is, for the cycle's pod, how many executors each victim farm may still lose: the
// farm type's plan restricted to farms whose hysteresis has run out.
type reclaimPlan struct {
	owed map[types.NamespacedName]int32
}

// Clone shares the plan: the dry run copies what it changes.
func (p *reclaimPlan) Clone() fwk.StateData { return p }

// PostFilter reclaims borrowed executors for a pod of a farm below its minimum that fits nowhere:
// it plans how many executors each borrowing farm of the same type gives back (exactly the
// guaranteed demand, in proportion to overquota), waits out each victim farm's hysteresis, and
// lets the upstream preemption evaluator pick the node and nominate the pod, with victims chosen
// by the farm rules and evicted through the Eviction API.
func (p *Plugin) PostFilter(ctx context.Context, state fwk.CycleState, pod *corev1.Pod, m fwk.NodeToStatusReader) (*fwk.PostFilterResult, *fwk.Status) {
	logger := klog.FromContext(ctx)
	s, err := cycleStateOf(state)
	if err != nil {
		return nil, fwk.AsStatus(err)
	}
	if s.farm == nil {
		return nil, fwk.NewStatus(fwk.Unschedulable, "reclaim: the pod belongs to no Farm")
	}
	farmKey := quota.Key(s.farm)
	current, ok := p.farms.Get(farmKey)
	if !ok {
		return nil, fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("reclaim: farm %s is gone", farmKey))
	}
	if !current.State.BelowMin() {
		return nil, fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("reclaim: farm %s is at or above its minimum (%d of %d): a borrowing pod never reclaims", farmKey, current.State.Assigned, current.State.Min))
	}
	reclaimAttempts.WithLabelValues(farmKey.String()).Inc()
	// The scheduler's queue may hand the pod over before the cache's own handler has counted it;
	// count it now so that it makes demand (counting is idempotent).
	p.farms.AddPod(pod)

	farmType := quota.TypeOf(s.farm)
	plan := quota.PlanReclaim(p.standings(farmType))
	if len(plan.Owed) == 0 {
		var msg string
		switch {
		case plan.Demand == 0:
			msg = fmt.Sprintf("reclaim: no guaranteed demand of type %s", farmType)
		case plan.Leaving > 0:
			msg = fmt.Sprintf("reclaim: waiting for %d reclaimed executors of type %s to terminate", plan.Leaving, farmType)
			// Retry on the trigger cadence: the room those executors free may go to the pods
			// they were reclaimed for, and once those land no cluster event is left to requeue
			// this pod, whose own reclaim is then due.
			p.retryOnCadence(logger, pod)
		default:
			msg = fmt.Sprintf("reclaim: no farm of type %s is over its minimum", farmType)
		}
		logger.V(4).Info("Nothing to reclaim", "pod", klog.KObj(pod), "farm", farmKey, "demand", plan.Demand, "leaving", plan.Leaving)
		return nil, fwk.NewStatus(fwk.Unschedulable, msg)
	}

	ready, waiting := p.triggers.fire(plan.Owed, p.nThreshold)
	if len(ready) == 0 {
		// Retry on the trigger cadence, not on some unrelated cluster event.
		p.retryOnCadence(logger, pod)
		msg := "reclaim: hysteresis: " + strings.Join(waiting, ", ")
		p.event(pod, EventReclaimPending, msg)
		return nil, fwk.NewStatus(fwk.Unschedulable, msg)
	}
	state.Write(planKey, &reclaimPlan{owed: ready})
	logger.V(2).Info("Reclaiming borrowed executors", "pod", klog.KObj(pod), "farm", farmKey, "demand", plan.Demand, "leaving", plan.Leaving, "owed", byName(plan.Owed), "ready", byName(ready))

	result, status := p.evaluator.Preempt(ctx, state, pod, &victimNodesFirst{NodeToStatusReader: m, rank: p.victimNodeRanks(ready)})
	if !status.IsSuccess() {
		if len(waiting) > 0 {
			p.retryOnCadence(logger, pod)
		}
		return result, fwk.NewStatus(status.Code(), "reclaim: "+status.Message())
	}
	return result, status
}

// standings gathers every farm of a type with the executors it already has on their way out.
func (p *Plugin) standings(t quota.Type) []quota.Standing {
	farms := p.farms.OfType(t)
	out := make([]quota.Standing, 0, len(farms))
	for _, f := range farms {
		key := quota.Key(f.Farm)
		open, openTerminating := p.evictions.leaving(key)
		out = append(out, quota.Standing{Key: key, State: f.State, Leaving: f.State.Terminating - openTerminating + open})
	}
	return out
}

// nThreshold is how many triggers a farm withstands before it loses executors.
func (p *Plugin) nThreshold(key types.NamespacedName) int32 {
	f, ok := p.farms.Get(key)
	if !ok {
		return 1
	}
	return max(1, f.Farm.Spec.ScaledownAfterNTriggers)
}

// reclaimer is the farm-aware preemption.Interface the upstream evaluator runs with.
type reclaimer struct {
	p *Plugin
}

// Bounds of the candidate search, as DefaultPreemption's defaults: the dry run stops once it has
// found this many nodes where the reclaim works.
const (
	minCandidateNodesPercentage = 10
	minCandidateNodesAbsolute   = 100
)

// GetOffsetAndNumCandidates bounds the search as upstream does (a tenth of the nodes, at least
// 100 candidates found), but from the first node: victimNodesFirst hands the dry run only nodes
// holding executors the plan may take, best victims first, so the bounded search still sees the
// nodes of the youngest, lowest-priority executors of the farms that owe the most. Visiting every
// node would make a reclaim cost O(every pod in the cluster) (see docs/benchmarks.md).
func (r *reclaimer) GetOffsetAndNumCandidates(numNodes int32) (int32, int32) {
	n := max(numNodes*minCandidateNodesPercentage/100, minCandidateNodesAbsolute)
	return 0, min(n, numNodes)
}

// victimNodesFirst narrows the nodes the evaluator dry-runs to those holding executors of farms
// that owe executors, ordered by the best victim each holds.
type victimNodesFirst struct {
	fwk.NodeToStatusReader
	// rank is, for each node holding an owed farm's executor, the position of its best victim.
	rank map[string]int
}

// NodesForStatusCode returns the nodes the filters rejected with code that hold reclaimable
// executors, best first.
func (v *victimNodesFirst) NodesForStatusCode(lister fwk.NodeInfoLister, code fwk.Code) ([]fwk.NodeInfo, error) {
	nodes, err := v.NodeToStatusReader.NodesForStatusCode(lister, code)
	if err != nil {
		return nil, err
	}
	out := nodes[:0:0]
	for _, n := range nodes {
		if _, ok := v.rank[n.Node().Name]; ok {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return v.rank[out[i].Node().Name] < v.rank[out[j].Node().Name] })
	return out, nil
}

// victimNodeRanks orders the nodes holding executors of the owing farms: the farm owing the most
// first, inside a farm lower priority then youngest first (quota.VictimFirst). It costs O(the
// owing farms' executors).
func (p *Plugin) victimNodeRanks(owed map[types.NamespacedName]int32) map[string]int {
	type victim struct {
		pod  *corev1.Pod
		owes int32
	}
	var victims []victim
	for key, n := range owed {
		if n <= 0 {
			continue
		}
		for _, pod := range p.farms.Executors(key) {
			if quota.IsAssigned(pod) {
				victims = append(victims, victim{pod: pod, owes: n})
			}
		}
	}
	sort.Slice(victims, func(i, j int) bool {
		if victims[i].owes != victims[j].owes {
			return victims[i].owes > victims[j].owes
		}
		return quota.VictimFirst(victims[i].pod, victims[j].pod)
	})
	rank := make(map[string]int, len(victims))
	for i, v := range victims {
		if _, ok := rank[v.pod.Spec.NodeName]; !ok {
			rank[v.pod.Spec.NodeName] = i
		}
	}
	return rank
}

// CandidatesToVictimsMap maps each candidate node to its victims.
func (r *reclaimer) CandidatesToVictimsMap(candidates []preemption.Candidate) map[string]*extenderv1.Victims {
	m := make(map[string]*extenderv1.Victims, len(candidates))
	for _, c := range candidates {
		m[c.Name()] = c.Victims()
	}
	return m
}

// PodEligibleToPreemptOthers lets only a pod of a farm below its minimum reclaim, and not while
// executors reclaimed for it still terminate on its nominated node.
func (r *reclaimer) PodEligibleToPreemptOthers(_ context.Context, pod *corev1.Pod, nominatedNodeStatus *fwk.Status) (bool, string) {
	f, ok := r.p.farms.OwnerOf(pod)
	if !ok || !f.State.BelowMin() {
		return false, "only a farm below its minimum reclaims"
	}
	node := pod.Status.NominatedNodeName
	if node == "" || nominatedNodeStatus.Code() == fwk.UnschedulableAndUnresolvable {
		return true, ""
	}
	nodeInfo, err := r.p.handle.SnapshotSharedLister().NodeInfos().Get(node)
	if err != nil {
		return true, ""
	}
	t := quota.TypeOf(f.Farm)
	for _, pi := range nodeInfo.GetPods() {
		v := pi.GetPod()
		if v.DeletionTimestamp == nil {
			continue
		}
		if owner, ok := r.p.farms.OwnerKey(v); ok {
			if of, ok := r.p.farms.Get(owner); ok && quota.TypeOf(of.Farm) == t {
				return false, "reclaimed executors still terminate on the nominated node"
			}
		}
	}
	return true, ""
}

// candidateVictim is an executor the plan allows to reclaim on a node.
type candidateVictim struct {
	pod  *corev1.Pod
	info fwk.PodInfo
	farm types.NamespacedName
}

// SelectVictimsOnNode picks the fewest executors whose removal lets the pod fit on the node:
// only executors of farms the plan says owe executors, never more from a farm than it owes;
// farms owing the most first; inside a farm lower priority first, then the youngest. As upstream
// does, it removes all allowed executors, then reprieves as many as still leave room.
func (r *reclaimer) SelectVictimsOnNode(ctx context.Context, state fwk.CycleState, pod *corev1.Pod, nodeInfo fwk.NodeInfo, _ []*preemption.DomainVictim, pdbs []*policy.PodDisruptionBudget) ([]*corev1.Pod, int, *fwk.Status) {
	d, err := state.Read(planKey)
	if err != nil {
		return nil, 0, fwk.AsStatus(fmt.Errorf("reading %q from cycle state: %w", planKey, err))
	}
	plan := d.(*reclaimPlan)
	owed := make(map[types.NamespacedName]int32, len(plan.owed))
	for k, v := range plan.owed {
		owed[k] = v
	}

	logger := klog.FromContext(ctx)
	var candidates []candidateVictim
	// A copy: removing pods from nodeInfo reorders its list.
	for _, pi := range append([]fwk.PodInfo(nil), nodeInfo.GetPods()...) {
		v := pi.GetPod()
		if v.DeletionTimestamp != nil || r.p.evictions.requested(v.UID) {
			// Already leaving, and counted as such by the plan: its room is as good as free.
			// Pods nominated to this node keep their claim on it when the filters run below.
			if _, ok := r.p.farms.OwnerKey(v); ok {
				if err := nodeInfo.RemovePod(logger, v); err != nil {
					return nil, 0, fwk.AsStatus(err)
				}
				if s := r.p.handle.RunPreFilterExtensionRemovePod(ctx, state, pod, pi, nodeInfo); !s.IsSuccess() {
					return nil, 0, s
				}
			}
			continue
		}
		if owner, ok := r.p.farms.OwnerKey(v); ok && owed[owner] > 0 {
			candidates = append(candidates, candidateVictim{pod: v, info: pi, farm: owner})
		}
	}
	if len(candidates) == 0 {
		return nil, 0, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "no executor of a farm that owes executors on this node")
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		if a.farm != b.farm {
			if owed[a.farm] != owed[b.farm] {
				return owed[a.farm] > owed[b.farm]
			}
			return a.farm.String() < b.farm.String()
		}
		return quota.VictimFirst(a.pod, b.pod)
	})

	// Remove every executor the plan allows, farm owing the most first, each farm within what
	// it owes; then put back as many as possible, most valuable first, so the victims are the
	// fewest that make room.
	var removed []candidateVictim
	for len(candidates) > 0 {
		best := 0
		for i, c := range candidates {
			if owed[c.farm] > owed[candidates[best].farm] {
				best = i
			}
		}
		c := candidates[best]
		candidates = append(candidates[:best], candidates[best+1:]...)
		if owed[c.farm] == 0 {
			continue
		}
		if err := nodeInfo.RemovePod(logger, c.pod); err != nil {
			return nil, 0, fwk.AsStatus(err)
		}
		if s := r.p.handle.RunPreFilterExtensionRemovePod(ctx, state, pod, c.info, nodeInfo); !s.IsSuccess() {
			return nil, 0, s
		}
		owed[c.farm]--
		removed = append(removed, c)
	}
	if s := r.p.handle.RunFilterPluginsWithNominatedPods(ctx, state, pod, nodeInfo); !s.IsSuccess() {
		return nil, 0, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "the executors the plan allows on this node do not make room")
	}
	var victims []*corev1.Pod
	for i := len(removed) - 1; i >= 0; i-- {
		c := removed[i]
		nodeInfo.AddPodInfo(c.info)
		if s := r.p.handle.RunPreFilterExtensionAddPod(ctx, state, pod, c.info, nodeInfo); !s.IsSuccess() {
			return nil, 0, s
		}
		if r.p.handle.RunFilterPluginsWithNominatedPods(ctx, state, pod, nodeInfo).IsSuccess() {
			continue // reprieved
		}
		if err := nodeInfo.RemovePod(logger, c.pod); err != nil {
			return nil, 0, fwk.AsStatus(err)
		}
		if s := r.p.handle.RunPreFilterExtensionRemovePod(ctx, state, pod, c.info, nodeInfo); !s.IsSuccess() {
			return nil, 0, s
		}
		victims = append(victims, c.pod)
	}
	if len(victims) == 0 {
		// Room that executors already leaving free is enough here; a victim is still owed, and
		// this node's executors are the ones the plan prefers.
		victims = append(victims, removed[0].pod)
		if err := nodeInfo.RemovePod(logger, removed[0].pod); err != nil {
			return nil, 0, fwk.AsStatus(err)
		}
	}
	// Most preferred victim first, as the plan ordered them.
	for i, j := 0, len(victims)-1; i < j; i, j = i+1, j-1 {
		victims[i], victims[j] = victims[j], victims[i]
	}
	violating, _ := preemption.FilterVictimsWithPDBViolation(podVictims(victims), pdbs)
	return victims, len(violating), nil
}

// podVictims wraps pods for the upstream PDB accounting.
func podVictims(pods []*corev1.Pod) []preemption.Victim {
	out := make([]preemption.Victim, 0, len(pods))
	for _, p := range pods {
		out = append(out, preemption.NewPodVictim(podInfo(p), nil, nil))
	}
	return out
}

// OrderedScoreFuncs ranks candidate nodes: fewest victims, then victims from the farms that owe
// the most (the proportional split holds), then least work lost (youngest victims).
func (r *reclaimer) OrderedScoreFuncs(_ context.Context, nodesToVictims map[string]*extenderv1.Victims) []func(node string) int64 {
	owedBy := func(pod *corev1.Pod) int64 {
		owner, ok := r.p.farms.OwnerKey(pod)
		if !ok {
			return 0
		}
		f, ok := r.p.farms.Get(owner)
		if !ok {
			return 0
		}
		return int64(f.State.Overquota())
	}
	return []func(string) int64{
		func(node string) int64 { return -int64(len(nodesToVictims[node].Pods)) },
		func(node string) int64 {
			var s int64
			for _, v := range nodesToVictims[node].Pods {
				s += owedBy(v)
			}
			return s
		},
		func(node string) int64 {
			var s int64
			for _, v := range nodesToVictims[node].Pods {
				s += quota.StartTime(v).Unix()
			}
			return s
		},
	}
}

// byName renders farm keys as strings, for logs.
func byName(m map[types.NamespacedName]int32) map[string]int32 {
	out := make(map[string]int32, len(m))
	for k, v := range m {
		out[k.String()] = v
	}
	return out
}
