package farm

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	"k8s.io/klog/v2"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
)

// The plugin is the preemption.Interface upstream's Evaluator runs with: the plan has already
// chosen the node and the victims, so the dry run only confirms them with the real filters, and
// the Evaluator nominates the pod and actuates (evictVictim replaces its deletion).

// GetOffsetAndNumCandidates searches the one planned node.
func (p *Plugin) GetOffsetAndNumCandidates(numNodes int32) (int32, int32) {
	return 0, min(1, numNodes)
}

// CandidatesToVictimsMap maps each candidate node to its victims.
func (p *Plugin) CandidatesToVictimsMap(candidates []preemption.Candidate) map[string]*extenderv1.Victims {
	m := make(map[string]*extenderv1.Victims, len(candidates))
	for _, c := range candidates {
		m[c.Name()] = c.Victims()
	}
	return m
}

// PodEligibleToPreemptOthers lets only a pod of a farm below its minimum, or a driver of one,
// reclaim; PostFilter has already planned for it.
func (p *Plugin) PodEligibleToPreemptOthers(_ context.Context, pod *corev1.Pod, _ *fwk.Status) (bool, string) {
	if f, ok := p.farms.OwnerOf(pod); ok {
		if !f.State.BelowMin() {
			return false, "only a farm below its minimum reclaims"
		}
		return true, ""
	}
	if _, why := p.driverOf(pod); why != "" {
		return false, "only a farm below its minimum, or its driver, reclaims: " + why
	}
	return true, ""
}

// SelectVictimsOnNode confirms the plan on its node: once the executors already leaving it and
// the planned victims are gone, the pod must pass every filter (with the pods nominated there);
// then the planned victims are the node's victims.
func (p *Plugin) SelectVictimsOnNode(ctx context.Context, state fwk.CycleState, pod *corev1.Pod, nodeInfo fwk.NodeInfo, _ []*preemption.DomainVictim, pdbs []*policy.PodDisruptionBudget) ([]*corev1.Pod, int, *fwk.Status) {
	plan, err := nodePlanOf(state)
	if err != nil {
		return nil, 0, fwk.AsStatus(err)
	}
	if nodeInfo.Node().Name != plan.node {
		return nil, 0, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "not the node the reclaim plan chose")
	}
	logger := klog.FromContext(ctx)
	removePod := func(pi fwk.PodInfo) *fwk.Status {
		if err := nodeInfo.RemovePod(logger, pi.GetPod()); err != nil {
			return fwk.AsStatus(err)
		}
		return p.handle.RunPreFilterExtensionRemovePod(ctx, state, pod, pi, nodeInfo)
	}

	// 1) Room that pods already leaving free, and the planned victims.
	planned := make(map[string]bool, len(plan.victims))
	for _, v := range plan.victims {
		planned[string(v.UID)] = true
	}
	found := 0
	// A copy: removing pods from nodeInfo reorders its list.
	for _, pi := range append([]fwk.PodInfo(nil), nodeInfo.GetPods()...) {
		v := pi.GetPod()
		isVictim := planned[string(v.UID)]
		if !isVictim && !p.leaving(v) {
			continue
		}
		if s := removePod(pi); !s.IsSuccess() {
			return nil, 0, s
		}
		if isVictim {
			found++
		}
	}
	if found != len(plan.victims) {
		return nil, 0, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "a planned victim is no longer on the node")
	}

	// 2) The pod must fit now, beside the pods nominated to the node.
	if s := p.handle.RunFilterPluginsWithNominatedPods(ctx, state, pod, nodeInfo); !s.IsSuccess() {
		return nil, 0, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("the planned victims do not make room: %s", s.Message()))
	}
	violating, _ := preemption.FilterVictimsWithPDBViolation(podVictims(plan.victims), pdbs)
	return plan.victims, len(violating), nil
}

// OrderedScoreFuncs has nothing to rank: the dry run yields the planned node alone.
func (p *Plugin) OrderedScoreFuncs(context.Context, map[string]*extenderv1.Victims) []func(node string) int64 {
	return nil
}

// podVictims wraps pods for the upstream PDB accounting.
func podVictims(pods []*corev1.Pod) []preemption.Victim {
	out := make([]preemption.Victim, 0, len(pods))
	for _, p := range pods {
		out = append(out, preemption.NewPodVictim(podInfo(p), nil, nil))
	}
	return out
}

// plannedNode narrows the nodes the evaluator dry-runs to the one the plan chose.
type plannedNode struct {
	fwk.NodeToStatusReader
	node string
}

// NodesForStatusCode returns the planned node, if the filters rejected it with code.
func (n *plannedNode) NodesForStatusCode(lister fwk.NodeInfoLister, code fwk.Code) ([]fwk.NodeInfo, error) {
	if n.NodeToStatusReader.Get(n.node).Code() != code {
		return nil, nil
	}
	nodeInfo, err := lister.Get(n.node)
	if err != nil {
		return nil, err
	}
	return []fwk.NodeInfo{nodeInfo}, nil
}
