package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// execs are n running executors of alice, exec-1 the oldest (started at minute i).
func execs(n int) []*corev1.Pod {
	var pods []*corev1.Pod
	for i := 1; i <= n; i++ {
		pods = append(pods, makeExec("alice", fmt.Sprintf("exec-%d", i)).created(time.Duration(i)*time.Minute).running(time.Duration(i)*time.Minute).obj())
	}
	return pods
}

// evictionRecorder is a fake clientset holding pods that records the evictions asked of it and
// answers them with refuse[name] (nil: accepted).
type evictionRecorder struct {
	cs      *kubefake.Clientset
	evicted []string
}

func newEvictionRecorder(pods []*corev1.Pod, refuse map[string]error) *evictionRecorder {
	var objs []runtime.Object
	for _, p := range pods {
		objs = append(objs, p.DeepCopy())
	}
	r := &evictionRecorder{cs: kubefake.NewClientset(objs...)}
	r.cs.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		e := action.(k8stesting.CreateAction).GetObject().(*policyv1.Eviction)
		r.evicted = append(r.evicted, e.Name)
		return true, nil, refuse[e.Name]
	})
	return r
}

// mark returns the reason of Farm's eviction mark on a pod of the clientset, with its status.
func (r *evictionRecorder) mark(t *testing.T, name string) string {
	t.Helper()
	p, err := r.cs.CoreV1().Pods("alice").Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting pod %s: %v", name, err)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == quota.EvictedCondition {
			return fmt.Sprintf("%s=%s", c.Reason, c.Status)
		}
	}
	return ""
}

func TestScaleDown(t *testing.T) {
	const interval = time.Second
	podsResource := schema.GroupResource{Resource: "pods"}
	type step struct {
		// at is the clock, from the start of the case.
		at time.Duration
		// pods, when set, are the farm's pods from this step on.
		pods []*corev1.Pod

		wantEvicted []string
		wantRequeue time.Duration
		// wantTriggers is the farm's trigger count after the step (0: no counter kept).
		wantTriggers int32
		wantErr      bool
	}
	tests := []struct {
		name   string
		farm   *farmv1alpha1.Farm
		pods   []*corev1.Pod
		refuse map[string]error
		steps  []step
		// wantMarks are the eviction marks left on pods at the end, "reason=status".
		wantMarks map[string]string
		// wantMetric is how much farm_scaledown_evictions_total grows.
		wantMetric float64
	}{
		{
			name: "after N triggers spaced by the interval, the newest executors beyond maxExecutors are evicted",
			farm: makeFarm("alice", "spark").limits(2, 3).triggers(3).obj(),
			pods: execs(6),
			steps: []step{
				{at: 0, wantRequeue: interval, wantTriggers: 1},
				{at: 500 * time.Millisecond, wantRequeue: interval, wantTriggers: 1},
				{at: interval, wantRequeue: interval, wantTriggers: 2},
				{at: 2 * interval, wantEvicted: []string{"exec-6", "exec-5", "exec-4"}},
			},
			wantMarks: map[string]string{
				"exec-6": quota.ReasonScaledDown + "=True", "exec-5": quota.ReasonScaledDown + "=True", "exec-4": quota.ReasonScaledDown + "=True",
				"exec-3": "", "exec-2": "", "exec-1": "",
			},
			wantMetric: 3,
		},
		{
			name: "scaledownAfterNTriggers 0 means at once",
			farm: makeFarm("alice", "spark").limits(1, 2).triggers(0).obj(),
			pods: execs(3),
			steps: []step{
				{at: 0, wantEvicted: []string{"exec-3"}},
			},
			wantMarks:  map[string]string{"exec-3": quota.ReasonScaledDown + "=True", "exec-2": "", "exec-1": ""},
			wantMetric: 1,
		},
		{
			name: "scaledownAfterNTriggers 1 means at once",
			farm: makeFarm("alice", "spark").limits(1, 2).triggers(1).obj(),
			pods: execs(4),
			steps: []step{
				{at: 0, wantEvicted: []string{"exec-4", "exec-3"}},
			},
			wantMetric: 2,
		},
		{
			name: "no ceiling (maxExecutors 0): never scaled down",
			farm: makeFarm("alice", "spark").limits(1, 0).triggers(1).obj(),
			pods: execs(10),
			steps: []step{
				{at: 0},
				{at: interval},
				{at: time.Hour},
			},
		},
		{
			name: "at the ceiling: nothing, no counter",
			farm: makeFarm("alice", "spark").limits(1, 3).triggers(1).obj(),
			pods: execs(3),
			steps: []step{
				{at: 0},
				{at: interval},
			},
		},
		{
			name: "only assigned executors count and go: pending, terminating and Failed ones are left",
			farm: makeFarm("alice", "spark").limits(1, 2).triggers(1).obj(),
			pods: append(execs(3),
				makeExec("alice", "wait-1").created(10*time.Minute).obj(),
				makeExec("alice", "leaving").created(9*time.Minute).running(9*time.Minute).terminating().obj(),
				makeExec("alice", "failed").created(8*time.Minute).failed().obj(),
			),
			steps: []step{
				{at: 0, wantEvicted: []string{"exec-3"}},
			},
			wantMarks:  map[string]string{"exec-3": quota.ReasonScaledDown + "=True", "wait-1": "", "leaving": "", "failed": ""},
			wantMetric: 1,
		},
		{
			name: "never below minExecutors, even under a ceiling set below it",
			farm: makeFarm("alice", "spark").limits(4, 2).triggers(1).obj(),
			pods: execs(6),
			steps: []step{
				{at: 0, wantEvicted: []string{"exec-6", "exec-5"}},
			},
			wantMetric: 2,
		},
		{
			name: "the counter resets when the farm is back under its ceiling",
			farm: makeFarm("alice", "spark").limits(1, 3).triggers(3).obj(),
			pods: execs(4),
			steps: []step{
				{at: 0, wantRequeue: interval, wantTriggers: 1},
				{at: interval, wantRequeue: interval, wantTriggers: 2},
				{at: 2 * interval, pods: execs(3)},
				{at: 3 * interval, pods: execs(4), wantRequeue: interval, wantTriggers: 1},
				{at: 4 * interval, wantRequeue: interval, wantTriggers: 2},
				{at: 5 * interval, wantEvicted: []string{"exec-4"}},
			},
			wantMetric: 1,
		},
		{
			name: "a lowered ceiling that is met again before N triggers evicts nothing",
			farm: makeFarm("alice", "spark").limits(1, 3).triggers(2).obj(),
			pods: execs(4),
			steps: []step{
				{at: 0, wantRequeue: interval, wantTriggers: 1},
				{at: interval / 2, pods: execs(3)},
				{at: interval, pods: execs(4), wantRequeue: interval, wantTriggers: 1},
			},
		},
		{
			name: "victims in the scheduler's order: lowest priority first, then the youngest",
			farm: makeFarm("alice", "spark").limits(0, 2).triggers(1).obj(),
			pods: []*corev1.Pod{
				makeExec("alice", "oldest-high").priority(10).running(0).obj(),
				makeExec("alice", "old-low").priority(0).running(time.Minute).obj(),
				makeExec("alice", "mid-high").priority(10).running(3 * time.Minute).obj(),
				makeExec("alice", "young-high").priority(10).running(5 * time.Minute).obj(),
			},
			steps: []step{
				{at: 0, wantEvicted: []string{"old-low", "young-high"}},
			},
			wantMetric: 2,
		},
		{
			name: "a refused eviction is an error, leaves no mark, and the others still go; an executor already gone is none",
			farm: makeFarm("alice", "spark").limits(0, 1).triggers(1).obj(),
			pods: execs(4),
			refuse: map[string]error{
				"exec-4": apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0),
				"exec-3": apierrors.NewNotFound(podsResource, "exec-3"),
			},
			steps: []step{
				{at: 0, wantEvicted: []string{"exec-4", "exec-3", "exec-2"}, wantErr: true},
			},
			wantMarks: map[string]string{
				"exec-4": "",
				"exec-3": "",
				"exec-2": quota.ReasonScaledDown + "=True",
				"exec-1": "",
			},
			wantMetric: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock(0)
			s := &scaleDown{interval: interval, now: clock.now, triggers: map[types.NamespacedName]*scaleDownTrigger{}}
			k := quota.Key(tc.farm)
			metric := scaleDownEvictions.WithLabelValues(k.Namespace, k.Name)
			before := testutil.ToFloat64(metric)
			pods := tc.pods
			var rec *evictionRecorder
			for i, st := range tc.steps {
				clock.t = baseTime.Add(st.at)
				if st.pods != nil {
					pods = st.pods
				}
				objs := []client.Object{tc.farm.DeepCopy()}
				for _, p := range pods {
					objs = append(objs, p.DeepCopy())
				}
				c, _ := newFakeClient(t, objs...)
				o, err := observe(t.Context(), c, getFarm(t, c, k))
				if err != nil {
					t.Fatalf("step %d: observe() error = %v", i, err)
				}
				rec = newEvictionRecorder(pods, tc.refuse)
				s.clientset = rec.cs

				requeue, err := s.run(t.Context(), o)

				if (err != nil) != st.wantErr {
					t.Errorf("step %d: run() error = %v, want error %v", i, err, st.wantErr)
				}
				if requeue != st.wantRequeue {
					t.Errorf("step %d: run() requeue = %v, want %v", i, requeue, st.wantRequeue)
				}
				if diff := cmp.Diff(st.wantEvicted, rec.evicted, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("step %d: evictions mismatch (-want +got):\n%s", i, diff)
				}
				var triggers int32
				if tr, ok := s.triggers[k]; ok {
					triggers = tr.count
				}
				if triggers != st.wantTriggers {
					t.Errorf("step %d: trigger count = %d, want %d", i, triggers, st.wantTriggers)
				}
			}
			for name, want := range tc.wantMarks {
				if got := rec.mark(t, name); got != want {
					t.Errorf("pod %s eviction mark = %q, want %q", name, got, want)
				}
			}
			if got := testutil.ToFloat64(metric) - before; got != tc.wantMetric {
				t.Errorf("farm_scaledown_evictions_total grew by %v, want %v", got, tc.wantMetric)
			}
		})
	}
}

// TestScaleDownCountsFarmsApart checks that one farm's triggers never count for another.
func TestScaleDownCountsFarmsApart(t *testing.T) {
	const interval = time.Second
	alice := makeFarm("alice", "spark").limits(0, 1).triggers(2).obj()
	bob := makeFarm("bob", "spark").limits(0, 1).triggers(2).obj()
	pods := append(execs(2), makeExec("bob", "exec-1").running(time.Minute).obj(), makeExec("bob", "exec-2").running(2*time.Minute).obj())
	objs := []client.Object{alice, bob}
	for _, p := range pods {
		objs = append(objs, p)
	}
	c, _ := newFakeClient(t, objs...)
	clock := newClock(0)
	rec := newEvictionRecorder(pods, nil)
	s := &scaleDown{clientset: rec.cs, interval: interval, now: clock.now, triggers: map[types.NamespacedName]*scaleDownTrigger{}}
	run := func(f *farmv1alpha1.Farm) {
		t.Helper()
		o, err := observe(t.Context(), c, getFarm(t, c, quota.Key(f)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.run(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}

	run(alice)
	clock.advance(interval)
	run(bob) // bob's first trigger, though alice's counter would be due
	if len(rec.evicted) != 0 {
		t.Fatalf("evicted %v after one trigger each", rec.evicted)
	}
	clock.advance(interval)
	run(alice)
	want := map[types.NamespacedName]int32{key("bob", "spark"): 1}
	got := map[types.NamespacedName]int32{}
	for k, tr := range s.triggers {
		got[k] = tr.count
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trigger counts mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"exec-2"}, rec.evicted); diff != "" {
		t.Errorf("evictions mismatch (-want +got):\n%s", diff)
	}
}

// TestFarmReconcilerRequeue checks that Reconcile looks again at the sooner of the scale-down
// trigger interval and the first Failed executor's retention end.
func TestFarmReconcilerRequeue(t *testing.T) {
	const interval, retention = 2 * time.Second, time.Minute
	now := 10 * time.Minute
	tests := []struct {
		name string
		farm *farmv1alpha1.Farm
		pods []*corev1.Pod
		want time.Duration
	}{
		{
			name: "above the ceiling, waiting for triggers: the interval",
			farm: makeFarm("alice", "spark").limits(0, 1).triggers(3).obj(),
			pods: execs(2),
			want: interval,
		},
		{
			name: "above the ceiling and a Failed executor expiring sooner: its time left",
			farm: makeFarm("alice", "spark").limits(0, 1).triggers(3).obj(),
			pods: append(execs(2), makeExec("alice", "failed").failed().finishedAt(now-retention+time.Second).obj()),
			want: time.Second,
		},
		{
			name: "above the ceiling and a Failed executor expiring later: the interval",
			farm: makeFarm("alice", "spark").limits(0, 1).triggers(3).obj(),
			pods: append(execs(2), makeExec("alice", "failed").failed().finishedAt(now-30*time.Second).obj()),
			want: interval,
		},
		{
			name: "under the ceiling with a Failed executor: its time left",
			farm: makeFarm("alice", "spark").limits(0, 5).triggers(3).obj(),
			pods: append(execs(2), makeExec("alice", "failed").failed().finishedAt(now-30*time.Second).obj()),
			want: 30 * time.Second,
		},
		{
			name: "scaled down at once, nothing retained: no requeue",
			farm: makeFarm("alice", "spark").limits(0, 1).triggers(1).obj(),
			pods: execs(2),
			want: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := []client.Object{tc.farm}
			for _, p := range tc.pods {
				objs = append(objs, p)
			}
			c, _ := newFakeClient(t, objs...)
			clock := newClock(now)
			r := &FarmReconciler{
				Client:          c,
				FailedRetention: retention,
				now:             clock.now,
				ScaleDown:       &scaleDown{clientset: newEvictionRecorder(tc.pods, nil).cs, interval: interval, now: clock.now, triggers: map[types.NamespacedName]*scaleDownTrigger{}},
			}
			res, err := r.Reconcile(t.Context(), reconcile.Request{NamespacedName: quota.Key(tc.farm)})
			if err != nil {
				t.Fatalf("Reconcile() error = %v", err)
			}
			if diff := cmp.Diff(reconcile.Result{RequeueAfter: tc.want}, res); diff != "" {
				t.Errorf("Reconcile() result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFarmReconcilerForgetsADeletedFarm checks that nothing the reconciler remembers of a Farm
// (its scale-down triggers, when it started waiting below its minimum) outlives the Farm: a Farm
// created again under the same name starts afresh.
func TestFarmReconcilerForgetsADeletedFarm(t *testing.T) {
	const interval = time.Second
	tests := []struct {
		name string
		farm *farmv1alpha1.Farm
		pods []*corev1.Pod

		// wantEvicted are the evictions of the first reconcile of the recreated Farm.
		wantEvicted []string
		// wantRequeue is that reconcile's RequeueAfter.
		wantRequeue time.Duration
		// wantWaiting is farm_below_min_waiting_seconds_total's growth over the whole story.
		wantWaiting float64
	}{
		{
			name: "scale-down: the recreated Farm withstands its N triggers again",
			farm: makeFarm("gone", "spark").limits(1, 3).triggers(3).obj(),
			pods: func() []*corev1.Pod {
				var pods []*corev1.Pod
				for i := 1; i <= 6; i++ {
					pods = append(pods, makeExec("gone", fmt.Sprintf("exec-%d", i)).running(time.Duration(i)*time.Minute).obj())
				}
				return pods
			}(),
			wantRequeue: interval,
		},
		{
			name: "time below the minimum: the time without a Farm is not counted",
			farm: makeFarm("gone", "spark").limits(2, 0).obj(),
			pods: []*corev1.Pod{makeExec("gone", "wait-1").obj()},
			// 1s waiting before the deletion; nothing for the hour without a Farm.
			wantWaiting: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := []client.Object{tc.farm.DeepCopy()}
			for _, p := range tc.pods {
				objs = append(objs, p.DeepCopy())
			}
			c, _ := newFakeClient(t, objs...)
			clock := newClock(0)
			rec := newEvictionRecorder(tc.pods, nil)
			r := &FarmReconciler{
				Client:          c,
				FailedRetention: time.Minute,
				now:             clock.now,
				ScaleDown:       &scaleDown{clientset: rec.cs, interval: interval, now: clock.now, triggers: map[types.NamespacedName]*scaleDownTrigger{}},
			}
			k := quota.Key(tc.farm)
			req := reconcile.Request{NamespacedName: k}
			waiting := belowMinWaiting.WithLabelValues(k.Namespace, k.Name)
			before := testutil.ToFloat64(waiting)
			reconcileOK := func(step string) reconcile.Result {
				t.Helper()
				res, err := r.Reconcile(t.Context(), req)
				if err != nil {
					t.Fatalf("%s: Reconcile() error = %v", step, err)
				}
				return res
			}

			// Two observations a trigger interval apart, then the Farm is deleted.
			reconcileOK("first")
			clock.advance(interval)
			reconcileOK("second")
			if len(rec.evicted) != 0 {
				t.Fatalf("evicted %v before the Farm's N triggers", rec.evicted)
			}
			if err := c.Delete(t.Context(), getFarm(t, c, k)); err != nil {
				t.Fatal(err)
			}
			clock.advance(interval)
			if res := reconcileOK("deleted"); res != (reconcile.Result{}) {
				t.Errorf("Reconcile() of a deleted Farm = %+v, want nothing", res)
			}

			// An hour later, the same Farm again.
			clock.advance(time.Hour)
			again := tc.farm.DeepCopy()
			again.ResourceVersion = ""
			again.CreationTimestamp = metav1.NewTime(clock.now())
			if err := c.Create(t.Context(), again); err != nil {
				t.Fatal(err)
			}
			res := reconcileOK("recreated")

			if diff := cmp.Diff(tc.wantEvicted, rec.evicted, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("evictions of the recreated Farm mismatch (-want +got):\n%s", diff)
			}
			if res.RequeueAfter != tc.wantRequeue {
				t.Errorf("recreated Farm's RequeueAfter = %v, want %v", res.RequeueAfter, tc.wantRequeue)
			}
			if got := testutil.ToFloat64(waiting) - before; got != tc.wantWaiting {
				t.Errorf("farm_below_min_waiting_seconds_total grew by %v, want %v", got, tc.wantWaiting)
			}
		})
	}
}
