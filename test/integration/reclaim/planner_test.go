package reclaim

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/toinfn/farm/test/harness"
)

// The scenarios of a reclaim that works in resources per node: executors of several sizes, node
// pools, taints, PodDisruptionBudgets. Nodes have 4 CPUs and 16Gi; an executor of n CPUs asks
// n×4Gi, so memory is never what decides.

// sized makes an executor ask for cores CPUs (and cores×4Gi).
func sized(cores int64) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		r := corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewQuantity(cores, resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(cores*4<<30, resource.BinarySI),
		}
		p.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: r, Limits: r}
	}
}

// onPool pins an executor to the scenario's nodes of one pool.
func onPool(pool string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.NodeSelector["pool"] = pool }
}

// toleratesGPU lets an executor on nodes tainted gpu=true:NoSchedule.
func toleratesGPU(p *corev1.Pod) {
	p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule})
}

// node adds one 4-CPU node of the scenario, labelled and tainted as edit says.
func (s *scenario) node(name string, edit func(*corev1.Node)) {
	s.t.Helper()
	n := harness.NewNode(s.id+"-"+name, harness.DefaultNodeShape)
	n.Labels["scenario"] = s.id
	if edit != nil {
		edit(n)
	}
	if _, err := s.cluster.Clientset.CoreV1().Nodes().Create(s.t.Context(), n, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

func inPool(pool string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Labels["pool"] = pool }
}

func gpuTainted(n *corev1.Node) {
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule})
}

// executorsWith creates n executors of a farm, named exec-first..., each adjusted by opts.
func (s *scenario) executorsWith(farm types.NamespacedName, first, n int, opts ...func(*corev1.Pod)) {
	s.t.Helper()
	for i := first; i < first+n; i++ {
		pod := harness.ExecutorPod(farm.Namespace, fmt.Sprintf("exec-%d", i), s.labelKey, "executor")
		pod.Spec.NodeSelector = map[string]string{"scenario": s.id}
		for _, o := range opts {
			o(pod)
		}
		if _, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Create(s.t.Context(), pod, metav1.CreateOptions{}); err != nil {
			s.t.Fatal(err)
		}
	}
}

// evictedNodes returns the nodes evictions happened on.
func (l *evictionLog) evictedNodes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for n := range l.nodes {
		out = append(out, n)
	}
	return out
}

func TestReclaimBigExecutorsTakeSeveralSmallVictims(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "bigwaits", 0, nil)
	for i := range 3 {
		s.node(fmt.Sprint(i), nil)
	}
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	s.executorsWith(a, 0, 12, sized(1))
	s.waitRunning(a, 12, time.Minute)

	s.executorsWith(b, 0, 2, sized(2))
	took := s.waitRunning(b, 2, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 4}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	if got := s.evicted.nodesTouched(); got != 1 {
		t.Errorf("evictions on %d nodes (%v), want 1: the second executor takes the rest of the first one's node", got, s.evicted.evictedNodes())
	}
	t.Logf("two 2-CPU executors over 1-CPU borrowers: minimum after %.1fs, evictions %v on %d node(s)", took.Seconds(), s.evicted.counts(), s.evicted.nodesTouched())
}

func TestReclaimOneBigVictimServesSeveralSmallExecutors(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "bigvictim", 0, nil)
	for i := range 3 {
		s.node(fmt.Sprint(i), nil)
	}
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 4, 0, 0)
	s.executorsWith(a, 0, 3, sized(4))
	s.waitRunning(a, 3, time.Minute)

	s.executorsWith(b, 0, 4, sized(1))
	took := s.waitRunning(b, 4, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	t.Logf("four 1-CPU executors over 4-CPU borrowers: minimum after %.1fs, evictions %v", took.Seconds(), s.evicted.counts())
}

func TestReclaimOnlyFromFarmsOnTheWaitingPodsPool(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "pools", 0, nil)
	s.node("a0", inPool("a"))
	s.node("a1", inPool("a"))
	s.node("b0", inPool("b"))
	a := s.farm("a", 0, 0, 0) // 8 over, all on pool a
	b := s.farm("b", 1, 0, 0) // 3 over, on pool b
	c := s.farm("c", 2, 0, 0)
	s.executorsWith(a, 0, 8, onPool("a"))
	s.waitRunning(a, 8, time.Minute)
	s.executorsWith(b, 0, 4, onPool("b"))
	s.waitRunning(b, 4, time.Minute)

	s.executorsWith(c, 0, 2, onPool("b"))
	took := s.waitRunning(c, 2, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{b.Namespace: 2}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	t.Logf("pools: minimum after %.1fs, evictions %v", took.Seconds(), s.evicted.counts())
}

func TestReclaimPassesOverAFarmABudgetProtects(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "budget", 3, nil)
	a := s.farm("a", 0, 0, 0) // 8 over, protected
	b := s.farm("b", 2, 0, 0) // 2 over
	c := s.farm("c", 2, 0, 0)
	s.executors(a, 0, 8)
	s.waitRunning(a, 8, time.Minute)
	s.executors(b, 0, 4)
	s.waitRunning(b, 4, time.Minute)
	s.protect(a.Namespace, s.labelKey, 8)

	s.executors(c, 0, 2)
	took := s.waitRunning(c, 2, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{b.Namespace: 2}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	if got := s.running(a); got != 8 {
		t.Errorf("running executors of the protected farm = %d, want 8", got)
	}
	t.Logf("budget: minimum after %.1fs, evictions %v", took.Seconds(), s.evicted.counts())
}

// protect puts a PodDisruptionBudget allowing no disruption over a namespace's executors, with
// the status the disruption controller (which does not run here) would publish.
func (s *scenario) protect(namespace, labelKey string, healthy int32) {
	t := s.t
	t.Helper()
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "keep-all"},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &intstr.IntOrString{Type: intstr.Int, IntVal: 0},
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{labelKey: "executor"}},
		},
	}
	pdb, err := s.cluster.Clientset.PolicyV1().PodDisruptionBudgets(namespace).Create(t.Context(), pdb, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: 0, CurrentHealthy: healthy, DesiredHealthy: healthy, ExpectedPods: healthy}
	if _, err := s.cluster.Clientset.PolicyV1().PodDisruptionBudgets(namespace).UpdateStatus(t.Context(), pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestReclaimMixedSizesInOneBorrowingFarm(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "mixed", 0, nil)
	s.node("0", nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 1, 0, 0)
	s.executorsWith(a, 0, 2, sized(1))
	s.executorsWith(a, 2, 1, sized(2))
	s.waitRunning(a, 3, time.Minute)

	s.executorsWith(b, 0, 1, sized(2))
	took := s.waitRunning(b, 1, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	if got := s.running(a); got != 2 {
		t.Errorf("farm a runs %d executors, want its two 1-CPU ones: the 2-CPU one alone makes room", got)
	}
	t.Logf("mixed sizes: minimum after %.1fs, evictions %v", took.Seconds(), s.evicted.counts())
}

func TestReclaimRespectsTaints(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "taints", 0, nil)
	s.node("gpu", gpuTainted)
	s.node("cpu", nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	s.executorsWith(a, 0, 8, toleratesGPU)
	s.waitRunning(a, 8, time.Minute)

	// Without the toleration, only the untainted node's executors are worth evicting.
	s.executorsWith(b, 0, 1)
	s.waitRunning(b, 1, time.Minute)
	if diff := cmp.Diff([]string{s.id + "-cpu"}, s.evicted.evictedNodes()); diff != "" {
		t.Errorf("nodes evicted on (-want +got):\n%s", diff)
	}
	// With it, the tainted node is as good: either serves, one eviction each time.
	s.executorsWith(b, 1, 1, toleratesGPU)
	took := s.waitRunning(b, 2, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 2}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
	t.Logf("taints: minimum after %.1fs, evictions %v on %v", took.Seconds(), s.evicted.counts(), s.evicted.evictedNodes())
}

func TestReclaimNothingForAPodThatFitsNowhere(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "nowhere", 0, nil)
	s.node("0", nil)
	s.node("1", nil)
	a := s.farm("a", 0, 0, 0)
	b := s.farm("b", 2, 0, 0)
	s.executors(a, 0, 8)
	s.waitRunning(a, 8, time.Minute)

	s.executorsWith(b, 0, 1, sized(6))
	s.waitUnschedulable(b, "exec-0", "fits on no node even after every admissible eviction")
	time.Sleep(settle)
	if got := s.evicted.counts(); len(got) != 0 {
		t.Fatalf("evictions for a pod that fits nowhere: %v, want none", got)
	}
	// The same farm's executor that fits does reclaim: nothing above was for lack of a reason.
	s.executorsWith(b, 1, 1, sized(1))
	s.waitRunning(b, 1, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 1}, s.evicted.counts()); diff != "" {
		t.Errorf("evictions by namespace (-want +got):\n%s", diff)
	}
}
