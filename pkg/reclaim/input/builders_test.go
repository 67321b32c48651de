package input

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// The one dialect of builders for this package's tests, as upstream's st.MakePod()...Obj():
// a constructor gives the common case, chained methods say how an object differs, obj() ends
// the chain. Executors are Spark's (spark-role=executor), farms are named f in their tenant's
// namespace, and the clock stands at t0.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func key(ns string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: "f"} }

// podBuilder is a pod.
type podBuilder struct{ p *corev1.Pod }

// executor is a pending Spark executor of namespace ns addressed to farm-scheduler, created at
// t0 and requesting one CPU and 1Gi.
func executor(ns, name string) *podBuilder {
	p := st.MakePod().Namespace(ns).Name(name).UID(ns+"/"+name).
		Label("spark-role", "executor").SchedulerName(quota.SchedulerName).
		CreationTimestamp(metav1.NewTime(t0)).Obj()
	return (&podBuilder{p: p}).requests(map[corev1.ResourceName]string{corev1.ResourceCPU: "1", corev1.ResourceMemory: "1Gi"})
}

// on binds the pod to node and runs it since t0.
func (b *podBuilder) on(node string) *podBuilder {
	b.p.Spec.NodeName = node
	b.p.Status.Phase = corev1.PodRunning
	s := metav1.NewTime(t0)
	b.p.Status.StartTime = &s
	return b
}

// requests makes the pod's only container request r (and nothing else).
func (b *podBuilder) requests(r map[corev1.ResourceName]string) *podBuilder {
	rl := corev1.ResourceList{}
	for name, q := range r {
		rl[name] = resource.MustParse(q)
	}
	b.p.Spec.Containers = []corev1.Container{{Name: "executor", Image: "spark", Resources: corev1.ResourceRequirements{Requests: rl}}}
	return b
}

func (b *podBuilder) label(k, v string) *podBuilder { b.p.Labels[k] = v; return b }

func (b *podBuilder) priority(v int32) *podBuilder { b.p.Spec.Priority = &v; return b }

// createdAfter makes the pod younger than t0 by d (and starts it then, when it runs).
func (b *podBuilder) createdAfter(d time.Duration) *podBuilder {
	b.p.CreationTimestamp = metav1.NewTime(t0.Add(d))
	if b.p.Status.StartTime != nil {
		s := metav1.NewTime(t0.Add(d))
		b.p.Status.StartTime = &s
	}
	return b
}

// notStarted leaves the pod without the kubelet's start time.
func (b *podBuilder) notStarted() *podBuilder { b.p.Status.StartTime = nil; return b }

// deletedUntil marks the pod deleted, its grace period ending at t0+d (d < 0: in the past).
func (b *podBuilder) deletedUntil(d time.Duration) *podBuilder {
	t := metav1.NewTime(t0.Add(d))
	b.p.DeletionTimestamp = &t
	return b
}

func (b *podBuilder) nominatedTo(node string) *podBuilder {
	b.p.Status.NominatedNodeName = node
	return b
}

func (b *podBuilder) nodeSelector(k, v string) *podBuilder {
	b.p.Spec.NodeSelector = map[string]string{k: v}
	return b
}

// requireNodeIn requires, by node affinity, a node whose label k has one of values.
func (b *podBuilder) requireNodeIn(k string, values ...string) *podBuilder {
	b.p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: k, Operator: corev1.NodeSelectorOpIn, Values: values}},
		}}},
	}}
	return b
}

// tolerating tolerates the taint key=true of the given effect.
func (b *podBuilder) tolerating(key string, effect corev1.TaintEffect) *podBuilder {
	b.p.Spec.Tolerations = append(b.p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpEqual, Value: "true", Effect: effect})
	return b
}

func (b *podBuilder) obj() *corev1.Pod { return b.p }

// nodeBuilder is a node.
type nodeBuilder struct{ n *corev1.Node }

// node is a node of 4 CPU, 8Gi and 32 pods.
func node(name string) *nodeBuilder {
	return &nodeBuilder{n: st.MakeNode().Name(name).Label(corev1.LabelHostname, name).
		Capacity(map[corev1.ResourceName]string{corev1.ResourceCPU: "4", corev1.ResourceMemory: "8Gi"}).Obj()}
}

// capacity adds to (or replaces in) the node's capacity and allocatable.
func (b *nodeBuilder) capacity(name corev1.ResourceName, q string) *nodeBuilder {
	b.n.Status.Capacity[name] = resource.MustParse(q)
	b.n.Status.Allocatable[name] = resource.MustParse(q)
	return b
}

func (b *nodeBuilder) label(k, v string) *nodeBuilder { b.n.Labels[k] = v; return b }

// tainted taints the node key=true with the given effect.
func (b *nodeBuilder) tainted(key string, effect corev1.TaintEffect) *nodeBuilder {
	b.n.Spec.Taints = append(b.n.Spec.Taints, corev1.Taint{Key: key, Value: "true", Effect: effect})
	return b
}

func (b *nodeBuilder) obj() *corev1.Node { return b.n }

// nodeInfo is the scheduler's view of a node and the pods on it.
func nodeInfo(n *corev1.Node, pods ...*corev1.Pod) fwk.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(n)
	return ni
}

// budgetBuilder is a PodDisruptionBudget.
type budgetBuilder struct{ pdb *policy.PodDisruptionBudget }

// pdb is a PodDisruptionBudget over namespace ns's Spark executors that allows allowed more
// disruptions.
func pdb(ns, name string, allowed int32) *budgetBuilder {
	one := intstr.FromInt32(1)
	return &budgetBuilder{pdb: &policy.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: policy.PodDisruptionBudgetSpec{
			MinAvailable: &one,
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"spark-role": "executor"}},
		},
		Status: policy.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
	}}
}

func (b *budgetBuilder) selector(s *metav1.LabelSelector) *budgetBuilder {
	b.pdb.Spec.Selector = s
	return b
}

// disrupted records pods the budget already counts as disrupted.
func (b *budgetBuilder) disrupted(names ...string) *budgetBuilder {
	b.pdb.Status.DisruptedPods = map[string]metav1.Time{}
	for _, n := range names {
		b.pdb.Status.DisruptedPods[n] = metav1.NewTime(t0)
	}
	return b
}

func (b *budgetBuilder) obj() *policy.PodDisruptionBudget { return b.pdb }

// farmBuilder is a Farm.
type farmBuilder struct{ f *farmv1alpha1.Farm }

// farm is the Spark farm f of namespace ns, with no minimum, created at t0.
func farm(ns string) *farmBuilder {
	return &farmBuilder{f: &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "f", CreationTimestamp: metav1.NewTime(t0)},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor"},
	}}
}

// ofType makes the farm select pods labelled k=v instead, and names it name.
func (b *farmBuilder) ofType(name, k, v string) *farmBuilder {
	b.f.Name, b.f.Spec.LabelKey, b.f.Spec.LabelValue = name, k, v
	return b
}

func (b *farmBuilder) obj() *farmv1alpha1.Farm { return b.f }

// ownerAmong returns the Owner function of a NodeReader over farms.
func ownerAmong(farms ...*farmv1alpha1.Farm) func(*corev1.Pod) (types.NamespacedName, bool) {
	return func(p *corev1.Pod) (types.NamespacedName, bool) {
		if f := quota.Owner(farms, p); f != nil {
			return quota.Key(f), true
		}
		return types.NamespacedName{}, false
	}
}
