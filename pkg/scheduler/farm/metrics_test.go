package farm

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// TestMetricsNameFarmsApart runs a reclaim and a guaranteed pod's binding, then checks that each
// metric grew under the right farm's namespace and name, as separate labels: attempts and the
// scheduling time under the waiting pod's farm, evictions under the evicted executor's.
func TestMetricsNameFarmsApart(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	// One node of 4 CPUs full of alice's borrowed executors; carol's farm, guaranteed 2, waits.
	// The two farms share a name so that only the namespace tells them apart.
	w := spark("carol", "w", "")
	f := newReclaimFixture(ctx, t, cluster{
		farms: []*farmv1alpha1.Farm{
			newFarm("alice", "spark", t0, "spark-role", "executor", 0, 0),
			newFarm("carol", "spark", t0, "spark-role", "executor", 2, 0),
		},
		nodes: []*corev1.Node{testNode("n0", "4")},
		pods: []*corev1.Pod{
			spark("alice", "a1", "n0"), spark("alice", "a2", "n0"), spark("alice", "a3", "n0"), spark("alice", "a4", "n0"),
			w,
		},
	})

	counters := []struct {
		name       string
		value      func() (float64, error)
		wantGrowth float64
	}{
		{"reclaim attempts of carol/spark", counter(reclaimAttempts, "carol", "spark"), 1},
		{"reclaim attempts of alice/spark", counter(reclaimAttempts, "alice", "spark"), 0},
		{"evictions of alice/spark", counter(evictionsTotal, "alice", "spark"), 1},
		{"evictions of carol/spark", counter(evictionsTotal, "carol", "spark"), 0},
		{"guaranteed bindings of carol/spark", histogramCount(guaranteedSchedulingSeconds, "carol", "spark"), 1},
		{"guaranteed bindings of alice/spark", histogramCount(guaranteedSchedulingSeconds, "alice", "spark"), 0},
	}
	before := make([]float64, len(counters))
	for i, c := range counters {
		v, err := c.value()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		before[i] = v
	}

	_, status, evicted := f.postFilter(ctx, t, w)
	if !status.IsSuccess() {
		t.Fatalf("PostFilter: %v %q", status.Code(), status.Message())
	}
	if len(evicted) != 1 || !strings.HasPrefix(evicted[0], "alice/") {
		t.Fatalf("evicted %v, want one executor of alice", evicted)
	}
	// The waiting pod binds where the room was made, its farm still below its minimum.
	state := framework.NewCycleState()
	if _, s := f.p.PreFilter(ctx, state, w, nil); !s.IsSuccess() {
		t.Fatalf("PreFilter: %v", s)
	}
	bound := w.DeepCopy()
	bound.CreationTimestamp.Time = time.Now().Add(-3 * time.Second)
	f.p.PostBind(ctx, state, bound, "n0")

	for i, c := range counters {
		v, err := c.value()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := v - before[i]; got != c.wantGrowth {
			t.Errorf("%s grew by %v, want %v", c.name, got, c.wantGrowth)
		}
	}

	// No series anywhere still names a farm as namespace/name.
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	got := map[string][]string{}
	for _, mf := range families {
		if !strings.HasPrefix(mf.GetName(), "farm_") {
			continue
		}
		want[mf.GetName()] = []string{"farm", "namespace"}
		for _, m := range mf.GetMetric() {
			var names []string
			for _, l := range m.GetLabel() {
				if l.GetName() == "farm" && strings.Contains(l.GetValue(), "/") {
					t.Errorf("%s has farm=%q, want the Farm's name alone", mf.GetName(), l.GetValue())
				}
				names = append(names, l.GetName())
			}
			got[mf.GetName()] = names
		}
	}
	if len(want) == 0 {
		t.Fatal("no farm_ metric gathered")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels of the plugin's metrics (-want +got):\n%s", diff)
	}
}

// counter reads one series of vec.
func counter(vec *metrics.CounterVec, namespace, name string) func() (float64, error) {
	return func() (float64, error) { return testutil.GetCounterMetricValue(vec.WithLabelValues(namespace, name)) }
}

// histogramCount reads how many observations one series of vec holds.
func histogramCount(vec *metrics.HistogramVec, namespace, name string) func() (float64, error) {
	return func() (float64, error) {
		n, err := testutil.GetHistogramMetricCount(vec.WithLabelValues(namespace, name))
		return float64(n), err
	}
}
