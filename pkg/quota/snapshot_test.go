package quota

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// snapshotView is everything a Snapshot tells through its methods, for one comparison.
type snapshotView struct {
	Keys      []types.NamespacedName
	States    map[types.NamespacedName]State
	Conflicts map[types.NamespacedName]types.NamespacedName
}

func viewOf(s *Snapshot) snapshotView {
	v := snapshotView{
		Keys:      s.Keys(),
		States:    map[types.NamespacedName]State{},
		Conflicts: map[types.NamespacedName]types.NamespacedName{},
	}
	for _, k := range v.Keys {
		st, ok := s.State(k)
		if !ok {
			v.States[k] = State{Limits: Limits{Min: -1, Max: -1}} // marks a key without a state
			continue
		}
		v.States[k] = st
		if o, ok := s.ConflictsWith(k); ok {
			v.Conflicts[k] = o
		}
	}
	return v
}

func TestNewSnapshot(t *testing.T) {
	const k, v = "spark-role", "executor"
	// exec is an executor of the spark-role=executor type in team-a.
	exec := func(name string) *podBuilder { return makePod("team-a", name).label(k, v) }
	cases := []struct {
		name          string
		farms         []*farmv1alpha1.Farm
		pods          []*corev1.Pod
		schedulerName string
		want          snapshotView
	}{
		{
			name:          "no farms: every pod ignored",
			pods:          []*corev1.Pod{exec("p1").obj(), exec("p2").node("node-1").phase(corev1.PodRunning).obj()},
			schedulerName: schedName,
			want:          snapshotView{},
		},
		{
			name:          "farm with no pods has its limits and zero usage",
			farms:         []*farmv1alpha1.Farm{makeFarm("team-a", "spark").selector(k, v).limits(2, 8).obj()},
			schedulerName: schedName,
			want: snapshotView{
				Keys:   []types.NamespacedName{key("team-a", "spark")},
				States: map[types.NamespacedName]State{key("team-a", "spark"): {Limits: Limits{Min: 2, Max: 8}}},
			},
		},
		{
			name:  "one farm counts its executors and ignores pods it does not select",
			farms: []*farmv1alpha1.Farm{makeFarm("team-a", "spark").selector(k, v).limits(2, 0).obj()},
			pods: []*corev1.Pod{
				exec("pending").obj(),
				exec("gated").gate("example.com/wait").obj(),
				exec("running").node("node-1").phase(corev1.PodRunning).obj(),
				exec("terminating").node("node-1").phase(corev1.PodRunning).terminating().obj(),
				exec("failed").node("node-2").phase(corev1.PodFailed).obj(),
				exec("succeeded").node("node-2").phase(corev1.PodSucceeded).obj(),
				makePod("team-a", "driver").label(k, "driver").obj(),
				makePod("team-a", "unlabelled").obj(),
				makePod("team-b", "other-namespace").label(k, v).node("node-1").phase(corev1.PodRunning).obj(),
			},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "spark")},
				States: map[types.NamespacedName]State{
					key("team-a", "spark"): {
						Limits: Limits{Min: 2},
						Usage:  Usage{All: 6, Assigned: 1, Running: 1, Pending: 2, Schedulable: 1, Error: 1, Terminating: 1},
					},
				},
			},
		},
		{
			name:  "scheduler name decides schedulable",
			farms: []*farmv1alpha1.Farm{makeFarm("team-a", "spark").selector(k, v).limits(3, 0).obj()},
			pods: []*corev1.Pod{
				exec("ours").obj(),
				exec("default").scheduler("default-scheduler").obj(),
				exec("default-2").scheduler("default-scheduler").obj(),
			},
			schedulerName: "default-scheduler",
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "spark")},
				States: map[types.NamespacedName]State{
					key("team-a", "spark"): {Limits: Limits{Min: 3}, Usage: Usage{All: 3, Pending: 3, Schedulable: 2}},
				},
			},
		},
		{
			name: "same selector: older farm counts each pod once, younger conflicts",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "old").selector(k, v).limits(1, 0).created(0).obj(),
				makeFarm("team-a", "young").selector(k, v).limits(3, 5).created(time.Minute).obj(),
			},
			pods: []*corev1.Pod{
				exec("p1").node("node-1").phase(corev1.PodRunning).obj(),
				exec("p2").node("node-1").phase(corev1.PodRunning).obj(),
				exec("p3").obj(),
			},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "old"), key("team-a", "young")},
				States: map[types.NamespacedName]State{
					key("team-a", "old"):   {Limits: Limits{Min: 1}, Usage: Usage{All: 3, Assigned: 2, Running: 2, Pending: 1, Schedulable: 1}},
					key("team-a", "young"): {Limits: Limits{Min: 3, Max: 5}},
				},
				Conflicts: map[types.NamespacedName]types.NamespacedName{
					key("team-a", "young"): key("team-a", "old"),
				},
			},
		},
		{
			name: "same selector: younger farm conflicts even with no pods",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "old").selector(k, v).created(0).obj(),
				makeFarm("team-a", "young").selector(k, v).created(time.Hour).obj(),
			},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "old"), key("team-a", "young")},
				States: map[types.NamespacedName]State{
					key("team-a", "old"):   {},
					key("team-a", "young"): {},
				},
				Conflicts: map[types.NamespacedName]types.NamespacedName{
					key("team-a", "young"): key("team-a", "old"),
				},
			},
		},
		{
			name: "same selector, same creation time: smaller name owns",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "beta").selector(k, v).obj(),
				makeFarm("team-a", "alpha").selector(k, v).obj(),
			},
			pods:          []*corev1.Pod{exec("p1").obj()},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "alpha"), key("team-a", "beta")},
				States: map[types.NamespacedName]State{
					key("team-a", "alpha"): {Usage: Usage{All: 1, Pending: 1, Schedulable: 1}},
					key("team-a", "beta"):  {},
				},
				Conflicts: map[types.NamespacedName]types.NamespacedName{
					key("team-a", "beta"): key("team-a", "alpha"),
				},
			},
		},
		{
			name: "three same-selector farms: both younger conflict with the oldest",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "second").selector(k, v).created(time.Second).obj(),
				makeFarm("team-a", "third").selector(k, v).created(2 * time.Second).obj(),
				makeFarm("team-a", "first").selector(k, v).created(0).obj(),
			},
			pods:          []*corev1.Pod{exec("p1").obj(), exec("p2").node("node-1").obj()},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "first"), key("team-a", "second"), key("team-a", "third")},
				States: map[types.NamespacedName]State{
					key("team-a", "first"):  {Usage: Usage{All: 2, Assigned: 1, Pending: 1, Schedulable: 1}},
					key("team-a", "second"): {},
					key("team-a", "third"):  {},
				},
				Conflicts: map[types.NamespacedName]types.NamespacedName{
					key("team-a", "second"): key("team-a", "first"),
					key("team-a", "third"):  key("team-a", "first"),
				},
			},
		},
		{
			name: "partial overlap: pod with both labels counted once for the older farm, younger conflicts",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "by-app").selector("app", "spark").created(0).obj(),
				makeFarm("team-a", "by-role").selector(k, v).created(time.Minute).obj(),
			},
			pods: []*corev1.Pod{
				exec("both").label("app", "spark").node("node-1").phase(corev1.PodRunning).obj(),
				exec("role-only").obj(),
				makePod("team-a", "app-only").label("app", "spark").obj(),
			},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "by-app"), key("team-a", "by-role")},
				States: map[types.NamespacedName]State{
					key("team-a", "by-app"):  {Usage: Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1}},
					key("team-a", "by-role"): {Usage: Usage{All: 1, Pending: 1, Schedulable: 1}},
				},
				Conflicts: map[types.NamespacedName]types.NamespacedName{
					key("team-a", "by-role"): key("team-a", "by-app"),
				},
			},
		},
		{
			name: "partial overlap the other way round: the role farm is older",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "by-app").selector("app", "spark").created(time.Minute).obj(),
				makeFarm("team-a", "by-role").selector(k, v).created(0).obj(),
			},
			pods: []*corev1.Pod{
				exec("both").label("app", "spark").node("node-1").phase(corev1.PodRunning).obj(),
				exec("role-only").obj(),
				makePod("team-a", "app-only").label("app", "spark").obj(),
			},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "by-app"), key("team-a", "by-role")},
				States: map[types.NamespacedName]State{
					key("team-a", "by-app"):  {Usage: Usage{All: 1, Pending: 1, Schedulable: 1}},
					key("team-a", "by-role"): {Usage: Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1}},
				},
				Conflicts: map[types.NamespacedName]types.NamespacedName{
					key("team-a", "by-app"): key("team-a", "by-role"),
				},
			},
		},
		{
			name: "different selectors with no shared pod: no conflict",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "by-app").selector("app", "spark").created(0).obj(),
				makeFarm("team-a", "by-role").selector(k, v).created(time.Minute).obj(),
			},
			pods: []*corev1.Pod{
				exec("role-only").obj(),
				makePod("team-a", "app-only").label("app", "spark").obj(),
			},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "by-app"), key("team-a", "by-role")},
				States: map[types.NamespacedName]State{
					key("team-a", "by-app"):  {Usage: Usage{All: 1, Pending: 1, Schedulable: 1}},
					key("team-a", "by-role"): {Usage: Usage{All: 1, Pending: 1, Schedulable: 1}},
				},
			},
		},
		{
			name: "youngest farm overlapping two owners conflicts with the oldest of them",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "a").selector("a", "1").created(0).obj(),
				makeFarm("team-a", "b").selector("b", "1").created(time.Second).obj(),
				makeFarm("team-a", "c").selector("c", "1").created(2 * time.Second).obj(),
			},
			pods: []*corev1.Pod{
				makePod("team-a", "bc").label("b", "1").label("c", "1").obj(),
				makePod("team-a", "ac").label("a", "1").label("c", "1").obj(),
			},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "a"), key("team-a", "b"), key("team-a", "c")},
				States: map[types.NamespacedName]State{
					key("team-a", "a"): {Usage: Usage{All: 1, Pending: 1, Schedulable: 1}},
					key("team-a", "b"): {Usage: Usage{All: 1, Pending: 1, Schedulable: 1}},
					key("team-a", "c"): {},
				},
				Conflicts: map[types.NamespacedName]types.NamespacedName{
					key("team-a", "c"): key("team-a", "a"),
				},
			},
		},
		{
			name: "same type in two namespaces: no conflict, each counts its own namespace",
			farms: []*farmv1alpha1.Farm{
				makeFarm("team-a", "spark").selector(k, v).limits(1, 0).created(time.Hour).obj(),
				makeFarm("team-b", "spark").selector(k, v).limits(2, 0).created(0).obj(),
			},
			pods: []*corev1.Pod{
				exec("a1").node("node-1").phase(corev1.PodRunning).obj(),
				makePod("team-b", "b1").label(k, v).obj(),
				makePod("team-b", "b2").label(k, v).obj(),
				makePod("team-c", "c1").label(k, v).obj(),
			},
			schedulerName: schedName,
			want: snapshotView{
				Keys: []types.NamespacedName{key("team-a", "spark"), key("team-b", "spark")},
				States: map[types.NamespacedName]State{
					key("team-a", "spark"): {Limits: Limits{Min: 1}, Usage: Usage{All: 1, Assigned: 1, Running: 1}},
					key("team-b", "spark"): {Limits: Limits{Min: 2}, Usage: Usage{All: 2, Pending: 2, Schedulable: 2}},
				},
			},
		},
	}
	for _, tc := range cases {
		// The result must not depend on the order of Farms or pods.
		for _, order := range []string{"given", "reversed"} {
			t.Run(fmt.Sprintf("%s/%s order", tc.name, order), func(t *testing.T) {
				farms, pods := slices.Clone(tc.farms), slices.Clone(tc.pods)
				if order == "reversed" {
					slices.Reverse(farms)
					slices.Reverse(pods)
				}
				got := viewOf(NewSnapshot(farms, pods, tc.schedulerName))
				if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("snapshot (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestSnapshotUnknownFarm(t *testing.T) {
	s := NewSnapshot(
		[]*farmv1alpha1.Farm{makeFarm("team-a", "spark").selector("spark-role", "executor").limits(1, 0).obj()},
		[]*corev1.Pod{makePod("team-a", "p").label("spark-role", "executor").obj()},
		schedName,
	)
	cases := []struct {
		name         string
		farm         types.NamespacedName
		wantState    State
		wantKnown    bool
		wantConflict bool
	}{
		{
			name:      "known farm",
			farm:      key("team-a", "spark"),
			wantState: State{Limits: Limits{Min: 1}, Usage: Usage{All: 1, Pending: 1, Schedulable: 1}},
			wantKnown: true,
		},
		{name: "unknown name", farm: key("team-a", "other")},
		{name: "unknown namespace", farm: key("team-b", "spark")},
		{name: "zero key", farm: types.NamespacedName{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, ok := s.State(tc.farm)
			if diff := cmp.Diff(tc.wantState, st); diff != "" {
				t.Errorf("State (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantKnown, ok); diff != "" {
				t.Errorf("State known (-want +got):\n%s", diff)
			}
			o, ok := s.ConflictsWith(tc.farm)
			if diff := cmp.Diff(tc.wantConflict, ok); diff != "" {
				t.Errorf("ConflictsWith ok (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(types.NamespacedName{}, o); diff != "" {
				t.Errorf("ConflictsWith owner (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSnapshotKeysAndOfType(t *testing.T) {
	spark := Type{LabelKey: "spark-role", LabelValue: "executor"}
	farms := []*farmv1alpha1.Farm{
		makeFarm("team-b", "spark").selector("spark-role", "executor").obj(),
		makeFarm("team-a", "zeta").selector("spark-role", "executor").obj(),
		makeFarm("team-a", "batch").selector("app", "batch").obj(),
		makeFarm("team-c", "driver").selector("spark-role", "driver").obj(),
		makeFarm("team-a", "alpha").selector("spark-role", "executor").obj(),
		makeFarm("team-b", "batch").selector("app", "batch").obj(),
	}
	s := NewSnapshot(farms, nil, schedName)

	t.Run("Keys", func(t *testing.T) {
		want := []types.NamespacedName{
			key("team-a", "alpha"),
			key("team-a", "batch"),
			key("team-a", "zeta"),
			key("team-b", "batch"),
			key("team-b", "spark"),
			key("team-c", "driver"),
		}
		if diff := cmp.Diff(want, s.Keys()); diff != "" {
			t.Errorf("Keys (-want +got):\n%s", diff)
		}
	})

	cases := []struct {
		name string
		typ  Type
		want []types.NamespacedName
	}{
		{
			name: "spark executors across namespaces",
			typ:  spark,
			want: []types.NamespacedName{key("team-a", "alpha"), key("team-a", "zeta"), key("team-b", "spark")},
		},
		{
			name: "batch",
			typ:  Type{LabelKey: "app", LabelValue: "batch"},
			want: []types.NamespacedName{key("team-a", "batch"), key("team-b", "batch")},
		},
		{
			name: "same key, other value",
			typ:  Type{LabelKey: "spark-role", LabelValue: "driver"},
			want: []types.NamespacedName{key("team-c", "driver")},
		},
		{
			name: "unknown type",
			typ:  Type{LabelKey: "spark-role", LabelValue: "shuffle"},
			want: nil,
		},
		{
			name: "zero type",
			typ:  Type{},
			want: nil,
		},
	}
	for _, tc := range cases {
		t.Run("OfType/"+tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, s.OfType(tc.typ), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("OfType(%v) (-want +got):\n%s", tc.typ, diff)
			}
		})
	}

	t.Run("empty snapshot", func(t *testing.T) {
		empty := NewSnapshot(nil, nil, schedName)
		if diff := cmp.Diff([]types.NamespacedName(nil), empty.Keys(), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Keys (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]types.NamespacedName(nil), empty.OfType(spark), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("OfType (-want +got):\n%s", diff)
		}
	})
}
