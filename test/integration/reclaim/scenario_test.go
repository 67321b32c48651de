package reclaim

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/harness"
)

// pool holds the control planes the scenarios run on, one scenario at a time on each: every
// scenario starts its own farm-scheduler, which would schedule the pods of another scenario on
// the same control plane. Scenarios spend most of their time waiting on grace periods and
// trigger intervals, so they run in parallel (t.Parallel; go test's -parallel says how many, at
// most four), each on a control plane of its own.
var pool harness.Pool

func TestMain(m *testing.M) {
	os.Exit(harness.RunTestsOnPool(m, &pool))
}

// scenario is one test's slice of a control plane: its nodes, its farm type, its scheduler.
type scenario struct {
	t *testing.T
	// cluster is the control plane lent to the scenario.
	cluster *harness.Shared
	// id prefixes the scenario's namespaces and nodes and names its farm type.
	id string
	// labelKey is the scenario's farm type: every executor of the scenario carries it.
	labelKey string
	sched    *harness.ChildProcess
	evicted  *evictionLog
	// namespaces are the tenants' namespaces the scenario created.
	namespaces []string
}

// newScenario creates nodes of four executor slots and starts farm-scheduler with the shipped
// configuration (edit may change it).
func newScenario(t *testing.T, id string, nodes int, edit func(map[string]any)) *scenario {
	t.Helper()
	return newScenarioOn(t, pool.Acquire(t), id, nodes, edit)
}

// newScenarioOn is newScenario on a control plane the test has already acquired from the pool.
func newScenarioOn(t *testing.T, cluster *harness.Shared, id string, nodes int, edit func(map[string]any)) *scenario {
	t.Helper()
	s := &scenario{t: t, cluster: cluster, id: id, labelKey: "farm-test.toinfn.it/" + id}
	for i := range nodes {
		node := harness.NewNode(fmt.Sprintf("%s-%d", id, i), harness.DefaultNodeShape)
		node.Labels["scenario"] = id
		if _, err := s.cluster.Clientset.CoreV1().Nodes().Create(t.Context(), node, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.evicted = watchEvictions(t, cluster.Clientset, s.labelKey)
	// Registered before the scheduler starts, so that it runs after the scheduler's own cleanup
	// has logged its output: the end of a long failure report is what CI shows.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the scenario's pods at the end (%s):\n%s", time.Now().UTC().Format(time.TimeOnly), s.describePods())
		}
	})
	s.sched = cluster.StartSchedulerBinary(t, cluster.SchedulerConfig(t, edit))
	return s
}

// farm creates a tenant namespace and its Farm of the scenario's type.
func (s *scenario) farm(tenant string, min, max, n int32) types.NamespacedName {
	s.t.Helper()
	ns := s.id + "-" + tenant
	if _, err := s.cluster.Clientset.CoreV1().Namespaces().Create(s.t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	s.namespaces = append(s.namespaces, ns)
	f := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tenant},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: s.labelKey, LabelValue: "executor", MinExecutors: min, MaxExecutors: max, ScaledownAfterNTriggers: n},
	}
	if err := s.cluster.Client.Create(s.t.Context(), f); err != nil {
		s.t.Fatal(err)
	}
	return types.NamespacedName{Namespace: ns, Name: tenant}
}

// executors creates n executors of a farm, pinned to the scenario's nodes.
func (s *scenario) executors(farm types.NamespacedName, first, n int) []string {
	s.t.Helper()
	var names []string
	for i := first; i < first+n; i++ {
		name := fmt.Sprintf("exec-%d", i)
		if err := s.createExecutor(farm, name); err != nil {
			s.t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

func (s *scenario) createExecutor(farm types.NamespacedName, name string) error {
	pod := harness.ExecutorPod(farm.Namespace, name, s.labelKey, "executor")
	pod.Spec.NodeSelector = map[string]string{"scenario": s.id}
	_, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Create(s.t.Context(), pod, metav1.CreateOptions{})
	return err
}

// running counts a namespace's executors that are Running and not terminating.
func (s *scenario) running(farm types.NamespacedName) int {
	s.t.Helper()
	pods, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).List(s.t.Context(), metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, p := range pods.Items {
		if quota.IsRunning(&p) {
			n++
		}
	}
	return n
}

// waitRunning waits until the farm has want executors running.
func (s *scenario) waitRunning(farm types.NamespacedName, want int, timeout time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	err := wait.PollUntilContextTimeout(s.t.Context(), 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		if s.sched.Exited() {
			return false, fmt.Errorf("farm-scheduler exited")
		}
		return s.running(farm) >= want, nil
	})
	if err != nil {
		s.t.Fatalf("waiting for %d running executors of %s: %v (running: %d); the scheduler's output follows", want, farm, err, s.running(farm))
	}
	return time.Since(start)
}

// describePods lists the pods of the scenario's namespaces a line each (node, phase, deletion,
// nomination), for a failure report.
func (s *scenario) describePods() string {
	var b strings.Builder
	for _, ns := range s.namespaces {
		pods, err := s.cluster.Clientset.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			fmt.Fprintf(&b, "  %s: %v\n", ns, err)
			continue
		}
		for _, p := range pods.Items {
			deleting := "-"
			if p.DeletionTimestamp != nil {
				deleting = p.DeletionTimestamp.UTC().Format(time.TimeOnly)
			}
			fmt.Fprintf(&b, "  %s/%s node=%q phase=%s reason=%q deleting=%s nominated=%q\n", p.Namespace, p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.Reason, deleting, p.Status.NominatedNodeName)
		}
	}
	return b.String()
}

// scheduledCondition returns the PodScheduled condition of a pod.
func (s *scenario) scheduledCondition(farm types.NamespacedName, pod string) *corev1.PodCondition {
	s.t.Helper()
	p, err := s.cluster.Clientset.CoreV1().Pods(farm.Namespace).Get(s.t.Context(), pod, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// waitUnschedulable waits until the pod is marked unschedulable with a message containing want.
func (s *scenario) waitUnschedulable(farm types.NamespacedName, pod, want string) {
	s.t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(s.t.Context(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		c := s.scheduledCondition(farm, pod)
		if c == nil {
			return false, nil
		}
		last = c.Message
		return c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && strings.Contains(c.Message, want), nil
	})
	if err != nil {
		s.t.Fatalf("pod %s/%s: no Unschedulable condition saying %q (last message: %q)", farm.Namespace, pod, want, last)
	}
}

// evictionLog records every executor of a farm type that was asked to leave.
type evictionLog struct {
	mu     sync.Mutex
	byFarm map[string]map[types.UID]bool
	nodes  map[string]bool
}

// watchEvictions follows executors of labelKey that get a deletion timestamp.
func watchEvictions(t *testing.T, client kubernetes.Interface, labelKey string) *evictionLog {
	l := &evictionLog{byFarm: map[string]map[types.UID]bool{}, nodes: map[string]bool{}}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = labelKey
	}))
	record := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok || p.DeletionTimestamp == nil {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.byFarm[p.Namespace] == nil {
			l.byFarm[p.Namespace] = map[types.UID]bool{}
		}
		l.byFarm[p.Namespace][p.UID] = true
		l.nodes[p.Spec.NodeName] = true
	}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    record,
		UpdateFunc: func(_, obj any) { record(obj) },
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return l
}

// counts returns evictions by namespace.
func (l *evictionLog) counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for ns, uids := range l.byFarm {
		out[ns] = len(uids)
	}
	return out
}

// nodesTouched counts the nodes evictions happened on.
func (l *evictionLog) nodesTouched() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.nodes)
}

// events returns the reasons and messages of the events about a pod.
func (s *scenario) events(namespace, pod string) []string {
	t := s.t
	t.Helper()
	list, err := s.cluster.Clientset.EventsV1().Events(namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == pod {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}
