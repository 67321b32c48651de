package farm

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

func newFarm(namespace, name string, created time.Time, key, value string) *farmv1alpha1.Farm {
	return &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, CreationTimestamp: metav1.NewTime(created)},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: key, LabelValue: value, MinExecutors: 1},
	}
}

func TestPreFilterRecordsTheOwningFarm(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	older := newFarm("alice", "jupyter-alice", t0, "spark-role", "executor")
	younger := newFarm("alice", "duplicate", t0.Add(time.Hour), "spark-role", "executor")
	condor := newFarm("alice", "condor", t0, "app", "htcondor-worker")
	bob := newFarm("bob", "jupyter-bob", t0, "spark-role", "executor")

	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, f := range []*farmv1alpha1.Farm{older, younger, condor, bob} {
		if err := indexer.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	p := &Plugin{farms: farmLister{indexer: indexer}}

	tests := []struct {
		name string
		pod  *corev1.Pod
		want *farmv1alpha1.Farm
	}{
		{name: "executor owned by the older of two identical Farms", pod: st.MakePod().Namespace("alice").Name("e1").Label("spark-role", "executor").Obj(), want: older},
		{name: "executor of another farm type", pod: st.MakePod().Namespace("alice").Name("w1").Label("app", "htcondor-worker").Obj(), want: condor},
		{name: "same labels in another namespace", pod: st.MakePod().Namespace("bob").Name("e1").Label("spark-role", "executor").Obj(), want: bob},
		{name: "driver is no executor", pod: st.MakePod().Namespace("alice").Name("driver").Label("spark-role", "driver").Obj(), want: nil},
		{name: "namespace without Farms", pod: st.MakePod().Namespace("carol").Name("e1").Label("spark-role", "executor").Obj(), want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := framework.NewCycleState()
			if _, status := p.PreFilter(t.Context(), state, tc.pod, nil); !status.IsSuccess() {
				t.Fatalf("PreFilter: %v", status)
			}
			got, err := farmOf(state)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("farm of %s (-want +got):\n%s", tc.pod.Name, diff)
			}
		})
	}
}

func TestToTypedFarm(t *testing.T) {
	farm := newFarm("alice", "jupyter-alice", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "spark-role", "executor")
	farm.Spec.MaxExecutors = 9
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
