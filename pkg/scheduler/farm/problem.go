package farm

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	schedutil "k8s.io/kubernetes/pkg/scheduler/util"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim"
	"github.com/toinfn/farm/pkg/reclaim/input"
)

// reclaimInput is a reclaim.Problem gathered from the scheduler's snapshot and the farm cache,
// with the pods behind its indices.
type reclaimInput struct {
	problem *reclaim.Problem
	// self is the cycle's pod's index in problem.Waiting.
	self    int
	waiting []*corev1.Pod
	// victims[n][i] is the pod of problem.Nodes[n].Victims[i].
	victims [][]*corev1.Pod
	// claimed is the node a reclaim of this replica nominated the cycle's pod to, if any, and
	// claimedIndex its index in problem.Nodes (-1 when the node is not in the problem).
	claimed      string
	claimedIndex int
	// passedOver says, per farm, why executors that would otherwise be victims are not: a
	// PodDisruptionBudget that allows no disruption, or an eviction refused a moment ago.
	passedOver map[types.NamespacedName]string
	// stale[n] are the pods nominated to problem.Nodes[n] that no guarantee covers any more
	// (their farm reached its minimum): their room counts as free, and their nominations are
	// released on the node a plan uses (releaseStale).
	stale [][]*corev1.Pod
}

// errCovered: the cycle's pod is not among its farm's guaranteed pods, because as many of the
// farm's pods already have room being made for them as its guarantee covers. It would borrow.
var errCovered = errors.New("as many of the farm's executors as its minimum covers already have room being made for them: this one would borrow, and a borrowing pod never reclaims")

// gatherReclaim builds the problem for the guaranteed pods of pod's farm type; driver says the pod
// is a driver of a farm below its minimum (drivers.go), not one of its executors. The cycle's pod
// may use the nodes the filters found it could use once pods are removed from them
// (Unschedulable, not UnschedulableAndUnresolvable) and whose labels and taints admit it; the
// other waiting pods, whose filters did not run this cycle, the nodes their node selector,
// required affinity and tolerations admit. The nodes are bounded (candidates.go), so it costs
// O(pending executors of the farms below their minimum + pods on the chosen nodes), not
// O(executors).
func (p *Plugin) gatherReclaim(ctx context.Context, pod *corev1.Pod, t quota.Type, statuses fwk.NodeToStatusReader, driver bool) (*reclaimInput, error) {
	logger := klog.FromContext(ctx)
	in := &reclaimInput{
		problem:    &reclaim.Problem{},
		passedOver: map[types.NamespacedName]string{},
	}
	lister := p.handle.SnapshotSharedLister().NodeInfos()
	evicting := p.evictions.snapshot()

	// 1) The farms below their minimum, whose pending pods wait, and the farms that may lose
	// executors; the waiting pods; the nodes worth planning on.
	var states []input.FarmState
	for _, f := range p.farms.OfType(t) {
		key := quota.Key(f.Farm)
		states = append(states, input.FarmState{Key: key, State: f.State, InFlight: evicting.inFlight[key]})
	}
	sides := input.SplitSides(states)
	in.problem.Farms = sides.Victims
	nodes := newCandidates()
	nodes.always.Insert(p.farms.LeavingNodes(sides.Keys())...)
	nodes.always.Insert(evicting.nodes...)
	var below []types.NamespacedName
	for key := range sides.Demand {
		below = append(below, key)
	}
	pending := map[types.NamespacedName][]*corev1.Pod{}
	p.farms.VisitExecutors(below, func(key types.NamespacedName, e *corev1.Pod) {
		if quota.IsSchedulable(e, quota.SchedulerName) {
			pending[key] = append(pending[key], e)
		}
	})
	claimed := p.claims.snapshot()
	nominatedTo := func(w *corev1.Pod) string {
		if node, ok := claimed[w.UID]; ok {
			return node
		}
		return w.Status.NominatedNodeName
	}
	var drivers []*corev1.Pod
	if driver {
		// A driver waits beside its farm's executors, beyond the count they are guaranteed.
		drivers = append(drivers, pod)
	}
	in.waiting = sides.Waiting(pod, pending, nominatedTo, drivers...)
	in.self = -1
	for i, w := range in.waiting {
		if w.UID == pod.UID {
			in.self = i
		}
		if node := nominatedTo(w); node != "" {
			nodes.always.Insert(node)
		}
	}
	if in.self < 0 {
		return nil, errCovered
	}
	// Only a claim this replica made: a nomination it did not make, or one whose eviction was
	// refused, promised no room.
	in.claimed = claimed[pod.UID]
	// The filters stop at the first that fails, so a node short of room may not have been asked
	// about affinity or taints: the cycle's pod may use a node its filters found Unschedulable
	// (not UnschedulableAndUnresolvable) whose labels and taints admit it. Asked once per node.
	selfAffinity := nodeaffinity.GetRequiredNodeAffinity(pod)
	selfUsable := map[string]bool{}
	usable := func(node string) bool {
		ok, seen := selfUsable[node]
		if !seen {
			ok = statuses.Get(node).Code() == fwk.Unschedulable && admits(logger, lister, node, pod, selfAffinity)
			selfUsable[node] = ok
		}
		return ok
	}
	names := nodes.choose(p.farms, victimFarms(in.problem.Farms), nodeBound(len(in.waiting)), usable)

	// 2) The resources that matter: those the waiting pods request.
	requests := make([]fwk.Resource, len(in.waiting))
	waitingUIDs := sets.New[types.UID]()
	for i, w := range in.waiting {
		requests[i] = podInfo(w).CalculateResource().Resource
		waitingUIDs.Insert(w.UID)
	}
	dims := input.DimensionsOf(requests)
	in.problem.Dimensions = dims.Names()

	// 3) The nodes: room, what leaves them, their admissible victims.
	budgets, err := p.budgets()
	if err != nil {
		return nil, err
	}
	reader := &input.NodeReader{
		Dimensions: dims,
		Budgets:    budgets,
		Farms:      in.problem.Farms,
		Owner:      p.farms.OwnerKey,
		Evicting:   func(uid types.UID) bool { return evicting.requested[uid] },
		Refused: func(uid types.UID) (string, bool) {
			why, ok := evicting.refused[uid]
			return why, ok
		},
		Now:        time.Now(),
		PassedOver: in.passedOver,
	}
	nodeIndex := map[string]int{}
	// nominatedIndex holds the scheduler's own nominations of waiting pods, which the filters read.
	nominatedIndex := map[types.UID]int{}
	for _, name := range names {
		nodeInfo, err := lister.Get(name)
		if err != nil || nodeInfo.Node() == nil {
			continue // gone from the snapshot since its executors were counted
		}
		node, victims := reader.Read(nodeInfo)
		nominatedHere, stale := p.gatherNominated(&node, dims, waitingUIDs, corev1helpers.PodPriority(pod))
		in.stale = append(in.stale, stale)
		for _, uid := range nominatedHere {
			nominatedIndex[uid] = len(in.problem.Nodes)
		}
		nodeIndex[name] = len(in.problem.Nodes)
		in.problem.Nodes = append(in.problem.Nodes, node)
		in.victims = append(in.victims, victims)
	}
	in.problem.Budgets = budgets.Allowed()
	in.claimedIndex = -1
	if n, ok := nodeIndex[in.claimed]; ok {
		in.claimedIndex = n
	}

	// 4) Where each waiting pod may go.
	for i, w := range in.waiting {
		rw := reclaim.Waiting{ID: klog.KObj(w).String(), Request: dims.Of(requests[i]), Nominated: -1}
		if n, ok := nominatedIndex[w.UID]; ok {
			rw.Nominated = n
		} else if n, ok := nodeIndex[nominatedTo(w)]; ok {
			rw.Nominated = n
		}
		affinity := nodeaffinity.GetRequiredNodeAffinity(w)
		for n, node := range in.problem.Nodes {
			if i == in.self && usable(node.Name) || i != in.self && admits(logger, lister, node.Name, w, affinity) {
				rw.Nodes = append(rw.Nodes, n)
			}
		}
		in.problem.Waiting = append(in.problem.Waiting, rw)
	}
	return in, nil
}

// gatherNominated takes from a node's room what the pods the scheduler nominated there claim
// (as the filters count them for a pod of the given priority). It returns the waiting pods of
// the problem nominated there, and the pods nominated there that no guarantee covers any more
// (staleNomination), whose room counts as free.
func (p *Plugin) gatherNominated(node *reclaim.Node, dims input.Dimensions, waiting sets.Set[types.UID], priority int32) ([]types.UID, []*corev1.Pod) {
	var nominated []types.UID
	var stale []*corev1.Pod
	for _, pi := range p.handle.NominatedPodsForNode(node.Name) {
		np := pi.GetPod()
		switch {
		case waiting.Has(np.UID):
			nominated = append(nominated, np.UID)
		case p.staleNomination(np):
			stale = append(stale, np)
		case input.HoldsRoom(np, priority):
			node.Room.Sub(dims.Of(pi.CalculateResource().Resource))
		}
	}
	return nominated, stale
}

// staleNomination reports whether a nominated pod is an executor of a farm that is no longer
// below its minimum: a reclaim nominated it while it was guaranteed, and it would now only
// borrow, so the room it holds is not its to keep.
func (p *Plugin) staleNomination(pod *corev1.Pod) bool {
	f, ok := p.farms.OwnerOf(pod)
	return ok && !f.State.BelowMin()
}

// releaseStale clears the nominations of pods a guarantee no longer covers, as upstream's
// preemption clears lower-priority nominations on the node it uses: in the scheduler's
// nominator, which the filters read, and in the pods' status.
func (p *Plugin) releaseStale(ctx context.Context, pods []*corev1.Pod) {
	logger := klog.FromContext(ctx)
	for _, pod := range pods {
		p.handle.DeleteNominatedPodIfExists(pod)
		p.claims.set(pod, "")
		var err error
		if c := p.handle.APICacher(); c != nil {
			_, err = c.PatchPodStatus(pod, nil, &fwk.NominatingInfo{NominatedNodeName: "", NominatingMode: fwk.ModeOverride})
		} else if pod.Status.NominatedNodeName != "" {
			status := pod.Status.DeepCopy()
			status.NominatedNodeName = ""
			err = schedutil.PatchPodStatus(ctx, p.handle.ClientSet(), pod.Name, pod.Namespace, &pod.Status, status)
		}
		if err != nil {
			logger.V(2).Info("Could not clear a stale nomination", "pod", klog.KObj(pod), "err", err)
			continue
		}
		logger.V(4).Info("Released the room of a pod no guarantee covers any more", "pod", klog.KObj(pod), "node", pod.Status.NominatedNodeName)
	}
}

// leaving reports whether a pod is on its way out: evicted by the plugin and not yet shown
// terminating, or terminating and still expected to go (quota.IsLeaving). Its room counts as free
// for the waiting pods; a pod stuck in Terminating holds its room and the plan is made without it.
func (p *Plugin) leaving(pod *corev1.Pod) bool {
	return p.evictions.requested(pod.UID) || quota.IsLeaving(pod, time.Now())
}

// admits reports whether the node of the snapshot named name admits a pod (input.Admits).
func admits(logger klog.Logger, lister fwk.NodeInfoLister, name string, pod *corev1.Pod, affinity nodeaffinity.RequiredNodeAffinity) bool {
	nodeInfo, err := lister.Get(name)
	if err != nil || nodeInfo.Node() == nil {
		return false
	}
	return input.Admits(logger, nodeInfo.Node(), pod, affinity)
}

// budgets reads every PodDisruptionBudget a plan must respect.
func (p *Plugin) budgets() (*input.Budgets, error) {
	if p.pdbs == nil {
		return input.NewBudgets(nil), nil
	}
	pdbs, err := p.pdbs.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing PodDisruptionBudgets: %w", err)
	}
	return input.NewBudgets(pdbs), nil
}
