package preview

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// The one dialect of builders for this package's tests, as upstream's st.MakePod()...Obj():
// a constructor gives the common case, chained methods say how an object differs, obj() ends
// the chain. Executors are Spark's (spark-role=executor) and ask for one CPU; farms are named f
// in their tenant's namespace; nodes have 4 CPU; objects were made at t0 and previews plan a
// day later, at now.

var (
	t0  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now = t0.Add(24 * time.Hour)
)

func key(ns string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: "f"} }

// podBuilder is a pod.
type podBuilder struct{ p *corev1.Pod }

// executor is a pending Spark executor of namespace ns addressed to farm-scheduler, created at
// t0, requesting one CPU.
func executor(ns, name string) *podBuilder {
	p := st.MakePod().Namespace(ns).Name(name).UID(ns+"/"+name).
		Label("spark-role", "executor").SchedulerName(quota.SchedulerName).
		CreationTimestamp(metav1.NewTime(t0)).Phase(corev1.PodPending).Obj()
	return (&podBuilder{p: p}).cpu("1")
}

// worker is a pending executor of another farm type (app=worker).
func worker(ns, name string) *podBuilder {
	b := executor(ns, name)
	delete(b.p.Labels, "spark-role")
	b.p.Labels["app"] = "worker"
	return b
}

// driver is a pending pod no Farm selects, in a namespace that has Farms.
func driver(ns, name string) *podBuilder {
	return executor(ns, name).label("spark-role", "driver")
}

// template is the pod previewed executors are made from: what kubectl farm what-if takes from
// a farm's newest executor, its labels and spec.
func template() *podBuilder {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"spark-role": "executor"}}}
	return (&podBuilder{p: p}).cpu("1")
}

// on binds the pod to node and runs it since t0.
func (b *podBuilder) on(node string) *podBuilder {
	b.p.Spec.NodeName = node
	b.p.Status.Phase = corev1.PodRunning
	s := metav1.NewTime(t0)
	b.p.Status.StartTime = &s
	return b
}

// startedBefore makes the pod start d before now.
func (b *podBuilder) startedBefore(d time.Duration) *podBuilder {
	s := metav1.NewTime(now.Add(-d))
	b.p.Status.StartTime = &s
	return b
}

// cpu makes the pod's only container request q CPU.
func (b *podBuilder) cpu(q string) *podBuilder {
	b.p.Spec.Containers = []corev1.Container{{
		Name: "executor", Image: "spark",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)}},
	}}
	return b
}

func (b *podBuilder) label(k, v string) *podBuilder { b.p.Labels[k] = v; return b }

func (b *podBuilder) priority(v int32) *podBuilder { b.p.Spec.Priority = &v; return b }

func (b *podBuilder) schedulerName(s string) *podBuilder { b.p.Spec.SchedulerName = s; return b }

// gated holds the pod back with a scheduling gate.
func (b *podBuilder) gated(name string) *podBuilder {
	b.p.Spec.SchedulingGates = append(b.p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: name})
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

func (b *podBuilder) obj() *corev1.Pod { return b.p }

// nodeBuilder is a node.
type nodeBuilder struct{ n *corev1.Node }

// node is a node of 4 CPU and 32 pods.
func node(name string) *nodeBuilder {
	return &nodeBuilder{n: st.MakeNode().Name(name).Label(corev1.LabelHostname, name).
		Capacity(map[corev1.ResourceName]string{corev1.ResourceCPU: "4"}).Obj()}
}

// cpu sets the node's CPU.
func (b *nodeBuilder) cpu(q string) *nodeBuilder {
	b.n.Status.Capacity[corev1.ResourceCPU] = resource.MustParse(q)
	b.n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse(q)
	return b
}

func (b *nodeBuilder) label(k, v string) *nodeBuilder { b.n.Labels[k] = v; return b }

func (b *nodeBuilder) cordoned() *nodeBuilder { b.n.Spec.Unschedulable = true; return b }

func (b *nodeBuilder) obj() *corev1.Node { return b.n }

// farmBuilder is a Farm.
type farmBuilder struct{ f *farmv1alpha1.Farm }

// farm is the Spark farm f of namespace ns, with no minimum and no ceiling, created at t0.
func farm(ns string) *farmBuilder {
	return &farmBuilder{f: &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "f", CreationTimestamp: metav1.NewTime(t0)},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor"},
	}}
}

// workers is the farm f of namespace ns of the other farm type (app=worker).
func workers(ns string) *farmBuilder {
	b := farm(ns)
	b.f.Spec.LabelKey, b.f.Spec.LabelValue = "app", "worker"
	return b
}

func (b *farmBuilder) min(n int32) *farmBuilder { b.f.Spec.MinExecutors = n; return b }

func (b *farmBuilder) max(n int32) *farmBuilder { b.f.Spec.MaxExecutors = n; return b }

// triggers sets the farm's hysteresis: counted triggers so far (status.scaledownTriggered) of
// the needed (spec.scaledownAfterNTriggers).
func (b *farmBuilder) triggers(counted, needed int32) *farmBuilder {
	b.f.Status.ScaledownTriggered, b.f.Spec.ScaledownAfterNTriggers = counted, needed
	return b
}

func (b *farmBuilder) obj() *farmv1alpha1.Farm { return b.f }

// pdb is a PodDisruptionBudget over namespace ns's Spark executors that allows allowed more
// disruptions.
func pdb(ns, name string, allowed int32) *policy.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policy.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: policy.PodDisruptionBudgetSpec{
			MinAvailable: &one,
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"spark-role": "executor"}},
		},
		Status: policy.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
	}
}

// clusterBuilder is the objects a preview plans on.
type clusterBuilder struct{ c Cluster }

func cluster(nodes ...*nodeBuilder) *clusterBuilder {
	b := &clusterBuilder{}
	for _, n := range nodes {
		b.c.Nodes = append(b.c.Nodes, n.obj())
	}
	return b
}

func (b *clusterBuilder) farms(farms ...*farmBuilder) *clusterBuilder {
	for _, f := range farms {
		b.c.Farms = append(b.c.Farms, f.obj())
	}
	return b
}

// running adds n Spark executors of namespace ns running on node since t0, named
// <ns>-<node>-<i>.
func (b *clusterBuilder) running(ns, node string, n int) *clusterBuilder {
	for i := range n {
		b.c.Pods = append(b.c.Pods, executor(ns, fmt.Sprintf("%s-%s-%d", ns, node, i+1)).on(node).obj())
	}
	return b
}

func (b *clusterBuilder) pods(pods ...*podBuilder) *clusterBuilder {
	for _, p := range pods {
		b.c.Pods = append(b.c.Pods, p.obj())
	}
	return b
}

func (b *clusterBuilder) budgets(pdbs ...*policy.PodDisruptionBudget) *clusterBuilder {
	b.c.Budgets = append(b.c.Budgets, pdbs...)
	return b
}

func (b *clusterBuilder) obj() Cluster { return b.c }
