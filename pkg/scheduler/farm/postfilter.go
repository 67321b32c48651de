package farm

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim"
	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// planKey keys, in CycleState, the node and victims the reclaim plan gives the cycle's pod; the
// preemption dry run reads it.
const planKey fwk.StateKey = Name + "/plan"

// nodePlan is the cycle's pod's part of the reclaim plan.
type nodePlan struct {
	node    string
	victims []*corev1.Pod
}

// Clone shares the plan: nothing changes it once written.
func (p *nodePlan) Clone() fwk.StateData { return p }

// nodePlanOf returns the plan PostFilter stored for the cycle.
func nodePlanOf(state fwk.CycleState) (*nodePlan, error) {
	d, err := state.Read(planKey)
	if err != nil {
		return nil, fmt.Errorf("reading %q from cycle state: %w", planKey, err)
	}
	p, ok := d.(*nodePlan)
	if !ok {
		return nil, fmt.Errorf("%+v cannot be converted to *farm.nodePlan", d)
	}
	return p, nil
}

// PostFilter reclaims borrowed executors for a pod of a farm below its minimum that fits nowhere.
// It plans, in resources per node, for every guaranteed pod of the farm type at once
// (package reclaim), so the room one victim leaves counts for the next pod; waits out the victim
// farms' hysteresis; and lets upstream's preemption evaluator nominate the pod on its planned
// node and evict exactly the planned victims there, through the Eviction API. A pod whose room
// is already being made is nominated without evicting anything.
func (p *Plugin) PostFilter(ctx context.Context, state fwk.CycleState, pod *corev1.Pod, m fwk.NodeToStatusReader) (*fwk.PostFilterResult, *fwk.Status) {
	logger := klog.FromContext(ctx)
	s, err := cycleStateOf(state)
	if err != nil {
		return nil, fwk.AsStatus(err)
	}
	// The farm the pod is guaranteed by: its own, or, for a driver, the farm it starts (drivers.go).
	var current farmcache.Farm
	driver := s.farm == nil
	if driver {
		f, why := p.driverOf(pod)
		if why != "" {
			return nil, fwk.NewStatus(fwk.Unschedulable, "reclaim: "+why)
		}
		covered, err := p.driverCovered(pod, f, p.claims.snapshot())
		if err != nil {
			return nil, fwk.AsStatus(err)
		}
		if covered {
			return framework.NewPostFilterResultWithNominatedNode(""), fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("reclaim: farm %s already has %d driver(s) running or being placed: this one would borrow, and a borrowing pod never reclaims", quota.Key(f.Farm), p.args.MaxReclaimingDrivers))
		}
		current = f
	} else {
		var ok bool
		if current, ok = p.farms.Get(quota.Key(s.farm)); !ok {
			return nil, fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("reclaim: farm %s is gone", quota.Key(s.farm)))
		}
		if !current.State.BelowMin() {
			// A nomination an earlier reclaim gave the pod, while its farm was below its minimum,
			// is cleared: it would hold room the pod, borrowing now, has no claim to.
			return framework.NewPostFilterResultWithNominatedNode(""), fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("reclaim: farm %s is at or above its minimum (%d of %d): a borrowing pod never reclaims", quota.Key(s.farm), current.State.Assigned, current.State.Min))
		}
		// The scheduler's queue may hand the pod over before the cache's own handler has counted
		// it; count it now so that it makes demand, unless it was deleted meanwhile.
		if !p.farms.AddPodIfPresent(pod) {
			return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "reclaim: the pod is gone")
		}
	}
	farmKey := quota.Key(current.Farm)
	reclaimAttempts.WithLabelValues(farmKey.Namespace, farmKey.Name).Inc()

	// 1) Plan for every guaranteed pod of the farm type.
	in, err := p.gatherReclaim(ctx, pod, quota.TypeOf(current.Farm), m, driver)
	if err != nil {
		return nil, fwk.NewStatus(fwk.Unschedulable, "reclaim: "+err.Error())
	}
	if len(in.problem.Farms) == 0 {
		return framework.NewPostFilterResultWithNominatedNode(""), fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("reclaim: no farm of type %s is over its minimum", quota.TypeOf(current.Farm)))
	}
	plan := p.solve(in.problem)
	if logger.V(5).Enabled() {
		logger.V(5).Info("Reclaim plan", "pod", klog.KObj(pod), "problem", in.problem.Describe(), "plan", plan.Describe(in.problem))
	}
	placement, placed := plan.For(in.self)
	if !placed {
		return p.unplaced(logger, pod, in, plan)
	}
	p.noticeRoomTaken(logger, pod, farmKey, in, placement)
	node := in.problem.Nodes[placement.Node].Name
	p.releaseStale(ctx, in.stale[placement.Node])
	victims := make([]*corev1.Pod, 0, len(placement.Victims))
	for _, i := range placement.Victims {
		victims = append(victims, in.victims[placement.Node][i])
	}
	if len(victims) == 0 {
		// Executors already leaving make the room: hold it for the pod, evict nothing. Retry on
		// the trigger cadence: if they do not go (stuck in Terminating), the plan is made again
		// once their time is up, with no cluster event to requeue the pod.
		logger.V(4).Info("Room being made for a guaranteed pod", "pod", klog.KObj(pod), "node", node)
		p.claims.set(pod, node)
		p.retryOnCadence(logger, pod)
		return framework.NewPostFilterResultWithNominatedNode(node), fwk.NewStatus(fwk.Success, fmt.Sprintf("reclaim: room is being made on node %s", node))
	}

	// 2) Hysteresis: each victim farm loses executors only once its triggers have run out.
	ready, waiting := p.triggers.fire(plan.Evictions, p.nThreshold)
	for _, v := range victims {
		if f, _ := p.farms.OwnerKey(v); ready[f] == 0 {
			p.retryOnCadence(logger, pod)
			msg := "reclaim: hysteresis: " + strings.Join(waiting, ", ")
			p.event(pod, EventReclaimPending, msg)
			return nil, fwk.NewStatus(fwk.Unschedulable, msg)
		}
	}
	if skew := plan.Disproportion(); len(skew) > 0 {
		msg := "Reclaim split not proportional to overquota (sizes, node pools or budgets decide): " + strings.Join(skew, "; ")
		logger.V(2).Info("Reclaim split not proportional", "pod", klog.KObj(pod), "evictions", byName(plan.Evictions), "shares", byName(plan.Shares))
		p.event(pod, EventReclaimDisproportionate, msg)
	}
	logger.V(2).Info("Reclaiming borrowed executors", "pod", klog.KObj(pod), "farm", farmKey, "node", node,
		"victims", klog.KObjSlice(victims), "planVictims", plan.Victims(), "planEvictions", byName(plan.Evictions), "exact", plan.Exact)

	// 3) Actuation: upstream's evaluator on the planned node alone. The victims are recorded
	// before it runs, so a cycle planning while an asynchronous preemption is still evicting
	// counts them as leaving and never picks them again.
	for _, v := range victims {
		f, _ := p.farms.OwnerKey(v)
		p.evictions.add(v, f)
	}
	state.Write(planKey, &nodePlan{node: node, victims: victims})
	p.claims.set(pod, node)
	result, status := p.evaluator.Preempt(ctx, state, pod, &plannedNode{NodeToStatusReader: m, node: node})
	if !status.IsSuccess() {
		p.claims.set(pod, "")
		for _, v := range victims {
			p.evictions.drop(v.UID)
		}
		p.retryOnCadence(logger, pod)
		return result, fwk.NewStatus(status.Code(), "reclaim: "+status.Message())
	}
	return result, status
}

// solve plans the reclaim with the minimum runtime the plugin is configured with.
func (p *Plugin) solve(pr *reclaim.Problem) reclaim.Plan {
	return reclaim.SolveWithMinimumRuntime(pr, p.args.MinimumRuntime.Duration, time.Now())
}

// noticeRoomTaken reports room made for the pod that another pod took: the pod was nominated to
// a node by an earlier reclaim, nothing leaves that node any more, and the pod still does not
// fit there (it is in PostFilter) nor does the plan place it there for free. Pods of farm-scheduler
// of no higher priority respect the nomination, so the room went to another scheduler's pod (a
// notebook of the default scheduler, say) or to a pod of higher priority. The plan at hand
// reclaims again for the guarantee.
func (p *Plugin) noticeRoomTaken(logger klog.Logger, pod *corev1.Pod, farm types.NamespacedName, in *reclaimInput, placement reclaim.Placement) {
	if in.claimed == "" {
		return
	}
	if in.claimedIndex >= 0 && (in.problem.Nodes[in.claimedIndex].Leaving || (placement.Node == in.claimedIndex && len(placement.Victims) == 0)) {
		return
	}
	roomTakenTotal.WithLabelValues(farm.Namespace, farm.Name).Inc()
	msg := fmt.Sprintf("Room made on node %s for this pod was taken by another pod (another scheduler's, or one of higher priority); reclaiming again", in.claimed)
	p.handle.EventRecorder().Eventf(pod, nil, corev1.EventTypeWarning, EventRoomTaken, "Scheduling", msg)
	// Without the pod's name, so that the events library counts repeats as one series per farm.
	p.farmEvent(farm, corev1.EventTypeWarning, EventRoomTaken, fmt.Sprintf("Room made on node %s for an executor of this farm was taken by another pod (another scheduler's, or one of higher priority); reclaiming again", in.claimed))
	logger.V(2).Info("Room made by a reclaim was taken", "pod", klog.KObj(pod), "node", in.claimed)
}

// unplaced answers for a pod the plan finds no room for: nothing is evicted for it, its
// PodScheduled condition says why, and a pod held back only by budgets or refusals that may
// lift is retried on the trigger cadence.
func (p *Plugin) unplaced(logger klog.Logger, pod *corev1.Pod, in *reclaimInput, plan reclaim.Plan) (*fwk.PostFilterResult, *fwk.Status) {
	msg := "reclaim: fits on no node even after every admissible eviction: " + plan.UnplacedReason(in.self)
	if len(in.passedOver) > 0 {
		var why []string
		for f, reason := range in.passedOver {
			why = append(why, fmt.Sprintf("farm %s passed over: %s", f, reason))
		}
		sort.Strings(why)
		msg += "; " + strings.Join(why, "; ")
		p.event(pod, EventReclaimBlocked, msg)
		if f, ok := p.guaranteedBy(pod); ok {
			p.farmEvent(f, corev1.EventTypeWarning, EventReclaimBlocked, "Reclaim blocked: "+strings.Join(why, "; "))
		}
		p.retryOnCadence(logger, pod)
	}
	logger.V(4).Info("No room for a guaranteed pod", "pod", klog.KObj(pod), "reason", msg)
	p.claims.set(pod, "")
	return framework.NewPostFilterResultWithNominatedNode(""), fwk.NewStatus(fwk.Unschedulable, msg)
}

// nThreshold is how many triggers a farm withstands before it loses executors.
func (p *Plugin) nThreshold(key types.NamespacedName) int32 {
	f, ok := p.farms.Get(key)
	if !ok {
		return 1
	}
	return max(1, f.Farm.Spec.ScaledownAfterNTriggers)
}

// byName renders farm keys as strings, for logs.
func byName(m map[types.NamespacedName]int32) map[string]int32 {
	out := make(map[string]int32, len(m))
	for k, v := range m {
		out[k.String()] = v
	}
	return out
}
