package controller

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/toinfn/farm/pkg/quota"
)

// farmSeries gathers the controller's per-farm gauges through a pedantic registry (which also
// checks their help and label consistency) and returns those of namespace as
// `name{label=value,...} value`, sorted, namespace and farm left out of the labels.
func farmSeries(t *testing.T, namespace string) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(executorsByStage, minExecutors, maxExecutors, overquota, underquota)
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering the controller's metrics: %v", err)
	}
	var out []string
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var ns, farm string
			var rest []string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "namespace":
					ns = l.GetValue()
				case "farm":
					farm = l.GetValue()
				default:
					rest = append(rest, l.GetName()+"="+l.GetValue())
				}
			}
			if ns != namespace {
				continue
			}
			if farm == "" || strings.Contains(farm, "/") {
				t.Errorf("%s in %s has farm label %q, want the Farm's name alone", mf.GetName(), ns, farm)
			}
			out = append(out, fmt.Sprintf("%s{%s} %v", mf.GetName(), strings.Join(rest, ","), m.GetGauge().GetValue()))
		}
	}
	sort.Strings(out)
	return out
}

// TestFarmGauges checks the gauges a reconcile publishes: one series per stage, each executor in
// exactly one, limits and quota as separate metrics, all labelled with the Farm's namespace and
// name; and that a deleted Farm's gauges go.
func TestFarmGauges(t *testing.T) {
	tests := []struct {
		name      string
		min, max  int32
		executors []*podBuilder
		want      []string
	}{{
		name: "every stage once or more, borrowing",
		min:  2, max: 5,
		executors: []*podBuilder{
			makeExec("m-stages", "pending"),
			makeExec("m-stages", "starting").bound(),
			makeExec("m-stages", "running-1").running(0),
			makeExec("m-stages", "running-2").running(0),
			makeExec("m-stages", "reclaimed").running(0).evicted(quota.ReasonReclaimed, 0).terminating(),
			makeExec("m-stages", "scaled-down").running(0).evicted(quota.ReasonScaledDown, 0).terminating(),
			makeExec("m-stages", "failed").failed().finishedAt(0),
			makeExec("m-stages", "succeeded").succeeded(),
		},
		want: []string{
			"farm_executors{state=failed} 1",
			"farm_executors{state=pending} 1",
			"farm_executors{state=reclaiming} 1",
			"farm_executors{state=running} 2",
			"farm_executors{state=starting} 1",
			"farm_executors{state=succeeded} 1",
			"farm_executors{state=terminating} 1",
			"farm_max_executors{} 5",
			"farm_min_executors{} 2",
			"farm_overquota_executors{} 1",
			"farm_underquota_executors{} 0",
		},
	}, {
		name: "below its minimum, no ceiling",
		min:  4,
		executors: []*podBuilder{
			makeExec("m-below", "running-1").running(0),
			makeExec("m-below", "running-2").running(0),
			makeExec("m-below", "pending"),
		},
		want: []string{
			"farm_executors{state=failed} 0",
			"farm_executors{state=pending} 1",
			"farm_executors{state=reclaiming} 0",
			"farm_executors{state=running} 2",
			"farm_executors{state=starting} 0",
			"farm_executors{state=succeeded} 0",
			"farm_executors{state=terminating} 0",
			"farm_max_executors{} 0",
			"farm_min_executors{} 4",
			"farm_overquota_executors{} 0",
			"farm_underquota_executors{} 2",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := tc.executors[0].pod.Namespace
			farm := makeFarm(ns, "spark").limits(tc.min, tc.max).obj()
			objs := []client.Object{farm}
			for _, b := range tc.executors {
				objs = append(objs, b.obj())
			}
			c, _ := newFakeClient(t, objs...)
			// A retention far away keeps the Failed executor counted.
			r := &FarmReconciler{Client: c, FailedRetention: 24 * time.Hour, now: newClock(0).now}
			req := reconcile.Request{NamespacedName: key(ns, "spark")}
			if _, err := r.Reconcile(t.Context(), req); err != nil {
				t.Fatalf("Reconcile() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, farmSeries(t, ns)); diff != "" {
				t.Errorf("gauges of %s (-want +got):\n%s", ns, diff)
			}
			var sum int32
			for _, s := range quota.Stages {
				sum += int32(testutil.ToFloat64(executorsByStage.WithLabelValues(ns, "spark", string(s))))
			}
			if sum != int32(len(tc.executors)) {
				t.Errorf("farm_executors summed over state = %d, want every executor once: %d", sum, len(tc.executors))
			}

			if err := c.Delete(t.Context(), farm); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Reconcile(t.Context(), req); err != nil {
				t.Fatalf("Reconcile() after deletion error = %v", err)
			}
			if got := farmSeries(t, ns); len(got) != 0 {
				t.Errorf("gauges of a deleted Farm remain: %v", got)
			}
		})
	}
}
