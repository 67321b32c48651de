package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

func createNamespace(t *testing.T, name string) {
	t.Helper()
	if err := cluster.CreateNamespace(t.Context(), name); err != nil {
		t.Fatal(err)
	}
}

func createFarm(t *testing.T, namespace, name string, min int32) types.NamespacedName {
	t.Helper()
	f := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: min},
	}
	if err := cluster.Client.Create(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	return types.NamespacedName{Namespace: namespace, Name: name}
}

// createExecutor creates an executor; no scheduler runs in this package, so it stays pending
// until bind binds it.
func createExecutor(t *testing.T, namespace, name string) *corev1.Pod {
	t.Helper()
	p, err := cluster.Clientset.CoreV1().Pods(namespace).Create(t.Context(), harness.ExecutorPod(namespace, name, "spark-role", "executor"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func bind(t *testing.T, namespace, name, node string) {
	t.Helper()
	err := cluster.Clientset.CoreV1().Pods(namespace).Bind(t.Context(), &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// counters are the original operator's status fields.
type counters struct{ All, Running, Pending, Error, Overquota int32 }

func waitCounters(t *testing.T, key types.NamespacedName, want counters) *farmv1alpha1.Farm {
	t.Helper()
	f := &farmv1alpha1.Farm{}
	var got counters
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := cluster.Client.Get(ctx, key, f); err != nil {
			return false, err
		}
		s := f.Status
		got = counters{s.AllExecutors, s.RunningExecutors, s.PendingExecutors, s.ErrorExecutors, s.Overquota}
		return got == want, nil
	})
	if err != nil {
		t.Fatalf("Farm %s counters: got %+v, want %+v", key, got, want)
	}
	return f
}

func TestStatusFollowsAnExecutorThroughItsLife(t *testing.T) {
	ctx := t.Context()
	createNamespace(t, "life")
	if _, err := cluster.CreateNodes(ctx, "life", 1, harness.DefaultNodeShape); err != nil {
		t.Fatal(err)
	}
	p := cluster.StartControllerBinary(t, "--failed-executor-retention=2s")
	key := createFarm(t, "life", "tenant", 1)

	createExecutor(t, "life", "exec-1")
	f := waitCounters(t, key, counters{All: 1, Pending: 1})
	if c := meta.FindStatusCondition(f.Status.Conditions, "GuaranteeMet"); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "WaitingForExecutors" {
		t.Errorf("GuaranteeMet while below the minimum with an executor waiting: %+v", c)
	}
	if f.Status.Selector != "spark-role=executor" || f.Status.ObservedGeneration != f.Generation {
		t.Errorf("selector %q, observedGeneration %d (generation %d)", f.Status.Selector, f.Status.ObservedGeneration, f.Generation)
	}

	bind(t, "life", "exec-1", "life-0")
	f = waitCounters(t, key, counters{All: 1, Running: 1})
	if c := meta.FindStatusCondition(f.Status.Conditions, "GuaranteeMet"); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("GuaranteeMet at the minimum: %+v", c)
	}

	pod, err := cluster.Clientset.CoreV1().Pods("life").Get(ctx, "exec-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodFailed
	now := metav1.Now()
	pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: now}}
	if _, err := cluster.Clientset.CoreV1().Pods("life").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitCounters(t, key, counters{All: 1, Error: 1})
	// Kept for the retention, then cleaned up.
	waitCounters(t, key, counters{})
	if _, err := cluster.Clientset.CoreV1().Pods("life").Get(ctx, "exec-1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Failed executor after the retention: %v, want it deleted", err)
	}
	time.Sleep(time.Second)
	if n := countEvents(t, "life", "tenant", "FailedExecutorsCleaned"); n != 1 {
		t.Errorf("%d FailedExecutorsCleaned events, want 1 for the batch", n)
	}
	if p.Exited() {
		t.Fatalf("farm-controller exited:\n%s", p.Output())
	}
}

func countEvents(t *testing.T, namespace, name, reason string) int {
	t.Helper()
	list, err := cluster.Clientset.EventsV1().Events(namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			n++
			if e.Series != nil {
				n += int(e.Series.Count) - 1
			}
		}
	}
	return n
}

func TestOverlappingFarmsAreNotCountedTwice(t *testing.T) {
	createNamespace(t, "overlap")
	if _, err := cluster.CreateNodes(t.Context(), "overlap", 1, harness.DefaultNodeShape); err != nil {
		t.Fatal(err)
	}
	cluster.StartControllerBinary(t)
	older := createFarm(t, "overlap", "older", 1)
	// Creation times have second precision: make the order unambiguous.
	time.Sleep(1100 * time.Millisecond)
	younger := createFarm(t, "overlap", "younger", 1)
	for i := range 2 {
		createExecutor(t, "overlap", fmt.Sprintf("exec-%d", i))
		bind(t, "overlap", fmt.Sprintf("exec-%d", i), "overlap-0")
	}
	waitCounters(t, older, counters{All: 2, Running: 2, Overquota: 1})
	y := waitCounters(t, younger, counters{})
	c := meta.FindStatusCondition(y.Status.Conditions, "Conflict")
	if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, older.String()) {
		t.Errorf("younger Farm's Conflict condition: %+v, want True naming %s", c, older)
	}
	o := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(t.Context(), older, o); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(o.Status.Conditions, "Conflict"); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("older Farm's Conflict condition: %+v, want False", c)
	}

	// The older Farm goes: the younger owns the executors now, with no pod changing to say so.
	if err := cluster.Client.Delete(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	y = waitCounters(t, younger, counters{All: 2, Running: 2, Overquota: 1})
	if c := meta.FindStatusCondition(y.Status.Conditions, "Conflict"); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("younger Farm's Conflict condition once the older is gone: %+v, want False", c)
	}
}

func TestFarmManagerMapsAndIdleWrites(t *testing.T) {
	ctx := t.Context()
	for _, ns := range []string{"fm-a", "fm-b"} {
		createNamespace(t, ns)
	}
	if _, err := cluster.CreateNodes(ctx, "fm", 1, harness.DefaultNodeShape); err != nil {
		t.Fatal(err)
	}
	p := cluster.StartControllerBinary(t)
	a := createFarm(t, "fm-a", "a", 1)
	b := createFarm(t, "fm-b", "b", 2)
	fm := &farmv1alpha1.FarmManager{
		ObjectMeta: metav1.ObjectMeta{Name: "farmmanager-spark-test"},
		Spec:       farmv1alpha1.FarmManagerSpec{LabelKey: "spark-role", LabelValue: "executor"},
	}
	if err := cluster.Client.Create(ctx, fm); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		createExecutor(t, "fm-a", fmt.Sprintf("exec-%d", i))
		bind(t, "fm-a", fmt.Sprintf("exec-%d", i), "fm-0")
	}
	createExecutor(t, "fm-b", "exec-0")
	waitCounters(t, a, counters{All: 3, Running: 3, Overquota: 2})
	waitCounters(t, b, counters{All: 1, Pending: 1})

	want := map[string]map[string]int32{
		"overquota":     {"fm-a/a": 2, "fm-b/b": 0},
		"underquota":    {"fm-a/a": 0, "fm-b/b": 2},
		"pending":       {"fm-a/a": 0, "fm-b/b": 1},
		"tobescaledown": {"fm-a/a": 0, "fm-b/b": 0},
	}
	var got map[string]map[string]int32
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := cluster.Client.Get(ctx, types.NamespacedName{Name: fm.Name}, fm); err != nil {
			return false, err
		}
		got = map[string]map[string]int32{
			"overquota": only(fm.Status.Overquota), "underquota": only(fm.Status.Underquota),
			"pending": only(fm.Status.Pending), "tobescaledown": only(fm.Status.Tobescaledown),
		}
		return cmp.Equal(want, got), nil
	})
	if err != nil {
		t.Fatalf("FarmManager maps (-want +got):\n%s", cmp.Diff(want, got))
	}

	// Idle: nothing changes, so nothing is written.
	versions := func() []string {
		var out []string
		for _, k := range []types.NamespacedName{a, b, {Name: fm.Name}} {
			var obj interface {
				GetResourceVersion() string
			}
			if k.Namespace == "" {
				m := &farmv1alpha1.FarmManager{}
				if err := cluster.Client.Get(ctx, k, m); err != nil {
					t.Fatal(err)
				}
				obj = m
			} else {
				f := &farmv1alpha1.Farm{}
				if err := cluster.Client.Get(ctx, k, f); err != nil {
					t.Fatal(err)
				}
				obj = f
			}
			out = append(out, obj.GetResourceVersion())
		}
		return out
	}
	time.Sleep(time.Second)
	before := versions()
	time.Sleep(10 * time.Second)
	if diff := cmp.Diff(before, versions()); diff != "" {
		t.Errorf("resourceVersions of the Farms and the FarmManager changed while idle (-before +after):\n%s", diff)
	}
	if p.Exited() {
		t.Fatalf("farm-controller exited:\n%s", p.Output())
	}
}

// only drops the maps' entries of other tests' Farms.
func only(m map[string]int32) map[string]int32 {
	out := map[string]int32{}
	for k, v := range m {
		if strings.HasPrefix(k, "fm-") {
			out[k] = v
		}
	}
	return out
}

func TestOddInputsCauseNoErrorLoop(t *testing.T) {
	ctx := t.Context()
	createNamespace(t, "odd")
	createNamespace(t, "nofarm")
	p := cluster.StartControllerBinary(t)
	key := createFarm(t, "odd", "tenant", 1)
	// A pod whose name has no dash (the original operator parsed names and crashed on it).
	createExecutor(t, "odd", "executor")
	// A pod in a namespace without a Farm.
	createExecutor(t, "nofarm", "exec-1")
	waitCounters(t, key, counters{All: 1, Pending: 1})
	// A Farm deleted while its executors run.
	if err := cluster.Client.Delete(ctx, &farmv1alpha1.Farm{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); err != nil {
		t.Fatal(err)
	}
	createExecutor(t, "odd", "exec-2")
	time.Sleep(3 * time.Second)
	if p.Exited() {
		t.Fatalf("farm-controller exited:\n%s", p.Output())
	}
	if n := strings.Count(p.Output(), "Reconciler error"); n > 0 {
		t.Errorf("%d reconciler errors:\n%s", n, p.Output())
	}
}
