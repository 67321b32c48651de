package farm

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// podOpt adjusts a test pod.
type podOpt func(*corev1.Pod)

// cpu sets the pod's only container to request q CPU.
func cpu(q string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers = []corev1.Container{{
			Name:  "main",
			Image: "executor",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)},
			},
		}}
	}
}

func priority(v int32) podOpt { return func(p *corev1.Pod) { p.Spec.Priority = &v } }

// startedAt sets the kubelet's start time to t0+d.
func startedAt(d time.Duration) podOpt {
	return func(p *corev1.Pod) { s := metav1.NewTime(t0.Add(d)); p.Status.StartTime = &s }
}

// createdAt sets the creation time to t0+d (and leaves no start time).
func createdAt(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t0.Add(d)); p.Status.StartTime = nil }
}

// deleting marks the pod terminating, within its grace period.
func deleting() podOpt {
	return func(p *corev1.Pod) { d := metav1.NewTime(time.Now().Add(30 * time.Second)); p.DeletionTimestamp = &d }
}

// stuckDeleting marks the pod terminating since long past its grace period, as on a node that
// went away.
func stuckDeleting() podOpt {
	return func(p *corev1.Pod) { d := metav1.NewTime(time.Now().Add(-time.Hour)); p.DeletionTimestamp = &d }
}

// labelled adds a label to the pod.
func labelled(key, value string) podOpt {
	return func(p *corev1.Pod) { p.Labels[key] = value }
}

func nominatedTo(node string) podOpt {
	return func(p *corev1.Pod) { p.Status.NominatedNodeName = node }
}

func withOpts(p *corev1.Pod, opts []podOpt) *corev1.Pod {
	p.CreationTimestamp = metav1.NewTime(t0)
	cpu("1")(p)
	for _, o := range opts {
		o(p)
	}
	return p
}

// spark is a Spark executor of namespace ns (farm type spark-role=executor) requesting one CPU
// unless told otherwise; node binds it.
func spark(ns, name, node string, opts ...podOpt) *corev1.Pod {
	return withOpts(executor(ns, name, node), opts)
}

// condorWorker is an executor of another farm type (app=worker).
func condorWorker(ns, name, node string, opts ...podOpt) *corev1.Pod {
	p := executor(ns, name, node)
	delete(p.Labels, "spark-role")
	p.Labels["app"] = "worker"
	return withOpts(p, opts)
}

// plain is a pod no Farm selects (a driver), in a namespace that has Farms.
func plain(ns, name, node string, opts ...podOpt) *corev1.Pod {
	p := executor(ns, name, node)
	p.Labels["spark-role"] = "driver"
	return withOpts(p, opts)
}

// notebook is a pod no Farm selects, labelled as JupyterHub labels its notebook servers.
func notebook(ns, name, node string, opts ...podOpt) *corev1.Pod {
	p := executor(ns, name, node)
	delete(p.Labels, "spark-role")
	p.Labels["component"] = "singleuser-server"
	return withOpts(p, opts)
}

// fixedNominator is a PodNominator with a fixed set of nominated pods.
type fixedNominator map[string][]fwk.PodInfo

func (fixedNominator) AddNominatedPod(klog.Logger, fwk.PodInfo, *fwk.NominatingInfo) {}
func (fixedNominator) DeleteNominatedPodIfExists(*corev1.Pod)                        {}
func (fixedNominator) UpdateNominatedPod(klog.Logger, *corev1.Pod, fwk.PodInfo)      {}
func (n fixedNominator) NominatedPodsForNode(node string) []fwk.PodInfo              { return n[node] }

// inPool pins the pod to nodes labelled pool=name.
func inPool(name string) podOpt {
	return func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"pool": name} }
}

// tolerating lets the pod on nodes tainted key=true:NoSchedule.
func tolerating(key string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule})
	}
}

// nodeOpt adjusts a test node.
type nodeOpt func(*corev1.Node)

func pool(name string) nodeOpt {
	return func(n *corev1.Node) { n.Labels["pool"] = name }
}

func tainted(key string) nodeOpt {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: "true", Effect: corev1.TaintEffectNoSchedule})
	}
}

// testNode is a node of cpu CPUs with room for 32 pods.
func testNode(name, cpu string, opts ...nodeOpt) *corev1.Node {
	n := st.MakeNode().Name(name).Label(corev1.LabelHostname, name).Capacity(map[corev1.ResourceName]string{corev1.ResourceCPU: cpu, corev1.ResourcePods: "32"}).Obj()
	for _, o := range opts {
		o(n)
	}
	return n
}

// pdb is a PodDisruptionBudget over a namespace's Spark executors that allows allowed more
// disruptions.
func pdb(ns string, allowed int32) *policy.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policy.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "executors"},
		Spec: policy.PodDisruptionBudgetSpec{
			MinAvailable: &one,
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"spark-role": "executor"}},
		},
		Status: policy.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
	}
}

// borrower is a Spark farm of namespace ns with no minimum.
func borrower(ns string) *farmv1alpha1.Farm {
	return newFarm(ns, "f", t0, "spark-role", "executor", 0, 0)
}

// guaranteed is a Spark farm of namespace ns with a minimum and no ceiling.
func guaranteed(ns string, min int32) *farmv1alpha1.Farm {
	return newFarm(ns, "f", t0, "spark-role", "executor", min, 0)
}
