package controller

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// makeManager is a FarmManager of one farm type, generation 1.
func makeManager(name, labelKey, labelValue string) *farmv1alpha1.FarmManager {
	return &farmv1alpha1.FarmManager{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, CreationTimestamp: at(0)},
		Spec:       farmv1alpha1.FarmManagerSpec{LabelKey: labelKey, LabelValue: labelValue},
	}
}

func withManagerStatus(m *farmv1alpha1.FarmManager, s farmv1alpha1.FarmManagerStatus) *farmv1alpha1.FarmManager {
	m.Status = s
	return m
}

func TestFarmManagerReconcile(t *testing.T) {
	// A cluster of spark farms: alice borrows 2, bob waits for 2, carol borrows 1 and is losing
	// 1 to a reclaim (and 1 to a scale-down, which is no reclaim); dave runs condor workers and
	// erin's Farm selects spark drivers.
	cluster := []client.Object{
		makeFarm("alice", "spark").limits(2, 0).obj(),
		makeFarm("bob", "spark").limits(3, 0).obj(),
		makeFarm("carol", "spark").limits(1, 0).obj(),
		makeFarm("dave", "condor").selector(condorKey, condorValue).limits(5, 0).obj(),
		makeFarm("erin", "drivers").selector(sparkKey, "driver").limits(0, 0).obj(),
		makeExec("alice", "exec-1").running(0).obj(),
		makeExec("alice", "exec-2").running(0).obj(),
		makeExec("alice", "exec-3").running(0).obj(),
		makeExec("alice", "exec-4").running(0).obj(),
		makeExec("bob", "exec-1").running(0).obj(),
		makeExec("bob", "exec-2").obj(),
		makeExec("bob", "exec-3").obj(),
		makeExec("carol", "exec-1").running(0).obj(),
		makeExec("carol", "exec-2").running(0).obj(),
		makeExec("carol", "exec-3").running(0).terminating().evicted(quota.ReasonReclaimed, time.Minute).obj(),
		// Leaving, but not reclaimed: neither assigned nor to be scaled down.
		makeExec("carol", "exec-4").running(0).terminating().evicted(quota.ReasonScaledDown, time.Minute).obj(),
		makeExec("alice", "exec-5").running(0).terminating().obj(),
		makePod("dave", "worker-1").label(condorKey, condorValue).running(0).obj(),
		makePod("erin", "driver").label(sparkKey, "driver").obj(),
	}
	sparkStatus := farmv1alpha1.FarmManagerStatus{
		Overquota:          map[string]int32{"alice/spark": 2, "bob/spark": 0, "carol/spark": 1},
		Underquota:         map[string]int32{"alice/spark": 0, "bob/spark": 2, "carol/spark": 0},
		Pending:            map[string]int32{"alice/spark": 0, "bob/spark": 2, "carol/spark": 0},
		Tobescaledown:      map[string]int32{"alice/spark": 0, "bob/spark": 0, "carol/spark": 1},
		Farms:              3,
		TotalOverquota:     3,
		TotalUnderquota:    2,
		TotalPending:       2,
		TotalTobescaledown: 1,
		ObservedGeneration: 1,
	}
	stale := sparkStatus
	stale.Pending = map[string]int32{"alice/spark": 0, "bob/spark": 1, "carol/spark": 0}
	stale.TotalPending = 1
	readyCond := metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Set", ObservedGeneration: 1, LastTransitionTime: at(0)}

	tests := []struct {
		name    string
		objects []client.Object
		manager string

		wantWrites []string
		// wantStatus is the manager's status afterwards; nil when it does not exist.
		wantStatus *farmv1alpha1.FarmManagerStatus
	}{
		{
			name:       "maps keyed namespace/name over the Farms of its type only, with totals",
			objects:    append([]client.Object{makeManager("farmmanager-spark", sparkKey, sparkValue)}, cluster...),
			manager:    "farmmanager-spark",
			wantWrites: []string{"apply status FarmManager farmmanager-spark"},
			wantStatus: &sparkStatus,
		},
		{
			name:       "status already true: no write",
			objects:    append([]client.Object{withManagerStatus(makeManager("farmmanager-spark", sparkKey, sparkValue), sparkStatus)}, cluster...),
			manager:    "farmmanager-spark",
			wantStatus: &sparkStatus,
		},
		{
			name: "a stale status is rewritten, conditions kept",
			objects: append([]client.Object{withManagerStatus(makeManager("farmmanager-spark", sparkKey, sparkValue), func() farmv1alpha1.FarmManagerStatus {
				s := stale
				s.Conditions = []metav1.Condition{readyCond}
				return s
			}())}, cluster...),
			manager:    "farmmanager-spark",
			wantWrites: []string{"apply status FarmManager farmmanager-spark"},
			wantStatus: func() *farmv1alpha1.FarmManagerStatus {
				s := sparkStatus
				s.Conditions = []metav1.Condition{readyCond}
				return &s
			}(),
		},
		{
			name:       "another farm type sees only its own Farms",
			objects:    append([]client.Object{makeManager("farmmanager-condor", condorKey, condorValue)}, cluster...),
			manager:    "farmmanager-condor",
			wantWrites: []string{"apply status FarmManager farmmanager-condor"},
			wantStatus: &farmv1alpha1.FarmManagerStatus{
				Overquota:          map[string]int32{"dave/condor": 0},
				Underquota:         map[string]int32{"dave/condor": 4},
				Pending:            map[string]int32{"dave/condor": 0},
				Tobescaledown:      map[string]int32{"dave/condor": 0},
				Farms:              1,
				TotalUnderquota:    4,
				ObservedGeneration: 1,
			},
		},
		{
			name: "overlapping Farms: every executor counted once, for the older Farm",
			objects: []client.Object{
				makeManager("farmmanager-spark", sparkKey, sparkValue),
				makeFarm("alice", "old").limits(1, 0).created(-time.Hour).obj(),
				makeFarm("alice", "young").limits(2, 0).obj(),
				makeExec("alice", "exec-1").running(0).obj(),
				makeExec("alice", "exec-2").running(0).obj(),
				makeExec("alice", "exec-3").obj(),
			},
			manager:    "farmmanager-spark",
			wantWrites: []string{"apply status FarmManager farmmanager-spark"},
			wantStatus: &farmv1alpha1.FarmManagerStatus{
				Overquota:          map[string]int32{"alice/old": 1, "alice/young": 0},
				Underquota:         map[string]int32{"alice/old": 0, "alice/young": 2},
				Pending:            map[string]int32{"alice/old": 1, "alice/young": 0},
				Tobescaledown:      map[string]int32{"alice/old": 0, "alice/young": 0},
				Farms:              2,
				TotalOverquota:     1,
				TotalUnderquota:    2,
				TotalPending:       1,
				ObservedGeneration: 1,
			},
		},
		{
			name:       "no Farm of its type: empty maps; only observedGeneration to write",
			objects:    []client.Object{makeManager("farmmanager-spark", sparkKey, sparkValue)},
			manager:    "farmmanager-spark",
			wantWrites: []string{"apply status FarmManager farmmanager-spark"},
			wantStatus: &farmv1alpha1.FarmManagerStatus{ObservedGeneration: 1},
		},
		{
			name:       "no Farm of its type and that already reported: no write",
			objects:    []client.Object{withManagerStatus(makeManager("farmmanager-spark", sparkKey, sparkValue), farmv1alpha1.FarmManagerStatus{ObservedGeneration: 1})},
			manager:    "farmmanager-spark",
			wantStatus: &farmv1alpha1.FarmManagerStatus{ObservedGeneration: 1},
		},
		{
			name:    "the FarmManager is gone: no error, no write",
			objects: cluster,
			manager: "farmmanager-spark",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			for _, o := range tc.objects {
				objs = append(objs, o.DeepCopyObject().(client.Object))
			}
			c, writes := newFakeClient(t, objs...)
			r := &FarmManagerReconciler{Client: c}
			req := reconcile.Request{NamespacedName: types.NamespacedName{Name: tc.manager}}

			res, err := r.Reconcile(t.Context(), req)

			if err != nil {
				t.Fatalf("Reconcile() error = %v", err)
			}
			if diff := cmp.Diff(reconcile.Result{}, res); diff != "" {
				t.Errorf("Reconcile() result mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWrites, writes.take()); diff != "" {
				t.Errorf("writes mismatch (-want +got):\n%s", diff)
			}
			for _, a := range writes.applied {
				if a.fieldManager != FieldManager || !a.force {
					t.Errorf("status applied by %q (force %v), want %q with force", a.fieldManager, a.force, FieldManager)
				}
				if diff := cmp.Diff(map[string]any{"name": tc.manager}, a.body["metadata"]); diff != "" {
					t.Errorf("applied metadata mismatch (-want +got):\n%s", diff)
				}
			}
			if tc.wantStatus == nil {
				return
			}
			got := &farmv1alpha1.FarmManager{}
			if err := c.Get(t.Context(), req.NamespacedName, got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(*tc.wantStatus, got.Status, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("FarmManager status mismatch (-want +got):\n%s", diff)
			}

			// Nothing changed since: the next reconcile writes nothing.
			if _, err := r.Reconcile(t.Context(), req); err != nil {
				t.Fatalf("second Reconcile() error = %v", err)
			}
			if w := writes.take(); len(w) != 0 {
				t.Errorf("second Reconcile() wrote %v on an unchanged cluster", w)
			}
		})
	}
}

func TestFarmManagerMapping(t *testing.T) {
	managers := []client.Object{
		makeManager("farmmanager-spark", sparkKey, sparkValue),
		makeManager("spark-dashboard", sparkKey, sparkValue),
		makeManager("farmmanager-condor", condorKey, condorValue),
	}
	farms := []client.Object{
		makeFarm("alice", "spark").obj(),
		makeFarm("alice", "condor").selector(condorKey, condorValue).obj(),
		makeFarm("bob", "old").created(-time.Hour).obj(),
		makeFarm("bob", "young").obj(),
	}
	sparkManagers := []reconcile.Request{
		{NamespacedName: types.NamespacedName{Name: "farmmanager-spark"}},
		{NamespacedName: types.NamespacedName{Name: "spark-dashboard"}},
	}
	condorManager := []reconcile.Request{{NamespacedName: types.NamespacedName{Name: "farmmanager-condor"}}}
	tests := []struct {
		name string
		obj  client.Object
		want []reconcile.Request
	}{
		{
			name: "an executor maps to every manager of its type",
			obj:  makeExec("alice", "spark-exec-1").obj(),
			want: sparkManagers,
		},
		{
			name: "a pod whose name has no dash maps like any other",
			obj:  makeExec("alice", "executor").obj(),
			want: sparkManagers,
		},
		{
			name: "a pod two overlapping Farms select maps to each manager once",
			obj:  makeExec("bob", "exec-1").obj(),
			want: sparkManagers,
		},
		{
			name: "a pod of two farm types maps to the managers of both",
			obj:  makeExec("alice", "both").label(condorKey, condorValue).obj(),
			want: append(append([]reconcile.Request{}, sparkManagers...), condorManager...),
		},
		{
			name: "a pod in a namespace without a Farm maps to nothing",
			obj:  makeExec("carol", "exec-1").obj(),
		},
		{
			name: "a pod no Farm selects maps to nothing",
			obj:  makePod("alice", "driver").label(sparkKey, "driver").obj(),
		},
		{
			name: "a Farm maps to the managers of its type",
			obj:  makeFarm("zoe", "condor").selector(condorKey, condorValue).obj(),
			want: condorManager,
		},
		{
			name: "a Farm of a type without a manager maps to nothing",
			obj:  makeFarm("zoe", "ray").selector("ray-role", "worker").obj(),
		},
	}
	byName := cmpopts.SortSlices(func(a, b reconcile.Request) bool { return a.String() < b.String() })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			for _, o := range append(append([]client.Object{}, managers...), farms...) {
				objs = append(objs, o.DeepCopyObject().(client.Object))
			}
			c, writes := newFakeClient(t, objs...)
			r := &FarmManagerReconciler{Client: c}

			var got []reconcile.Request
			switch tc.obj.(type) {
			case *corev1.Pod:
				got = r.managersOfPod(t.Context(), tc.obj)
				if farmsGot := r.managersOfFarm(t.Context(), tc.obj); len(farmsGot) != 0 {
					t.Errorf("managersOfFarm(pod) = %v, want nothing", farmsGot)
				}
			case *farmv1alpha1.Farm:
				got = r.managersOfFarm(t.Context(), tc.obj)
				if podsGot := r.managersOfPod(t.Context(), tc.obj); len(podsGot) != 0 {
					t.Errorf("managersOfPod(Farm) = %v, want nothing", podsGot)
				}
			}
			if diff := cmp.Diff(tc.want, got, byName, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("mapping mismatch (-want +got):\n%s", diff)
			}
			if w := writes.take(); len(w) != 0 {
				t.Errorf("mapping wrote %v", w)
			}
		})
	}
}
