package farm

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newFarm(namespace, name string, created time.Time, key, value string, min, max int32) *farmv1alpha1.Farm {
	return &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, CreationTimestamp: metav1.NewTime(created)},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: key, LabelValue: value, MinExecutors: min, MaxExecutors: max},
	}
}

// executor returns a farm-scheduler pod labelled as a Spark executor; node binds it.
func executor(namespace, name, node string) *corev1.Pod {
	p := st.MakePod().Namespace(namespace).Name(name).UID(namespace+"/"+name).
		Label("spark-role", "executor").SchedulerName(SchedulerName).Node(node).Obj()
	if node != "" {
		p.Status.Phase = corev1.PodRunning
	}
	return p
}

// newTestPlugin returns a plugin whose cache holds farms and pods, as its informers would.
func newTestPlugin(t testing.TB, farms []*farmv1alpha1.Farm, pods []*corev1.Pod) *Plugin {
	t.Helper()
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	c := farmcache.New(SchedulerName, corelisters.NewPodLister(indexer))
	for _, p := range pods {
		if err := indexer.Add(p); err != nil {
			t.Fatal(err)
		}
		c.AddPod(p)
	}
	for _, f := range farms {
		c.AddFarm(f)
	}
	return &Plugin{farms: c, pods: corelisters.NewPodLister(indexer)}
}

func TestPreFilter(t *testing.T) {
	older := newFarm("alice", "jupyter-alice", t0, "spark-role", "executor", 1, 2)
	younger := newFarm("alice", "duplicate", t0.Add(time.Hour), "spark-role", "executor", 5, 0)
	condor := newFarm("alice", "condor", t0, "app", "htcondor-worker", 1, 0)
	bob := newFarm("bob", "jupyter-bob", t0, "spark-role", "executor", 1, 3)
	pods := []*corev1.Pod{
		executor("alice", "a1", "n1"), executor("alice", "a2", "n1"),
		executor("bob", "b1", "n1"),
	}
	p := newTestPlugin(t, []*farmv1alpha1.Farm{older, younger, condor, bob}, pods)

	tests := []struct {
		name       string
		pod        *corev1.Pod
		wantFarm   *farmv1alpha1.Farm
		wantCode   fwk.Code
		wantReason string
	}{
		{name: "owned by the older of two identical Farms, which is at its ceiling", pod: executor("alice", "a3", ""), wantFarm: older,
			wantCode: fwk.UnschedulableAndUnresolvable, wantReason: "farm alice/jupyter-alice is at its maxExecutors (2)"},
		{name: "farm below its ceiling", pod: executor("bob", "b2", ""), wantFarm: bob, wantCode: fwk.Success},
		{name: "another farm type in the same namespace", pod: st.MakePod().Namespace("alice").Name("w1").Label("app", "htcondor-worker").Obj(), wantFarm: condor, wantCode: fwk.Success},
		{name: "driver is no executor", pod: st.MakePod().Namespace("alice").Name("driver").Label("spark-role", "driver").Obj(), wantCode: fwk.Success},
		{name: "namespace without Farms", pod: executor("carol", "c1", ""), wantCode: fwk.Success},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := framework.NewCycleState()
			_, status := p.PreFilter(t.Context(), state, tc.pod, nil)
			if status.Code() != tc.wantCode {
				t.Fatalf("PreFilter code = %v (%v), want %v", status.Code(), status.AsError(), tc.wantCode)
			}
			if tc.wantReason != "" && !strings.Contains(strings.Join(status.Reasons(), "; "), tc.wantReason) {
				t.Errorf("PreFilter reasons %q do not say %q", status.Reasons(), tc.wantReason)
			}
			s, err := cycleStateOf(state)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantFarm, s.farm); diff != "" {
				t.Errorf("farm of %s (-want +got):\n%s", tc.pod.Name, diff)
			}
		})
	}
}

func TestLessOrdersGuaranteedPodsFirst(t *testing.T) {
	below := newFarm("below", "f", t0, "spark-role", "executor", 3, 0)
	above := newFarm("above", "f", t0, "spark-role", "executor", 1, 0)
	p := newTestPlugin(t, []*farmv1alpha1.Farm{below, above}, []*corev1.Pod{
		executor("below", "running", "n1"),
		executor("above", "r1", "n1"), executor("above", "r2", "n1"),
	})
	queued := func(pod *corev1.Pod, priority int32, at time.Duration) fwk.QueuedEntityInfo {
		pod = pod.DeepCopy()
		pod.Spec.Priority = &priority
		pi, err := framework.NewPodInfo(pod)
		if err != nil {
			t.Fatal(err)
		}
		return &framework.QueuedPodInfo{PodInfo: pi, QueueingParams: framework.QueueingParams{Timestamp: t0.Add(at)}}
	}
	tests := []struct {
		name string
		a, b fwk.QueuedEntityInfo
		want bool
	}{
		{name: "guaranteed before borrowing, whatever the priority", a: queued(executor("below", "w", ""), 0, time.Minute), b: queued(executor("above", "w", ""), 1000, 0), want: true},
		{name: "borrowing after guaranteed", a: queued(executor("above", "w", ""), 1000, 0), b: queued(executor("below", "w", ""), 0, time.Minute), want: false},
		{name: "guaranteed before a pod of no farm", a: queued(executor("below", "w", ""), 0, time.Minute), b: queued(executor("nofarm", "w", ""), 0, 0), want: true},
		{name: "among equals, higher priority first", a: queued(executor("above", "x", ""), 10, time.Minute), b: queued(executor("above", "y", ""), 5, 0), want: true},
		{name: "among equals of one priority, first come first served", a: queued(executor("above", "x", ""), 5, 0), b: queued(executor("above", "y", ""), 5, time.Second), want: true},
		{name: "later arrival after", a: queued(executor("above", "y", ""), 5, time.Second), b: queued(executor("above", "x", ""), 5, 0), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Less(tc.a, tc.b); got != tc.want {
				t.Errorf("Less = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReserveCountsTowardTheCeiling(t *testing.T) {
	farm := newFarm("alice", "f", t0, "spark-role", "executor", 0, 1)
	pending := executor("alice", "p1", "")
	p := newTestPlugin(t, []*farmv1alpha1.Farm{farm}, []*corev1.Pod{pending})
	key := types.NamespacedName{Namespace: "alice", Name: "f"}
	assigned := func() int32 {
		f, _ := p.farms.Get(key)
		return f.State.Assigned
	}

	if st := p.Reserve(t.Context(), nil, pending, "n1"); !st.IsSuccess() {
		t.Fatalf("Reserve: %v", st)
	}
	if got := assigned(); got != 1 {
		t.Errorf("assigned after Reserve = %d, want 1", got)
	}
	// A second executor must now see its farm at the ceiling, before any binding lands.
	_, status := p.PreFilter(t.Context(), framework.NewCycleState(), executor("alice", "p2", ""), nil)
	if status.Code() != fwk.UnschedulableAndUnresolvable {
		t.Errorf("PreFilter of a second executor after Reserve: %v, want the ceiling refusal", status)
	}
	p.Unreserve(t.Context(), nil, pending, "n1")
	if got := assigned(); got != 0 {
		t.Errorf("assigned after Unreserve = %d, want 0", got)
	}
}

func TestQueueingHints(t *testing.T) {
	farm := newFarm("alice", "f", t0, "spark-role", "executor", 1, 2)
	p := newTestPlugin(t, []*farmv1alpha1.Farm{farm}, nil)
	waiting := executor("alice", "w", "")
	logger := klog.Background()

	unstructuredFarm := func(f *farmv1alpha1.Farm) *unstructured.Unstructured {
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(f)
		if err != nil {
			t.Fatal(err)
		}
		return &unstructured.Unstructured{Object: content}
	}
	farmTests := []struct {
		name string
		obj  any
		want fwk.QueueingHint
	}{
		{name: "the pod's farm changed", obj: unstructuredFarm(farm), want: fwk.Queue},
		{name: "a farm of another namespace changed", obj: unstructuredFarm(newFarm("bob", "f", t0, "spark-role", "executor", 1, 0)), want: fwk.QueueSkip},
		{name: "a farm of another type changed", obj: unstructuredFarm(newFarm("alice", "c", t0, "app", "condor", 1, 0)), want: fwk.QueueSkip},
	}
	for _, tc := range farmTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.isSchedulableAfterFarmChange(logger, waiting, nil, tc.obj)
			if err != nil || got != tc.want {
				t.Errorf("hint = %v, %v; want %v", got, err, tc.want)
			}
		})
	}

	podTests := []struct {
		name    string
		deleted *corev1.Pod
		want    fwk.QueueingHint
	}{
		{name: "executor of the same farm left", deleted: executor("alice", "gone", "n1"), want: fwk.Queue},
		{name: "pod of another namespace left", deleted: executor("bob", "gone", "n1"), want: fwk.QueueSkip},
		{name: "non-executor of the same namespace left", deleted: st.MakePod().Namespace("alice").Name("driver").Label("spark-role", "driver").Node("n1").Obj(), want: fwk.QueueSkip},
	}
	for _, tc := range podTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.isSchedulableAfterExecutorDeleted(logger, waiting, tc.deleted, nil)
			if err != nil || got != tc.want {
				t.Errorf("hint = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestToTypedFarm(t *testing.T) {
	farm := newFarm("alice", "jupyter-alice", t0, "spark-role", "executor", 1, 9)
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(farm)
	if err != nil {
		t.Fatal(err)
	}
	got, err := toTypedFarm(&unstructured.Unstructured{Object: content})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(farm, got); diff != "" {
		t.Errorf("typed Farm (-want +got):\n%s", diff)
	}

	tombstone := cache.DeletedFinalStateUnknown{Key: "alice/jupyter-alice"}
	if got, err := toTypedFarm(tombstone); err != nil || got != tombstone {
		t.Errorf("tombstone: got %v, %v; want it passed through", got, err)
	}

	bad := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"minExecutors": "many"}}}
	if _, err := toTypedFarm(bad); err == nil {
		t.Error("a Farm whose minExecutors is a string decoded without error")
	}
}
