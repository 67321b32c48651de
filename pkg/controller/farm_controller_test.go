package controller

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// cond is a Farm condition as desiredStatus sets it (its message is checked apart).
func cond(typ string, status bool, reason string, gen int64, t metav1.Time) metav1.Condition {
	c := metav1.Condition{Type: typ, Status: metav1.ConditionFalse, Reason: reason, ObservedGeneration: gen, LastTransitionTime: t}
	if status {
		c.Status = metav1.ConditionTrue
	}
	return c
}

// conditionsByType compares condition lists as the map lists they are.
var conditionsByType = cmpopts.SortSlices(func(a, b metav1.Condition) bool { return a.Type < b.Type })

func TestDesiredStatus(t *testing.T) {
	now := at(10 * time.Minute)
	earlier := at(time.Minute)
	selector := sparkKey + "=" + sparkValue
	// quiet are the conditions of a farm with nothing going on, all set at time ts.
	quiet := func(gen int64, ts metav1.Time) []metav1.Condition {
		return []metav1.Condition{
			cond(ConditionGuaranteeMet, true, "AtOrAboveMinimum", gen, ts),
			cond(ConditionBorrowing, false, "AtOrBelowMinimum", gen, ts),
			cond(ConditionReclaiming, false, "NoReclaim", gen, ts),
			cond(ConditionConflict, false, "NoOverlap", gen, ts),
		}
	}
	tests := []struct {
		name  string
		farms []*farmv1alpha1.Farm
		pods  []*corev1.Pod
		// farm is the Farm observed; alice/spark when empty.
		farm types.NamespacedName
		want farmv1alpha1.FarmStatus
		// wantMessages are the messages of the conditions listed.
		wantMessages map[string]string
	}{
		{
			name:  "no executors and none waiting: guarantee met, nothing requested; other pods ignored",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(2, 0).obj()},
			pods: []*corev1.Pod{
				makePod("alice", "driver").label(sparkKey, "driver").running(0).obj(),
				makePod("alice", "unlabelled").running(0).obj(),
				makeExec("bob", "exec-1").running(0).obj(),
			},
			want: farmv1alpha1.FarmStatus{
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "NotRequested", 1, now),
					cond(ConditionBorrowing, false, "AtOrBelowMinimum", 1, now),
					cond(ConditionReclaiming, false, "NoReclaim", 1, now),
					cond(ConditionConflict, false, "NoOverlap", 1, now),
				},
			},
			wantMessages: map[string]string{
				ConditionGuaranteeMet: "0 executors assigned, minimum 2, none waiting",
				ConditionReclaiming:   "no executor is being reclaimed",
				ConditionConflict:     "no older Farm owns executors this Farm selects",
			},
		},
		{
			name:  "below the minimum with schedulable executors waiting: GuaranteeMet False",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(3, 0).generation(2).obj()},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makeExec("alice", "wait-1").obj(),
				makeExec("alice", "wait-2").obj(),
				makeExec("alice", "gated").gated().obj(),
				makeExec("alice", "default-scheduler").scheduler("default-scheduler").obj(),
			},
			// 1 assigned of 3; 4 pending of which 2 are farm-scheduler's and not gated.
			want: farmv1alpha1.FarmStatus{
				AllExecutors:       5,
				RunningExecutors:   1,
				PendingExecutors:   4,
				Selector:           selector,
				ObservedGeneration: 2,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, false, "WaitingForExecutors", 2, now),
					cond(ConditionBorrowing, false, "AtOrBelowMinimum", 2, now),
					cond(ConditionReclaiming, false, "NoReclaim", 2, now),
					cond(ConditionConflict, false, "NoOverlap", 2, now),
				},
			},
			wantMessages: map[string]string{
				ConditionGuaranteeMet: "1 executors assigned, minimum 3, 2 waiting",
				ConditionBorrowing:    "1 executors assigned, minimum 3",
			},
		},
		{
			name:  "below the minimum, only gated or another scheduler's executors pending: nothing requested",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(3, 0).obj()},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makeExec("alice", "gated").gated().obj(),
				makeExec("alice", "default-scheduler").scheduler("default-scheduler").obj(),
			},
			want: farmv1alpha1.FarmStatus{
				AllExecutors:       3,
				RunningExecutors:   1,
				PendingExecutors:   2,
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "NotRequested", 1, now),
					cond(ConditionBorrowing, false, "AtOrBelowMinimum", 1, now),
					cond(ConditionReclaiming, false, "NoReclaim", 1, now),
					cond(ConditionConflict, false, "NoOverlap", 1, now),
				},
			},
		},
		{
			name:  "exactly at the minimum: guarantee met, not borrowing",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(2, 0).obj()},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makeExec("alice", "run-2").running(0).obj(),
			},
			want: farmv1alpha1.FarmStatus{
				AllExecutors:       2,
				RunningExecutors:   2,
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions:         quiet(1, now),
			},
			wantMessages: map[string]string{
				ConditionGuaranteeMet: "2 executors assigned, minimum 2",
			},
		},
		{
			name:  "above the minimum: borrowing; a bound executor still starting is assigned, not running; failed and succeeded counted apart",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(1, 5).obj()},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makeExec("alice", "run-2").running(0).obj(),
				makeExec("alice", "starting").bound().obj(),
				makeExec("alice", "failed").failed().obj(),
				makeExec("alice", "succeeded").succeeded().obj(),
			},
			want: farmv1alpha1.FarmStatus{
				// assigned: run-1, run-2, starting = 3, overquota 3-1.
				AllExecutors:       5,
				RunningExecutors:   2,
				ErrorExecutors:     1,
				Overquota:          2,
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "AtOrAboveMinimum", 1, now),
					cond(ConditionBorrowing, true, "AboveMinimum", 1, now),
					cond(ConditionReclaiming, false, "NoReclaim", 1, now),
					cond(ConditionConflict, false, "NoOverlap", 1, now),
				},
			},
			wantMessages: map[string]string{
				ConditionBorrowing: "2 executors borrowed beyond the minimum 1",
			},
		},
		{
			name:  "executors being reclaimed: Reclaiming True, lastReclaimTime from the reclaim mark, a scale-down mark is no reclaim",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(1, 0).obj()},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makeExec("alice", "run-2").running(0).obj(),
				makeExec("alice", "reclaimed").running(0).terminating().evicted(quota.ReasonReclaimed, 5*time.Minute).obj(),
				makeExec("alice", "scaled-down").running(0).terminating().evicted(quota.ReasonScaledDown, 6*time.Minute).obj(),
			},
			want: farmv1alpha1.FarmStatus{
				AllExecutors:        4,
				RunningExecutors:    2,
				Overquota:           1,
				ReclaimingExecutors: 1,
				LastReclaimTime:     ptrTo(at(5 * time.Minute)),
				Selector:            selector,
				ObservedGeneration:  1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "AtOrAboveMinimum", 1, now),
					cond(ConditionBorrowing, true, "AboveMinimum", 1, now),
					cond(ConditionReclaiming, true, "ExecutorsEvicted", 1, now),
					cond(ConditionConflict, false, "NoOverlap", 1, now),
				},
			},
			wantMessages: map[string]string{
				ConditionReclaiming: "1 executors are being reclaimed for farms below their minimum",
			},
		},
		{
			name: "lastReclaimTime moves forward to a later reclaim mark",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(1, 0).status(farmv1alpha1.FarmStatus{
				LastReclaimTime: ptrTo(at(2 * time.Minute)),
				Conditions:      quiet(1, earlier),
			}).obj()},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makeExec("alice", "reclaimed").running(0).terminating().evicted(quota.ReasonReclaimed, 5*time.Minute).obj(),
			},
			want: farmv1alpha1.FarmStatus{
				AllExecutors:        2,
				RunningExecutors:    1,
				ReclaimingExecutors: 1,
				LastReclaimTime:     ptrTo(at(5 * time.Minute)),
				Selector:            selector,
				ObservedGeneration:  1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "AtOrAboveMinimum", 1, earlier),
					cond(ConditionBorrowing, false, "AtOrBelowMinimum", 1, earlier),
					cond(ConditionReclaiming, true, "ExecutorsEvicted", 1, now),
					cond(ConditionConflict, false, "NoOverlap", 1, earlier),
				},
			},
		},
		{
			name: "lastReclaimTime never moves back to an older mark",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(1, 0).status(farmv1alpha1.FarmStatus{
				LastReclaimTime: ptrTo(at(8 * time.Minute)),
				Conditions:      quiet(1, earlier),
			}).obj()},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makeExec("alice", "reclaimed").running(0).terminating().evicted(quota.ReasonReclaimed, 5*time.Minute).obj(),
			},
			want: farmv1alpha1.FarmStatus{
				AllExecutors:        2,
				RunningExecutors:    1,
				ReclaimingExecutors: 1,
				LastReclaimTime:     ptrTo(at(8 * time.Minute)),
				Selector:            selector,
				ObservedGeneration:  1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "AtOrAboveMinimum", 1, earlier),
					cond(ConditionBorrowing, false, "AtOrBelowMinimum", 1, earlier),
					cond(ConditionReclaiming, true, "ExecutorsEvicted", 1, now),
					cond(ConditionConflict, false, "NoOverlap", 1, earlier),
				},
			},
		},
		{
			name: "lastReclaimTime kept once the reclaimed executors are gone",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(1, 0).status(farmv1alpha1.FarmStatus{
				LastReclaimTime: ptrTo(at(2 * time.Minute)),
				Conditions:      quiet(1, earlier),
			}).obj()},
			pods: []*corev1.Pod{makeExec("alice", "run-1").running(0).obj()},
			want: farmv1alpha1.FarmStatus{
				AllExecutors:       1,
				RunningExecutors:   1,
				LastReclaimTime:    ptrTo(at(2 * time.Minute)),
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions:         quiet(1, earlier),
			},
		},
		{
			name: "transition times kept while a status holds (even when its reason changes), observedGeneration follows the spec, the scheduler's field and foreign conditions left alone",
			farms: []*farmv1alpha1.Farm{makeFarm("alice", "spark").limits(1, 0).generation(3).status(farmv1alpha1.FarmStatus{
				AllExecutors:       1,
				PendingExecutors:   1,
				ScaledownTriggered: 4,
				Selector:           selector,
				ObservedGeneration: 2,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "NotRequested", 2, earlier),
					cond(ConditionBorrowing, false, "AtOrBelowMinimum", 2, earlier),
					cond(ConditionReclaiming, false, "NoReclaim", 2, earlier),
					cond(ConditionConflict, false, "NoOverlap", 2, earlier),
					cond("example.com/Audited", true, "Checked", 1, at(0)),
				},
			}).obj()},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makeExec("alice", "run-2").running(0).obj(),
			},
			want: farmv1alpha1.FarmStatus{
				AllExecutors:       2,
				RunningExecutors:   2,
				Overquota:          1,
				Selector:           selector,
				ObservedGeneration: 3,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "AtOrAboveMinimum", 3, earlier),
					cond(ConditionBorrowing, true, "AboveMinimum", 3, now),
					cond(ConditionReclaiming, false, "NoReclaim", 3, earlier),
					cond(ConditionConflict, false, "NoOverlap", 3, earlier),
					cond("example.com/Audited", true, "Checked", 1, at(0)),
				},
			},
		},
		{
			name: "overlapping Farms: the younger one counts nothing and has Conflict naming the older",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "old").limits(1, 0).created(-time.Hour).obj(),
				makeFarm("alice", "young").limits(1, 0).obj(),
			},
			pods: []*corev1.Pod{makeExec("alice", "run-1").running(0).obj(), makeExec("alice", "wait-1").obj()},
			farm: key("alice", "young"),
			want: farmv1alpha1.FarmStatus{
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "NotRequested", 1, now),
					cond(ConditionBorrowing, false, "AtOrBelowMinimum", 1, now),
					cond(ConditionReclaiming, false, "NoReclaim", 1, now),
					cond(ConditionConflict, true, "SelectorOverlap", 1, now),
				},
			},
			wantMessages: map[string]string{
				ConditionConflict: "Farm alice/old is older and owns executors this Farm selects; they are counted there",
			},
		},
		{
			name: "overlapping Farms: the older one counts every executor, no Conflict",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "old").limits(1, 0).created(-time.Hour).obj(),
				makeFarm("alice", "young").limits(1, 0).obj(),
			},
			pods: []*corev1.Pod{makeExec("alice", "run-1").running(0).obj(), makeExec("alice", "wait-1").obj()},
			farm: key("alice", "old"),
			want: farmv1alpha1.FarmStatus{
				AllExecutors:       2,
				RunningExecutors:   1,
				PendingExecutors:   1,
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions:         quiet(1, now),
			},
		},
		{
			name: "overlapping Farms created in the same second: the smaller name owns",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "b").limits(0, 0).obj(),
				makeFarm("alice", "a").limits(0, 0).obj(),
			},
			pods: []*corev1.Pod{makeExec("alice", "run-1").running(0).obj()},
			farm: key("alice", "b"),
			want: farmv1alpha1.FarmStatus{
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "AtOrAboveMinimum", 1, now),
					cond(ConditionBorrowing, false, "AtOrBelowMinimum", 1, now),
					cond(ConditionReclaiming, false, "NoReclaim", 1, now),
					cond(ConditionConflict, true, "SelectorOverlap", 1, now),
				},
			},
		},
		{
			name: "a Farm of another type or another namespace is no conflict",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "spark").limits(0, 0).obj(),
				makeFarm("alice", "condor").selector(condorKey, condorValue).created(-time.Hour).obj(),
				makeFarm("bob", "spark").created(-time.Hour).obj(),
			},
			pods: []*corev1.Pod{
				makeExec("alice", "run-1").running(0).obj(),
				makePod("alice", "worker").label(condorKey, condorValue).running(0).obj(),
				makeExec("bob", "run-1").running(0).obj(),
			},
			want: farmv1alpha1.FarmStatus{
				AllExecutors:       1,
				RunningExecutors:   1,
				Overquota:          1,
				Selector:           selector,
				ObservedGeneration: 1,
				Conditions: []metav1.Condition{
					cond(ConditionGuaranteeMet, true, "AtOrAboveMinimum", 1, now),
					cond(ConditionBorrowing, true, "AboveMinimum", 1, now),
					cond(ConditionReclaiming, false, "NoReclaim", 1, now),
					cond(ConditionConflict, false, "NoOverlap", 1, now),
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			for _, f := range tc.farms {
				objs = append(objs, f)
			}
			for _, p := range tc.pods {
				objs = append(objs, p)
			}
			c, _ := newFakeClient(t, objs...)
			k := tc.farm
			if k == (types.NamespacedName{}) {
				k = key("alice", "spark")
			}
			farm := getFarm(t, c, k)
			o, err := observe(t.Context(), c, farm)
			if err != nil {
				t.Fatalf("observe() error = %v", err)
			}

			got := desiredStatus(o, farm.Status, now.Time)

			if diff := cmp.Diff(tc.want, got, conditionsByType, cmpopts.IgnoreFields(metav1.Condition{}, "Message")); diff != "" {
				t.Errorf("desiredStatus() mismatch (-want +got):\n%s", diff)
			}
			for typ, msg := range tc.wantMessages {
				c := findCondition(got.Conditions, typ)
				if c == nil {
					t.Errorf("condition %s missing", typ)
					continue
				}
				if c.Message != msg {
					t.Errorf("condition %s message = %q, want %q", typ, c.Message, msg)
				}
			}
			// The observed Farm's status is the caller's: desiredStatus must not write into it.
			if diff := cmp.Diff(getFarm(t, c, k).Status, farm.Status); diff != "" {
				t.Errorf("desiredStatus() modified the current status (-before +after):\n%s", diff)
			}
		})
	}
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// aliceStatus is, written by hand, the complete status of alice/spark (min 2, generation 1) with
// two running executors, its conditions set at ts.
func aliceStatus(ts metav1.Time) farmv1alpha1.FarmStatus {
	return farmv1alpha1.FarmStatus{
		AllExecutors:       2,
		RunningExecutors:   2,
		Selector:           "spark-role=executor",
		ObservedGeneration: 1,
		Conditions: []metav1.Condition{
			{Type: ConditionGuaranteeMet, Status: metav1.ConditionTrue, Reason: "AtOrAboveMinimum", Message: "2 executors assigned, minimum 2", ObservedGeneration: 1, LastTransitionTime: ts},
			{Type: ConditionBorrowing, Status: metav1.ConditionFalse, Reason: "AtOrBelowMinimum", Message: "2 executors assigned, minimum 2", ObservedGeneration: 1, LastTransitionTime: ts},
			{Type: ConditionReclaiming, Status: metav1.ConditionFalse, Reason: "NoReclaim", Message: "no executor is being reclaimed", ObservedGeneration: 1, LastTransitionTime: ts},
			{Type: ConditionConflict, Status: metav1.ConditionFalse, Reason: "NoOverlap", Message: "no older Farm owns executors this Farm selects", ObservedGeneration: 1, LastTransitionTime: ts},
		},
	}
}

func TestFarmReconcilerWritesOnlyChanges(t *testing.T) {
	aliceKey := key("alice", "spark")
	twoRunning := []*corev1.Pod{
		makeExec("alice", "run-1").running(0).obj(),
		makeExec("alice", "run-2").running(0).obj(),
	}
	withScheduler := func(s farmv1alpha1.FarmStatus, triggered int32) farmv1alpha1.FarmStatus {
		s.ScaledownTriggered = triggered
		return s
	}
	farmsResource := schema.GroupResource{Group: farmv1alpha1.GroupVersion.Group, Resource: "farms"}
	tests := []struct {
		name     string
		farm     *farmv1alpha1.Farm
		pods     []*corev1.Pod
		applyErr error

		wantWrites []string
		wantErr    bool
		// wantStatus is the Farm's status afterwards (nil: the Farm does not exist).
		wantStatus *farmv1alpha1.FarmStatus
	}{
		{
			name:       "status already true: no write",
			farm:       makeFarm("alice", "spark").limits(2, 0).status(aliceStatus(at(time.Minute))).obj(),
			pods:       twoRunning,
			wantStatus: ptrTo(aliceStatus(at(time.Minute))),
		},
		{
			name:       "status true but for the scheduler's scaledownTriggered: no write, the field kept",
			farm:       makeFarm("alice", "spark").limits(2, 0).status(withScheduler(aliceStatus(at(time.Minute)), 3)).obj(),
			pods:       twoRunning,
			wantStatus: ptrTo(withScheduler(aliceStatus(at(time.Minute)), 3)),
		},
		{
			name:       "never written: one write",
			farm:       makeFarm("alice", "spark").limits(2, 0).obj(),
			pods:       twoRunning,
			wantWrites: []string{"apply status Farm alice/spark"},
			wantStatus: ptrTo(aliceStatus(at(10 * time.Minute))),
		},
		{
			name:       "an executor arrived: one write that leaves the scheduler's field out, the unchanged conditions keep their times",
			farm:       makeFarm("alice", "spark").limits(2, 0).status(withScheduler(aliceStatus(at(time.Minute)), 3)).obj(),
			pods:       append([]*corev1.Pod{makeExec("alice", "run-3").running(0).obj()}, twoRunning...),
			wantWrites: []string{"apply status Farm alice/spark"},
			wantStatus: func() *farmv1alpha1.FarmStatus {
				s := aliceStatus(at(time.Minute))
				s.AllExecutors, s.RunningExecutors, s.Overquota = 3, 3, 1
				s.Conditions[0].Message = "3 executors assigned, minimum 2"
				s.Conditions[1] = metav1.Condition{Type: ConditionBorrowing, Status: metav1.ConditionTrue, Reason: "AboveMinimum", Message: "1 executors borrowed beyond the minimum 2", ObservedGeneration: 1, LastTransitionTime: at(10 * time.Minute)}
				return &s
			}(),
		},
		{
			name: "the Farm is gone: no error, no write",
		},
		{
			name:       "the Farm is deleted before its status is written: no error",
			farm:       makeFarm("alice", "spark").limits(2, 0).obj(),
			pods:       twoRunning,
			applyErr:   apierrors.NewNotFound(farmsResource, "spark"),
			wantWrites: []string{"apply status Farm alice/spark"},
			wantStatus: &farmv1alpha1.FarmStatus{},
		},
		{
			name:       "the status write fails: the error is returned for a retry",
			farm:       makeFarm("alice", "spark").limits(2, 0).obj(),
			pods:       twoRunning,
			applyErr:   apierrors.NewInternalError(errTest),
			wantWrites: []string{"apply status Farm alice/spark"},
			wantErr:    true,
			wantStatus: &farmv1alpha1.FarmStatus{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			if tc.farm != nil {
				objs = append(objs, tc.farm)
			}
			for _, p := range tc.pods {
				objs = append(objs, p)
			}
			c, writes := newFakeClient(t, objs...)
			writes.applyErr = tc.applyErr
			clock := newClock(10 * time.Minute)
			r := &FarmReconciler{Client: c, FailedRetention: time.Minute, now: clock.now}

			res, err := r.Reconcile(t.Context(), reconcile.Request{NamespacedName: aliceKey})

			if (err != nil) != tc.wantErr {
				t.Fatalf("Reconcile() error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(reconcile.Result{}, res); diff != "" {
				t.Errorf("Reconcile() result mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWrites, writes.take()); diff != "" {
				t.Errorf("writes mismatch (-want +got):\n%s", diff)
			}
			for _, a := range writes.applied {
				checkStatusApply(t, a)
			}
			if tc.wantStatus == nil {
				return
			}
			got := getFarm(t, c, aliceKey)
			opts := []cmp.Option{conditionsByType, cmpopts.EquateEmpty()}
			if len(tc.wantWrites) > 0 {
				// The fake client re-serialises a status apply as the whole typed status, so it
				// cannot show which fields an apply leaves to others; checkStatusApply checks
				// the apply as sent instead.
				opts = append(opts, cmpopts.IgnoreFields(farmv1alpha1.FarmStatus{}, "ScaledownTriggered"))
			}
			if diff := cmp.Diff(*tc.wantStatus, got.Status, opts...); diff != "" {
				t.Errorf("Farm status mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkStatusApply checks a Farm status apply as sent: by the controller's field manager, forced,
// naming only the Farm, and never mentioning status.scaledownTriggered, which farm-scheduler
// owns (an apply that mentions a field takes it over).
func checkStatusApply(t *testing.T, a statusApply) {
	t.Helper()
	if a.fieldManager != FieldManager || !a.force {
		t.Errorf("status applied by %q (force %v), want %q with force", a.fieldManager, a.force, FieldManager)
	}
	md, _ := a.body["metadata"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"name": "spark", "namespace": "alice"}, md); diff != "" {
		t.Errorf("applied metadata mismatch (-want +got):\n%s", diff)
	}
	if _, ok := a.body["spec"]; ok {
		t.Errorf("status apply carries a spec: %v", a.body["spec"])
	}
	st, ok := a.body["status"].(map[string]any)
	if !ok {
		t.Fatalf("status apply without a status: %v", a.body)
	}
	if v, ok := st["scaledownTriggered"]; ok {
		t.Errorf("status apply claims scaledownTriggered (= %v), farm-scheduler's field", v)
	}
}

// errTest is the cause of an error the API server might return.
var errTest = errors.New("etcd is unhappy")

// TestFarmReconcilerIdle follows one Farm through reconciles: the first writes, later ones on an
// unchanged cluster write nothing however much time passes, the waiting executor starting causes
// exactly one write, and after it the controller is idle again.
func TestFarmReconcilerIdle(t *testing.T) {
	aliceKey := key("alice", "spark")
	c, writes := newFakeClient(t, makeFarm("alice", "spark").limits(2, 0).obj(),
		makeExec("alice", "run-1").running(0).obj(),
		makeExec("alice", "wait-1").obj(),
	)
	clock := newClock(10 * time.Minute)
	r := &FarmReconciler{Client: c, FailedRetention: time.Minute, now: clock.now}
	req := reconcile.Request{NamespacedName: aliceKey}

	steps := []struct {
		name    string
		advance time.Duration
		// change alters the cluster before the reconcile.
		change      func(t *testing.T)
		wantWrites  int
		wantRunning int32
		// wantGuaranteeMet is GuaranteeMet's status, wantGuaranteeSince when it last changed.
		wantGuaranteeSince metav1.Time
		wantGuaranteeMet   metav1.ConditionStatus
	}{
		{name: "first observation", wantWrites: 1, wantRunning: 1, wantGuaranteeMet: metav1.ConditionFalse, wantGuaranteeSince: at(10 * time.Minute)},
		{name: "a minute later, nothing changed", advance: time.Minute, wantRunning: 1, wantGuaranteeMet: metav1.ConditionFalse, wantGuaranteeSince: at(10 * time.Minute)},
		{name: "an hour later, nothing changed", advance: time.Hour, wantRunning: 1, wantGuaranteeMet: metav1.ConditionFalse, wantGuaranteeSince: at(10 * time.Minute)},
		{
			name:    "the waiting executor starts",
			advance: time.Minute,
			change: func(t *testing.T) {
				p := &corev1.Pod{}
				if err := c.Get(t.Context(), key("alice", "wait-1"), p); err != nil {
					t.Fatal(err)
				}
				p.Spec.NodeName = "node-1"
				if err := c.Update(t.Context(), p); err != nil {
					t.Fatal(err)
				}
				p.Status.Phase = corev1.PodRunning
				if err := c.Status().Update(t.Context(), p); err != nil {
					t.Fatal(err)
				}
			},
			wantWrites: 1, wantRunning: 2, wantGuaranteeMet: metav1.ConditionTrue, wantGuaranteeSince: at(72 * time.Minute),
		},
		{name: "idle again", advance: time.Minute, wantRunning: 2, wantGuaranteeMet: metav1.ConditionTrue, wantGuaranteeSince: at(72 * time.Minute)},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		if s.change != nil {
			s.change(t)
			writes.take()
		}
		if _, err := r.Reconcile(t.Context(), req); err != nil {
			t.Fatalf("%s: Reconcile() error = %v", s.name, err)
		}
		if got := writes.take(); len(got) != s.wantWrites {
			t.Errorf("%s: %d writes %v, want %d", s.name, len(got), got, s.wantWrites)
		}
		f := getFarm(t, c, aliceKey)
		if f.Status.RunningExecutors != s.wantRunning {
			t.Errorf("%s: runningExecutors = %d, want %d", s.name, f.Status.RunningExecutors, s.wantRunning)
		}
		g := findCondition(f.Status.Conditions, ConditionGuaranteeMet)
		if g == nil {
			t.Fatalf("%s: no GuaranteeMet condition", s.name)
		}
		if g.Status != s.wantGuaranteeMet || !g.LastTransitionTime.Equal(&s.wantGuaranteeSince) {
			t.Errorf("%s: GuaranteeMet = %s since %s, want %s since %s", s.name, g.Status, g.LastTransitionTime, s.wantGuaranteeMet, s.wantGuaranteeSince)
		}
	}
}

// failedEvent parses the one event of a cleanup batch: its count and the executors it names.
func failedEvent(t *testing.T, ev string, retention time.Duration) (int, []string) {
	t.Helper()
	prefix := "Normal FailedExecutorsCleaned Deleted "
	if !strings.HasPrefix(ev, prefix) {
		t.Fatalf("event %q is not a cleanup event", ev)
	}
	var n int
	rest := strings.TrimPrefix(ev, prefix)
	head, list, ok := strings.Cut(rest, ": [")
	if !ok || !strings.HasSuffix(list, "]") {
		t.Fatalf("event %q does not list the executors", ev)
	}
	var after string
	if _, err := fmt.Sscanf(head, "%d Failed executors after %s", &n, &after); err != nil {
		t.Fatalf("event %q: %v", ev, err)
	}
	if after != retention.String() {
		t.Errorf("event %q names the retention %s, want %s", ev, after, retention)
	}
	names := strings.Fields(strings.TrimSuffix(list, "]"))
	sort.Strings(names)
	return n, names
}

// drain returns the events recorded so far.
func drain(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestCleanUpFailedExecutors(t *testing.T) {
	const retention = time.Minute
	now := 10 * time.Minute
	alice := makeFarm("alice", "spark").limits(1, 0).obj()
	running := makeExec("alice", "run-1").running(0).obj()
	tests := []struct {
		name  string
		farms []*farmv1alpha1.Farm
		pods  []*corev1.Pod
		// reconciled is the Farm reconciled; alice/spark when empty.
		reconciled types.NamespacedName
		// deleteErr answers the delete of the named pod.
		deleteErr map[string]error

		wantDeleteCalls []string
		wantRemaining   map[string][]string
		// wantEvent is the batch's event, as count and sorted names; nil for no event.
		wantEvent   []string
		wantRequeue time.Duration
		wantErr     bool
	}{
		{
			name:          "a Failed executor younger than the retention is kept; look again when it expires",
			farms:         []*farmv1alpha1.Farm{alice},
			pods:          []*corev1.Pod{running, makeExec("alice", "failed-1").failed().finishedAt(now - 20*time.Second).obj()},
			wantRemaining: map[string][]string{"alice": {"failed-1", "run-1"}},
			wantRequeue:   40 * time.Second,
		},
		{
			name:            "a Failed executor older than the retention is deleted, with an event",
			farms:           []*farmv1alpha1.Farm{alice},
			pods:            []*corev1.Pod{running, makeExec("alice", "failed-1").failed().finishedAt(now - 2*time.Minute).obj()},
			wantDeleteCalls: []string{"failed-1"},
			wantRemaining:   map[string][]string{"alice": {"run-1"}},
			wantEvent:       []string{"failed-1"},
		},
		{
			name:            "exactly at the retention: deleted",
			farms:           []*farmv1alpha1.Farm{alice},
			pods:            []*corev1.Pod{makeExec("alice", "failed-1").failed().finishedAt(now - retention).obj()},
			wantDeleteCalls: []string{"failed-1"},
			wantRemaining:   map[string][]string{"alice": {}},
			wantEvent:       []string{"failed-1"},
		},
		{
			name:  "a batch: every expired executor deleted under one event; the latest container finish decides; requeue for the first to expire",
			farms: []*farmv1alpha1.Farm{alice},
			pods: []*corev1.Pod{
				running,
				makeExec("alice", "old-1").failed().finishedAt(now - 5*time.Minute).obj(),
				makeExec("alice", "old-2").failed().finishedAt(now - 61*time.Second).obj(),
				makeExec("alice", "two-containers").failed().finishedAt(now - 8*time.Minute).finishedAt(now - 30*time.Second).obj(),
				makeExec("alice", "young").failed().finishedAt(now - 45*time.Second).obj(),
			},
			wantDeleteCalls: []string{"old-1", "old-2"},
			wantRemaining:   map[string][]string{"alice": {"run-1", "two-containers", "young"}},
			wantEvent:       []string{"old-1", "old-2"},
			wantRequeue:     15 * time.Second,
		},
		{
			name:  "without a finished container, the Ready transition dates the failure, else the creation",
			farms: []*farmv1alpha1.Farm{alice},
			pods: []*corev1.Pod{
				makeExec("alice", "ready-changed").failed().created(time.Minute).readyChangedAt(now - 30*time.Second).obj(),
				makeExec("alice", "created-only").failed().created(time.Minute).obj(),
				makeExec("alice", "created-recently").failed().created(now - 50*time.Second).obj(),
			},
			wantDeleteCalls: []string{"created-only"},
			wantRemaining:   map[string][]string{"alice": {"created-recently", "ready-changed"}},
			wantEvent:       []string{"created-only"},
			wantRequeue:     10 * time.Second,
		},
		{
			name:  "running, pending, succeeded and already terminating executors are left alone",
			farms: []*farmv1alpha1.Farm{alice},
			pods: []*corev1.Pod{
				running,
				makeExec("alice", "wait-1").obj(),
				makeExec("alice", "succeeded").succeeded().finishedAt(time.Minute).obj(),
				makeExec("alice", "failed-terminating").failed().finishedAt(time.Minute).terminating().obj(),
			},
			wantRemaining: map[string][]string{"alice": {"failed-terminating", "run-1", "succeeded", "wait-1"}},
		},
		{
			// Spark counts a Failed executor as a failure only if it sees it Failed, not deleted.
			name:  "a Failed executor is its running driver's to count, unless the driver marked it inactive",
			farms: []*farmv1alpha1.Farm{alice},
			pods: []*corev1.Pod{
				makePod("alice", "driver").label(sparkKey, "driver").running(0).obj(),
				makePod("alice", "done").label(sparkKey, "driver").succeeded().finishedAt(time.Minute).obj(),
				makeExec("alice", "counting").ownedBy("driver").failed().finishedAt(time.Minute).obj(),
				makeExec("alice", "counted").ownedBy("driver").label(quota.SparkInactiveLabel, "true").failed().finishedAt(time.Minute).obj(),
				makeExec("alice", "driver-done").ownedBy("done").failed().finishedAt(time.Minute).obj(),
				makeExec("alice", "driver-gone").ownedBy("gone").failed().finishedAt(time.Minute).obj(),
			},
			wantDeleteCalls: []string{"counted", "driver-done", "driver-gone"},
			wantRemaining:   map[string][]string{"alice": {"counting", "done", "driver"}},
			wantEvent:       []string{"counted", "driver-done", "driver-gone"},
			wantRequeue:     retention,
		},
		{
			name: "Failed pods of another Farm, of no Farm, or no executor are never touched",
			farms: []*farmv1alpha1.Farm{
				alice,
				makeFarm("alice", "condor").selector(condorKey, condorValue).obj(),
				makeFarm("bob", "spark").obj(),
			},
			pods: []*corev1.Pod{
				makePod("alice", "driver").label(sparkKey, "driver").failed().finishedAt(time.Minute).obj(),
				makePod("alice", "unlabelled").failed().finishedAt(time.Minute).obj(),
				makePod("alice", "worker").label(condorKey, condorValue).failed().finishedAt(time.Minute).obj(),
				makeExec("bob", "failed-1").failed().finishedAt(time.Minute).obj(),
				makeExec("carol", "failed-1").failed().finishedAt(time.Minute).obj(),
			},
			wantRemaining: map[string][]string{
				"alice": {"driver", "unlabelled", "worker"},
				"bob":   {"failed-1"},
				"carol": {"failed-1"},
			},
		},
		{
			name: "overlapping Farms: the younger never deletes the older one's executors",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "old").created(-time.Hour).obj(),
				makeFarm("alice", "young").obj(),
			},
			pods:          []*corev1.Pod{makeExec("alice", "failed-1").failed().finishedAt(time.Minute).obj()},
			reconciled:    key("alice", "young"),
			wantRemaining: map[string][]string{"alice": {"failed-1"}},
		},
		{
			name: "overlapping Farms: the older one cleans up the executors it owns",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "old").created(-time.Hour).obj(),
				makeFarm("alice", "young").obj(),
			},
			pods:            []*corev1.Pod{makeExec("alice", "failed-1").failed().finishedAt(time.Minute).obj()},
			reconciled:      key("alice", "old"),
			wantDeleteCalls: []string{"failed-1"},
			wantRemaining:   map[string][]string{"alice": {}},
			wantEvent:       []string{"failed-1"},
		},
		{
			name:  "an executor deleted meanwhile is no error and not in the event",
			farms: []*farmv1alpha1.Farm{alice},
			pods: []*corev1.Pod{
				makeExec("alice", "failed-1").failed().finishedAt(time.Minute).obj(),
				makeExec("alice", "failed-2").failed().finishedAt(time.Minute).obj(),
			},
			deleteErr:       map[string]error{"failed-1": apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "failed-1")},
			wantDeleteCalls: []string{"failed-1", "failed-2"},
			wantRemaining:   map[string][]string{"alice": {"failed-1"}},
			wantEvent:       []string{"failed-2"},
		},
		{
			name:            "a delete the API server refuses is an error",
			farms:           []*farmv1alpha1.Farm{alice},
			pods:            []*corev1.Pod{makeExec("alice", "failed-1").failed().finishedAt(time.Minute).obj()},
			deleteErr:       map[string]error{"failed-1": apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "failed-1", errTest)},
			wantDeleteCalls: []string{"failed-1"},
			wantRemaining:   map[string][]string{"alice": {"failed-1"}},
			wantErr:         true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			for _, f := range tc.farms {
				objs = append(objs, f.DeepCopy())
			}
			for _, p := range tc.pods {
				objs = append(objs, p.DeepCopy())
			}
			c, writes := newFakeClient(t, objs...)
			writes.deleteErr = func(name string) error { return tc.deleteErr[name] }
			rec := events.NewFakeRecorder(10)
			r := &FarmReconciler{Client: c, FailedRetention: retention, Recorder: rec, now: newClock(now).now}
			k := tc.reconciled
			if k == (types.NamespacedName{}) {
				k = key("alice", "spark")
			}
			metric := failedCleaned.WithLabelValues(k.Namespace, k.Name)
			before := testutil.ToFloat64(metric)

			res, err := r.Reconcile(t.Context(), reconcile.Request{NamespacedName: k})

			if (err != nil) != tc.wantErr {
				t.Fatalf("Reconcile() error = %v, want error %v", err, tc.wantErr)
			}
			if res.RequeueAfter != tc.wantRequeue {
				t.Errorf("Reconcile() RequeueAfter = %v, want %v", res.RequeueAfter, tc.wantRequeue)
			}
			var deletes []string
			for _, w := range writes.take() {
				if name, ok := strings.CutPrefix(w, "delete *v1.Pod alice/"); ok {
					deletes = append(deletes, name)
				} else if strings.HasPrefix(w, "delete") {
					t.Errorf("unexpected delete %q", w)
				}
			}
			sort.Strings(deletes)
			if diff := cmp.Diff(tc.wantDeleteCalls, deletes); diff != "" {
				t.Errorf("deletes mismatch (-want +got):\n%s", diff)
			}
			for ns, want := range tc.wantRemaining {
				if diff := cmp.Diff(want, podNames(t, c, ns)); diff != "" {
					t.Errorf("pods left in %s mismatch (-want +got):\n%s", ns, diff)
				}
			}
			evs := drain(rec)
			if tc.wantEvent == nil {
				if len(evs) != 0 {
					t.Errorf("events = %q, want none", evs)
				}
			} else {
				if len(evs) != 1 {
					t.Fatalf("events = %q, want exactly one for the batch", evs)
				}
				n, names := failedEvent(t, evs[0], retention)
				if n != len(tc.wantEvent) {
					t.Errorf("event counts %d deletions, want %d", n, len(tc.wantEvent))
				}
				if diff := cmp.Diff(tc.wantEvent, names); diff != "" {
					t.Errorf("event names mismatch (-want +got):\n%s", diff)
				}
			}
			if got := testutil.ToFloat64(metric) - before; got != float64(len(tc.wantEvent)) {
				t.Errorf("%s grew by %v, want %d", "farm_failed_executors_deleted_total", got, len(tc.wantEvent))
			}

			// A second pass at the same time finds nothing more to do: one event per batch.
			if tc.wantErr {
				return
			}
			if _, err := r.Reconcile(t.Context(), reconcile.Request{NamespacedName: k}); err != nil {
				t.Fatalf("second Reconcile() error = %v", err)
			}
			if evs := drain(rec); len(evs) != 0 {
				t.Errorf("second pass recorded events %q, want none", evs)
			}
		})
	}
}

func TestFarmsSelecting(t *testing.T) {
	aliceSpark := makeFarm("alice", "spark").obj()
	tests := []struct {
		name  string
		farms []*farmv1alpha1.Farm
		obj   client.Object
		want  []reconcile.Request
	}{
		{
			name:  "an executor maps to its Farm",
			farms: []*farmv1alpha1.Farm{aliceSpark, makeFarm("bob", "spark").obj()},
			obj:   makeExec("alice", "spark-exec-1").obj(),
			want:  []reconcile.Request{{NamespacedName: key("alice", "spark")}},
		},
		{
			name:  "a pod whose name has no dash maps like any other",
			farms: []*farmv1alpha1.Farm{aliceSpark},
			obj:   makeExec("alice", "executor").obj(),
			want:  []reconcile.Request{{NamespacedName: key("alice", "spark")}},
		},
		{
			name:  "a pod in a namespace without a Farm maps to nothing",
			farms: []*farmv1alpha1.Farm{aliceSpark},
			obj:   makeExec("carol", "spark-exec-1").obj(),
		},
		{
			name:  "a pod no Farm selects maps to nothing",
			farms: []*farmv1alpha1.Farm{aliceSpark},
			obj:   makePod("alice", "spark-driver").label(sparkKey, "driver").obj(),
		},
		{
			name:  "a pod with the key but another value maps to nothing",
			farms: []*farmv1alpha1.Farm{aliceSpark, makeFarm("alice", "condor").selector(condorKey, condorValue).obj()},
			obj:   makePod("alice", "worker").label(condorKey, "other").obj(),
		},
		{
			name: "overlapping Farms: both are enqueued, owner and the Farm in conflict",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "old").created(-time.Hour).obj(),
				makeFarm("alice", "young").obj(),
				makeFarm("alice", "condor").selector(condorKey, condorValue).obj(),
			},
			obj: makeExec("alice", "exec").obj(),
			want: []reconcile.Request{
				{NamespacedName: key("alice", "old")},
				{NamespacedName: key("alice", "young")},
			},
		},
		{
			name:  "a pod selected by two farm types enqueues both",
			farms: []*farmv1alpha1.Farm{aliceSpark, makeFarm("alice", "condor").selector(condorKey, condorValue).obj()},
			obj:   makeExec("alice", "both").label(condorKey, condorValue).obj(),
			want: []reconcile.Request{
				{NamespacedName: key("alice", "condor")},
				{NamespacedName: key("alice", "spark")},
			},
		},
		{
			name:  "not a pod: nothing",
			farms: []*farmv1alpha1.Farm{aliceSpark},
			obj:   makeFarm("alice", "other").obj(),
		},
	}
	byName := cmpopts.SortSlices(func(a, b reconcile.Request) bool { return a.String() < b.String() })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			for _, f := range tc.farms {
				objs = append(objs, f.DeepCopy())
			}
			c, writes := newFakeClient(t, objs...)
			r := &FarmReconciler{Client: c}

			got := r.farmsSelecting(t.Context(), tc.obj)

			if diff := cmp.Diff(tc.want, got, byName, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("farmsSelecting() mismatch (-want +got):\n%s", diff)
			}
			if w := writes.take(); len(w) != 0 {
				t.Errorf("farmsSelecting() wrote %v", w)
			}
		})
	}
}

// TestObserveOwnership checks which executors each of overlapping Farms owns (pkg/quota decides
// by age), since cleanup and scale-down act only on owned executors.
func TestObserveOwnership(t *testing.T) {
	tests := []struct {
		name  string
		farms []*farmv1alpha1.Farm
		pods  []*corev1.Pod
		// want maps each Farm to the executors it owns, sorted, and the Farm it conflicts with.
		wantOwned    map[string][]string
		wantConflict map[string]string
	}{
		{
			name: "the older Farm owns every executor both select; the younger conflicts with it",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "young").obj(),
				makeFarm("alice", "old").created(-time.Hour).obj(),
			},
			pods:         []*corev1.Pod{makeExec("alice", "exec-1").running(0).obj(), makeExec("alice", "exec-2").obj()},
			wantOwned:    map[string][]string{"alice/old": {"exec-1", "exec-2"}, "alice/young": nil},
			wantConflict: map[string]string{"alice/old": "", "alice/young": "alice/old"},
		},
		{
			name: "same creation second: the smaller name is older",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "zeta").obj(),
				makeFarm("alice", "alpha").obj(),
			},
			pods:         []*corev1.Pod{makeExec("alice", "exec-1").running(0).obj()},
			wantOwned:    map[string][]string{"alice/alpha": {"exec-1"}, "alice/zeta": nil},
			wantConflict: map[string]string{"alice/alpha": "", "alice/zeta": "alice/alpha"},
		},
		{
			name: "Farms of different types share no executors",
			farms: []*farmv1alpha1.Farm{
				makeFarm("alice", "spark").obj(),
				makeFarm("alice", "condor").selector(condorKey, condorValue).created(-time.Hour).obj(),
			},
			pods: []*corev1.Pod{
				makeExec("alice", "exec-1").running(0).obj(),
				makePod("alice", "worker-1").label(condorKey, condorValue).running(0).obj(),
			},
			wantOwned:    map[string][]string{"alice/spark": {"exec-1"}, "alice/condor": {"worker-1"}},
			wantConflict: map[string]string{"alice/spark": "", "alice/condor": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			for _, f := range tc.farms {
				objs = append(objs, f)
			}
			for _, p := range tc.pods {
				objs = append(objs, p)
			}
			c, _ := newFakeClient(t, objs...)
			gotOwned := map[string][]string{}
			gotConflict := map[string]string{}
			for _, f := range tc.farms {
				o, err := observe(t.Context(), c, getFarm(t, c, quota.Key(f)))
				if err != nil {
					t.Fatalf("observe(%s) error = %v", quota.Key(f), err)
				}
				var names []string
				for _, p := range o.owned {
					names = append(names, p.Name)
				}
				sort.Strings(names)
				gotOwned[quota.Key(f).String()] = names
				gotConflict[quota.Key(f).String()] = o.conflictWith
			}
			if diff := cmp.Diff(tc.wantOwned, gotOwned); diff != "" {
				t.Errorf("owned executors mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantConflict, gotConflict); diff != "" {
				t.Errorf("conflicts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBelowMinWaitingMetric follows farm_below_min_waiting_seconds_total with the injected clock:
// time accumulates between observations while the farm waits below its minimum, and stops once
// it does not.
func TestBelowMinWaitingMetric(t *testing.T) {
	farm := makeFarm("metrics", "spark").limits(2, 0).obj()
	c, _ := newFakeClient(t, farm, makeExec("metrics", "wait-1").obj())
	clock := newClock(0)
	r := &FarmReconciler{Client: c, FailedRetention: time.Minute, now: clock.now}
	req := reconcile.Request{NamespacedName: key("metrics", "spark")}
	metric := belowMinWaiting.WithLabelValues("metrics", "spark")
	start := testutil.ToFloat64(metric)

	steps := []struct {
		name    string
		advance time.Duration
		// satisfy lowers the minimum to 0 before the reconcile: nothing is waiting for a guarantee.
		satisfy   bool
		wantTotal float64
	}{
		{name: "first seen waiting: nothing yet", wantTotal: 0},
		{name: "30s later, still waiting", advance: 30 * time.Second, wantTotal: 30},
		{name: "15s later, still waiting", advance: 15 * time.Second, wantTotal: 45},
		{name: "20s later, no longer waiting: the last stretch counts", advance: 20 * time.Second, satisfy: true, wantTotal: 65},
		{name: "an hour later, not waiting: nothing more", advance: time.Hour, wantTotal: 65},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		if s.satisfy {
			f := getFarm(t, c, req.NamespacedName)
			f.Spec.MinExecutors = 0
			if err := c.Update(t.Context(), f); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.Reconcile(t.Context(), req); err != nil {
			t.Fatalf("%s: Reconcile() error = %v", s.name, err)
		}
		if got := testutil.ToFloat64(metric) - start; got != s.wantTotal {
			t.Errorf("%s: waited %vs in total, want %vs", s.name, got, s.wantTotal)
		}
	}
}
