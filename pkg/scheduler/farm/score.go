package farm

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// preScoreKey keys the set of borrowing farms computed once per cycle.
const preScoreKey fwk.StateKey = Name + "/borrowing"

// borrowingFarms are the farms of the pod's type that hold executors beyond their minimum.
type borrowingFarms struct{ farmcache.FarmSet }

// Clone shares the set: it is read-only once PreScore has built it.
func (b *borrowingFarms) Clone() fwk.StateData { return b }

// PreScore decides whether the elastic quota scorer applies: only to a pod that will borrow (its
// farm is at or above its minimum), and only when some executor of a borrowing farm of its type
// is assigned somewhere; guaranteed pods and pods of no Farm are not steered. It costs O(farms).
func (p *Plugin) PreScore(_ context.Context, state fwk.CycleState, _ *corev1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	s, err := cycleStateOf(state)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if s.farm == nil || s.state.BelowMin() {
		return fwk.NewStatus(fwk.Skip)
	}
	// The pod itself will borrow: its own farm's executors are reclaimable work too.
	own := quota.Key(s.farm)
	borrowing := &borrowingFarms{}
	var assigned int32
	for _, f := range p.farms.OfType(quota.TypeOf(s.farm)) {
		if quota.Key(f.Farm) == own || f.State.Borrowing() {
			borrowing.Add(f)
			assigned += f.State.Assigned
		}
	}
	if assigned == 0 {
		// Every node would score 0: nothing to prefer.
		return fwk.NewStatus(fwk.Skip)
	}
	state.Write(preScoreKey, borrowing)
	return nil
}

// Score counts the node's executors of borrowing farms of the pod's type: packing borrowed
// executors together means a later reclaim evicts fewer pods on fewer nodes. The cache counts
// executors by node, so it costs O(farms on the node), not O(pods on the node), and reads
// without the cache's lock: in a full scheduling cycle Score runs for every feasible node of a
// borrowing pod, in parallel (a batched cycle rescores only the node the previous pod took).
func (p *Plugin) Score(_ context.Context, state fwk.CycleState, _ *corev1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	d, err := state.Read(preScoreKey)
	if err != nil {
		return 0, fwk.AsStatus(fmt.Errorf("reading %q from cycle state: %w", preScoreKey, err))
	}
	borrowing, ok := d.(*borrowingFarms)
	if !ok {
		return 0, fwk.AsStatus(fmt.Errorf("%+v cannot be converted to farm.borrowingFarms", d))
	}
	return p.farms.AssignedOn(nodeInfo.Node().Name, borrowing.FarmSet), nil
}

// ScoreExtensions normalizes scores to the framework's range.
func (p *Plugin) ScoreExtensions() fwk.ScoreExtensions { return p }

// NormalizeScore scales the counts so the node with the most borrowed executors scores
// MaxNodeScore.
func (p *Plugin) NormalizeScore(_ context.Context, _ fwk.CycleState, _ *corev1.Pod, scores fwk.NodeScoreList) *fwk.Status {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s.Score)
	}
	if highest == 0 {
		return nil
	}
	for i := range scores {
		scores[i].Score = scores[i].Score * fwk.MaxNodeScore / highest
	}
	return nil
}

// signKey names the plugin's part of a pod's scheduling signature.
const signKey = "farm.toinfn.it/farm"

// SignPod lets the scheduler batch pods that Farm scores alike (kube-scheduler's opportunistic
// batching: a pod whose signature equals the previous pod's takes the next node of that pod's
// scored list, after the node the previous pod went to is filtered and scored again for it). The
// signature says what Score reads, not which farm the pod is in, so that borrowing executors of
// different farms batch together:
//   - "" when Farm does not steer the pod: a pod of no Farm, of a farm below its minimum
//     (guaranteed) or at its ceiling (PreFilter refuses it);
//   - the farm type when the pod borrows from a farm that already borrows: Score counts the
//     executors of the type's borrowing farms, the same set for every such pod;
//   - the farm type and the Farm when the farm is at its minimum: Score counts its own
//     executors too (PreScore adds them).
//
// The scheduler signs a pod when it is queued, so the standing is the farm's at that moment;
// a batched pod still runs PreScore and Score for itself on the node it is offered.
func (p *Plugin) SignPod(_ context.Context, pod *corev1.Pod) ([]fwk.SignFragment, *fwk.Status) {
	return []fwk.SignFragment{{Key: signKey, Value: p.scoredAs(pod)}}, nil
}

// scoredAs is the Farm part of the pod's signature (see SignPod).
func (p *Plugin) scoredAs(pod *corev1.Pod) string {
	f, ok := p.farms.OwnerOf(pod)
	if !ok || f.State.BelowMin() || f.State.Headroom() == 0 {
		return ""
	}
	t := quota.TypeOf(f.Farm).String()
	if !f.State.Borrowing() {
		return t + "/" + quota.Key(f.Farm).String()
	}
	return t
}
