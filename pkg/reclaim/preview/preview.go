package preview

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim"
	"github.com/toinfn/farm/pkg/reclaim/input"
)

// Cluster is the objects a preview plans on, as listed from the API server.
type Cluster struct {
	Nodes   []*corev1.Node
	Pods    []*corev1.Pod
	Farms   []*farmv1alpha1.Farm
	Budgets []*policy.PodDisruptionBudget
}

// Request is what the farm would ask for.
type Request struct {
	Farm types.NamespacedName
	// Executors is how many more executors it would create.
	Executors int32
	// Executor is the pod each of them would be: its requests, node selector, affinity,
	// tolerations and priority matter. Its namespace, labels and scheduler are set from the farm;
	// its scheduling gates, and the marks Spark puts on an executor it is done with, are dropped.
	Executor *corev1.Pod
}

// Options are farm-scheduler's settings that change a plan.
type Options struct {
	// SchedulerName is the scheduler the farms' executors are addressed to.
	SchedulerName string
	// MinimumRuntime is the plugin's minimumRuntime (zero: none).
	MinimumRuntime time.Duration
	Now            time.Time
}

// Result is what the scheduler would do.
type Result struct {
	Farm string `json:"farm"`
	// Minimum and Executors are the farm's guarantee and the executors it holds now.
	Minimum   int32 `json:"minimum"`
	Executors int32 `json:"executors"`
	// Asked is how many more executors were asked for; Guaranteed how many of them its minimum
	// covers (the others would borrow: they run only on room that is free, never reclaimed for).
	Asked      int32 `json:"asked"`
	Guaranteed int32 `json:"guaranteed"`
	// Placed is how many guaranteed executors the plan finds room for, FreeRoom how many of them
	// on room that is free now or being freed, without evicting anything.
	Placed   int32 `json:"placed"`
	FreeRoom int32 `json:"freeRoom"`
	// Reclaims are the farms that would lose executors, by farm: for the executors asked for
	// and for those already waiting (WaitingBefore), which are served first.
	Reclaims []Reclaim `json:"reclaims,omitempty"`
	// EvictionsForAsked is how many of the Reclaims' evictions make room for the executors asked
	// for.
	EvictionsForAsked int32 `json:"evictionsForAsked"`
	// Unplaced says why guaranteed executors would not run even after every admissible eviction.
	Unplaced []string `json:"unplaced,omitempty"`
	// PassedOver names farms whose executors are not victims now, and why (a budget, say).
	PassedOver []string `json:"passedOver,omitempty"`
	// Disproportion notes farms whose evictions differ from their proportional share.
	Disproportion []string `json:"disproportion,omitempty"`
	// WaitingBefore is how many guaranteed executors of this farm type already wait: they are
	// planned for first.
	WaitingBefore int32 `json:"waitingBefore"`
	// Exact reports whether the plan came from the exhaustive search.
	Exact bool `json:"exact"`
}

// Reclaim is one victim farm's part.
type Reclaim struct {
	Farm      string `json:"farm"`
	Executors int32  `json:"executors"`
	// Share is its proportional part of the evictions.
	Share int32 `json:"share"`
	// Nodes are where its executors would be evicted, with how many on each.
	Nodes []NodeEvictions `json:"nodes"`
	// TriggersCounted and TriggersNeeded are its hysteresis: it loses executors at the trigger
	// that brings the count to scaledownAfterNTriggers, one trigger per trigger interval.
	TriggersCounted int32 `json:"triggersCounted"`
	TriggersNeeded  int32 `json:"triggersNeeded"`
}

// NodeEvictions is how many executors would be evicted on a node.
type NodeEvictions struct {
	Node      string `json:"node"`
	Executors int32  `json:"executors"`
}

// TriggersToGo is how many more triggers the farm withstands before it loses executors: 1
// means at the next trigger, which comes at once.
func (r Reclaim) TriggersToGo() int32 {
	return max(1, r.TriggersNeeded-r.TriggersCounted)
}

// whatIfUID prefixes the UIDs of the executors a preview makes up.
const whatIfUID = "what-if/"

// Plan previews the request on the cluster.
func Plan(c Cluster, req Request, opts Options) (*Result, error) {
	if req.Executors < 1 {
		return nil, fmt.Errorf("executors: must be at least 1, got %d", req.Executors)
	}
	var farm *farmv1alpha1.Farm
	byNamespace := map[string][]*farmv1alpha1.Farm{}
	for _, f := range c.Farms {
		byNamespace[f.Namespace] = append(byNamespace[f.Namespace], f)
		if quota.Key(f) == req.Farm {
			farm = f
		}
	}
	if farm == nil {
		return nil, fmt.Errorf("farm %s not found", req.Farm)
	}
	owner := func(p *corev1.Pod) (types.NamespacedName, bool) {
		if o := quota.Owner(byNamespace[p.Namespace], p); o != nil {
			return quota.Key(o), true
		}
		return types.NamespacedName{}, false
	}

	// The executors asked for, newest of all: the queue serves them after those already waiting.
	pods := append([]*corev1.Pod(nil), c.Pods...)
	asked := map[types.UID]bool{}
	for i := range req.Executors {
		e := req.Executor.DeepCopy()
		e.Namespace, e.Name = farm.Namespace, fmt.Sprintf("what-if-%d", i+1)
		e.UID = types.UID(fmt.Sprintf("%s%s/%d", whatIfUID, req.Farm, i+1))
		e.CreationTimestamp = metav1.NewTime(opts.Now.Add(time.Duration(i) * time.Nanosecond))
		if e.Labels == nil {
			e.Labels = map[string]string{}
		}
		e.Labels[farm.Spec.LabelKey] = farm.Spec.LabelValue
		// A new executor carries none of the marks Spark puts on one it is done with, which a
		// template copied from such an executor would: its copies would not wait, but leave.
		delete(e.Labels, quota.DecommissioningLabel)
		delete(e.Labels, quota.SparkInactiveLabel)
		e.Spec.SchedulerName = opts.SchedulerName
		e.Spec.NodeName = ""
		e.Spec.SchedulingGates = nil // a template's gates would keep it from making demand
		e.Status = corev1.PodStatus{Phase: corev1.PodPending}
		pods = append(pods, e)
		asked[e.UID] = true
	}
	snapshot := quota.NewSnapshot(c.Farms, pods, opts.SchedulerName)
	current, _ := quota.NewSnapshot(c.Farms, c.Pods, opts.SchedulerName).State(req.Farm)
	res := &Result{Farm: req.Farm.String(), Minimum: current.Min, Executors: current.Assigned, Asked: req.Executors}

	// The problem, as PostFilter gathers it: every guaranteed waiting executor of the farm type,
	// and every farm of the type over its minimum as a victim farm.
	var states []input.FarmState
	for _, key := range snapshot.OfType(quota.TypeOf(farm)) {
		st, _ := snapshot.State(key)
		states = append(states, input.FarmState{Key: key, State: st})
	}
	sides := input.SplitSides(states)
	pr := &reclaim.Problem{Farms: sides.Victims}
	pending := map[types.NamespacedName][]*corev1.Pod{}
	for _, p := range pods {
		if k, ok := owner(p); ok && quota.IsSchedulable(p, opts.SchedulerName) {
			pending[k] = append(pending[k], p)
		}
	}
	waiting := sides.Waiting(nil, pending, func(p *corev1.Pod) string { return p.Status.NominatedNodeName })
	waitingUIDs := map[types.UID]bool{}
	requests := make([]fwk.Resource, len(waiting))
	for i, w := range waiting {
		waitingUIDs[w.UID] = true
		requests[i] = podInfo(w).CalculateResource().Resource
		if asked[w.UID] {
			res.Guaranteed++
		} else {
			res.WaitingBefore++
		}
	}
	if res.Guaranteed == 0 {
		return res, nil
	}
	dims := input.DimensionsOf(requests)
	pr.Dimensions = dims.Names()

	// The nodes: every node that is not cordoned, read as the scheduler reads its snapshot.
	onNode := map[string][]*corev1.Pod{}
	nominatedOn := map[string][]*corev1.Pod{}
	for _, p := range c.Pods {
		switch {
		case p.Spec.NodeName != "" && !quota.IsFinished(p):
			onNode[p.Spec.NodeName] = append(onNode[p.Spec.NodeName], p)
		case p.Spec.NodeName == "" && p.Status.NominatedNodeName != "" && !quota.IsTerminating(p) && !quota.IsFinished(p):
			nominatedOn[p.Status.NominatedNodeName] = append(nominatedOn[p.Status.NominatedNodeName], p)
		}
	}
	passedOver := map[types.NamespacedName]string{}
	budgets := input.NewBudgets(c.Budgets)
	reader := &input.NodeReader{Dimensions: dims, Budgets: budgets, Farms: pr.Farms, Owner: owner, Now: opts.Now, PassedOver: passedOver}
	priority := corev1helpers.PodPriority(req.Executor)
	nodeIndex := map[string]int{}
	var victimPods [][]*corev1.Pod
	nodes := append([]*corev1.Node(nil), c.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		if n.Spec.Unschedulable {
			continue
		}
		ni := framework.NewNodeInfo(onNode[n.Name]...)
		ni.SetNode(n)
		node, victims := reader.Read(ni)
		for _, np := range nominatedOn[n.Name] {
			if waitingUIDs[np.UID] || staleNomination(snapshot, owner, np) {
				continue
			}
			if input.HoldsRoom(np, priority) {
				node.Room.Sub(dims.Of(podInfo(np).CalculateResource().Resource))
			}
		}
		nodeIndex[n.Name] = len(pr.Nodes)
		pr.Nodes = append(pr.Nodes, node)
		victimPods = append(victimPods, victims)
	}
	pr.Budgets = budgets.Allowed()
	logger := klog.Background()
	for i, w := range waiting {
		rw := reclaim.Waiting{ID: klog.KObj(w).String(), Request: dims.Of(requests[i]), Nominated: -1}
		if n, ok := nodeIndex[w.Status.NominatedNodeName]; ok {
			rw.Nominated = n
		}
		affinity := nodeaffinity.GetRequiredNodeAffinity(w)
		for _, node := range nodes {
			if _, ok := nodeIndex[node.Name]; ok && input.Admits(logger, node, w, affinity) {
				rw.Nodes = append(rw.Nodes, nodeIndex[node.Name])
			}
		}
		pr.Waiting = append(pr.Waiting, rw)
	}

	plan := reclaim.SolveWithMinimumRuntime(pr, opts.MinimumRuntime, opts.Now)
	res.Exact = plan.Exact
	res.Disproportion = plan.Disproportion()
	for f, why := range passedOver {
		res.PassedOver = append(res.PassedOver, fmt.Sprintf("farm %s: %s", f, why))
	}
	sort.Strings(res.PassedOver)
	for _, u := range plan.Unplaced {
		if asked[waiting[u.Waiting].UID] {
			res.Unplaced = append(res.Unplaced, u.Reason)
		}
	}
	res.Unplaced = uniqueSorted(res.Unplaced)
	// Every placement counts, those of executors already waiting included: their evictions are
	// part of what the cluster would see.
	perNode := map[types.NamespacedName]map[string]int32{}
	for _, pl := range plan.Placements {
		if asked[waiting[pl.Waiting].UID] {
			res.Placed++
			res.EvictionsForAsked += int32(len(pl.Victims))
			if len(pl.Victims) == 0 {
				res.FreeRoom++
			}
		}
		for _, v := range pl.Victims {
			f := pr.Nodes[pl.Node].Victims[v].Farm
			if perNode[f] == nil {
				perNode[f] = map[string]int32{}
			}
			perNode[f][pr.Nodes[pl.Node].Name]++
		}
	}
	for f, byNode := range perNode {
		r := Reclaim{Farm: f.String(), Executors: plan.Evictions[f], Share: plan.Shares[f]}
		for node, n := range byNode {
			r.Nodes = append(r.Nodes, NodeEvictions{Node: node, Executors: n})
		}
		sort.Slice(r.Nodes, func(i, j int) bool { return r.Nodes[i].Node < r.Nodes[j].Node })
		for _, vf := range c.Farms {
			if quota.Key(vf) == f {
				r.TriggersCounted = vf.Status.ScaledownTriggered
				r.TriggersNeeded = max(1, vf.Spec.ScaledownAfterNTriggers)
			}
		}
		res.Reclaims = append(res.Reclaims, r)
	}
	sort.Slice(res.Reclaims, func(i, j int) bool { return res.Reclaims[i].Farm < res.Reclaims[j].Farm })
	return res, nil
}

// staleNomination reports a nominated executor of a farm no longer below its minimum: its room
// is not its to keep (the scheduler releases it).
func staleNomination(s *quota.Snapshot, owner func(*corev1.Pod) (types.NamespacedName, bool), p *corev1.Pod) bool {
	k, ok := owner(p)
	if !ok {
		return false
	}
	st, _ := s.State(k)
	return !st.BelowMin()
}

// podInfo wraps a pod as the scheduler does, for its resource calculation.
func podInfo(pod *corev1.Pod) fwk.PodInfo {
	pi, err := framework.NewPodInfo(pod)
	if err != nil {
		return &framework.PodInfo{Pod: pod}
	}
	return pi
}

func uniqueSorted(in []string) []string {
	sort.Strings(in)
	out := in[:0]
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// Summary says in one line what the preview found: which farms lose how many executors and
// when, or that free room suffices, or why executors would not run.
func (r *Result) Summary() string {
	var parts []string
	if borrow := r.Asked - r.Guaranteed; borrow > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d would borrow", borrow, r.Asked))
	}
	if r.Guaranteed > 0 && len(r.Reclaims) == 0 && r.Placed == r.Guaranteed {
		parts = append(parts, "free room suffices, nothing is reclaimed")
	}
	for _, rc := range r.Reclaims {
		when := "at the next trigger"
		if n := rc.TriggersToGo(); n > 1 {
			when = fmt.Sprintf("at trigger %d from now", n)
		}
		parts = append(parts, fmt.Sprintf("%s loses %d %s", rc.Farm, rc.Executors, when))
	}
	var total int32
	for _, rc := range r.Reclaims {
		total += rc.Executors
	}
	if other := total - r.EvictionsForAsked; other > 0 {
		parts = append(parts, fmt.Sprintf("%d of them for the %d guaranteed executors already waiting", other, r.WaitingBefore))
	}
	if unplaced := r.Guaranteed - r.Placed; unplaced > 0 {
		parts = append(parts, fmt.Sprintf("%d would not run: %s", unplaced, strings.Join(append(r.Unplaced, r.PassedOver...), "; ")))
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}
