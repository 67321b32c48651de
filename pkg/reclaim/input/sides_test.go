package input

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim"
)

// farmState is a farm of namespace ns with a minimum, a ceiling (0: none) and its usage.
func farmState(ns string, min, max int32, u quota.Usage) FarmState {
	return FarmState{Key: key(ns), State: quota.State{Limits: quota.Limits{Min: min, Max: max}, Usage: u}}
}

func TestSplitSides(t *testing.T) {
	tests := []struct {
		name        string
		farms       []FarmState
		wantDemand  map[types.NamespacedName]int32
		wantVictims map[types.NamespacedName]reclaim.Farm
	}{
		{
			name: "below its minimum, a farm waits for the part of its pending pods its guarantee covers",
			farms: []FarmState{
				farmState("short", 4, 0, quota.Usage{Assigned: 1, Schedulable: 5}),
				farmState("few", 4, 0, quota.Usage{Assigned: 1, Schedulable: 2}),
			},
			wantDemand:  map[types.NamespacedName]int32{key("short"): 3, key("few"): 2},
			wantVictims: map[types.NamespacedName]reclaim.Farm{},
		},
		{
			name: "over its minimum, a farm may lose what it holds over it, and its executors leaving count",
			farms: []FarmState{
				farmState("over", 2, 0, quota.Usage{Assigned: 5, Terminating: 1}),
			},
			wantDemand:  map[types.NamespacedName]int32{},
			wantVictims: map[types.NamespacedName]reclaim.Farm{key("over"): {Overquota: 3, Leaving: 1}},
		},
		{
			name: "evictions in flight move from what a farm may lose to what leaves it",
			farms: []FarmState{
				{Key: key("over"), State: quota.State{Limits: quota.Limits{Min: 2}, Usage: quota.Usage{Assigned: 5, Terminating: 1}}, InFlight: 2},
			},
			wantDemand:  map[types.NamespacedName]int32{},
			wantVictims: map[types.NamespacedName]reclaim.Farm{key("over"): {Overquota: 1, Leaving: 3}},
		},
		{
			name: "a ceiling bounds what a reclaim takes: the rest above it is the scale-down's",
			farms: []FarmState{
				farmState("capped", 2, 4, quota.Usage{Assigned: 7}),
			},
			wantDemand:  map[types.NamespacedName]int32{},
			wantVictims: map[types.NamespacedName]reclaim.Farm{key("capped"): {Overquota: 2}},
		},
		{
			name: "at its minimum, or above it with nothing reclaimable, a farm takes no part",
			farms: []FarmState{
				farmState("even", 3, 0, quota.Usage{Assigned: 3, Schedulable: 2}),
				farmState("at-ceiling", 3, 3, quota.Usage{Assigned: 5}),
			},
			wantDemand:  map[types.NamespacedName]int32{},
			wantVictims: map[types.NamespacedName]reclaim.Farm{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SplitSides(tc.farms)
			if diff := cmp.Diff(tc.wantDemand, got.Demand); diff != "" {
				t.Errorf("demand (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantVictims, got.Victims); diff != "" {
				t.Errorf("victims (-want +got):\n%s", diff)
			}
			var want []types.NamespacedName
			for k := range tc.wantDemand {
				want = append(want, k)
			}
			for k := range tc.wantVictims {
				want = append(want, k)
			}
			less := func(a, b types.NamespacedName) bool { return a.String() < b.String() }
			if diff := cmp.Diff(want, got.Keys(), cmpopts.SortSlices(less), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSidesWaiting(t *testing.T) {
	sides := SplitSides([]FarmState{
		farmState("alice", 3, 0, quota.Usage{Assigned: 1, Schedulable: 3}),
		farmState("bob", 1, 0, quota.Usage{Schedulable: 1}),
		farmState("carol", 0, 0, quota.Usage{Assigned: 4, Schedulable: 2}),
	})
	pending := map[types.NamespacedName][]*corev1.Pod{
		key("alice"): {
			executor("alice", "young").createdAfter(time.Hour).obj(),
			executor("alice", "old").obj(),
			executor("alice", "middle").createdAfter(time.Minute).obj(),
		},
		key("bob"):   {executor("bob", "only").createdAfter(2 * time.Minute).obj()},
		key("carol"): {executor("carol", "borrowing").obj()},
	}
	driver := executor("bob", "driver").label("spark-role", "driver").createdAfter(time.Second).obj()
	nominatedTo := func(p *corev1.Pod) string { return p.Status.NominatedNodeName }

	tests := []struct {
		name  string
		self  *corev1.Pod
		extra []*corev1.Pod
		want  []string
	}{
		{
			name: "each farm's guaranteed pods (alice's 2 oldest, bob's 1), none of a borrowing farm's, in queue order",
			want: []string{"alice/old", "alice/middle", "bob/only"},
		},
		{
			name: "the cycle's pod first",
			self: pending[key("bob")][0],
			want: []string{"bob/only", "alice/old", "alice/middle"},
		},
		{
			name:  "a driver waits beside them, in queue order too",
			extra: []*corev1.Pod{driver},
			want:  []string{"alice/old", "bob/driver", "alice/middle", "bob/only"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range sides.Waiting(tc.self, pending, nominatedTo, tc.extra...) {
				got = append(got, p.Namespace+"/"+p.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("waiting (-want +got):\n%s", diff)
			}
		})
	}
}
