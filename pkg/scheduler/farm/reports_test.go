package farm

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

func TestReclaimRecords(t *testing.T) {
	now := metav1.NewTime(t0.Add(time.Minute))
	alice, bob, carol := types.NamespacedName{Namespace: "alice", Name: "f"}, types.NamespacedName{Namespace: "bob", Name: "f"}, types.NamespacedName{Namespace: "carol", Name: "f"}
	rec := func(n int32, summary string, farms ...string) *farmv1alpha1.ReclaimRecord {
		return &farmv1alpha1.ReclaimRecord{Time: now, Executors: n, Farms: farms, Summary: summary}
	}
	tests := []struct {
		name     string
		took     map[types.NamespacedName]map[types.NamespacedName]int32
		wantFrom map[types.NamespacedName]*farmv1alpha1.ReclaimRecord
		wantFor  map[types.NamespacedName]*farmv1alpha1.ReclaimRecord
	}{{
		name:     "nothing reclaimed",
		took:     map[types.NamespacedName]map[types.NamespacedName]int32{},
		wantFrom: map[types.NamespacedName]*farmv1alpha1.ReclaimRecord{},
		wantFor:  map[types.NamespacedName]*farmv1alpha1.ReclaimRecord{},
	}, {
		name:     "one executor",
		took:     map[types.NamespacedName]map[types.NamespacedName]int32{alice: {bob: 1}},
		wantFrom: map[types.NamespacedName]*farmv1alpha1.ReclaimRecord{alice: rec(1, "1 executor for bob/f", "bob/f")},
		wantFor:  map[types.NamespacedName]*farmv1alpha1.ReclaimRecord{bob: rec(1, "1 executor from alice/f", "alice/f")},
	}, {
		name: "two victim farms, two farms reclaimed for",
		took: map[types.NamespacedName]map[types.NamespacedName]int32{alice: {bob: 2, carol: 1}, carol: {bob: 1}},
		wantFrom: map[types.NamespacedName]*farmv1alpha1.ReclaimRecord{
			alice: rec(3, "3 executors for bob/f (2), carol/f (1)", "bob/f", "carol/f"),
			carol: rec(1, "1 executor for bob/f", "bob/f"),
		},
		wantFor: map[types.NamespacedName]*farmv1alpha1.ReclaimRecord{
			bob:   rec(3, "3 executors from alice/f (2), carol/f (1)", "alice/f", "carol/f"),
			carol: rec(1, "1 executor from alice/f", "alice/f"),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, forFarm := reclaimRecords(tc.took, now)
			if diff := cmp.Diff(tc.wantFrom, from); diff != "" {
				t.Errorf("records of farms that lost executors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantFor, forFarm); diff != "" {
				t.Errorf("records of farms executors were reclaimed for (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReclaimReportsFlush(t *testing.T) {
	r := newReclaimReports()
	a, b := types.NamespacedName{Namespace: "a", Name: "f"}, types.NamespacedName{Namespace: "b", Name: "f"}
	r.add(a, b)
	r.add(a, b)
	if diff := cmp.Diff(map[types.NamespacedName]map[types.NamespacedName]int32{a: {b: 2}}, r.flush()); diff != "" {
		t.Errorf("first flush (-want +got):\n%s", diff)
	}
	if got := r.flush(); len(got) != 0 {
		t.Errorf("second flush: %v, want nothing: the first one forgot what it returned", got)
	}
}
