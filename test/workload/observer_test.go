package workload

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler/farm"
)

// change is one notification the observer gets: an executor's new state, or an event.
type change struct {
	pod   *corev1.Pod
	event *eventsv1.Event
	// gone removes the pod from the namespace's executors (a deletion) after notifying it.
	gone bool
}

func TestObserver(t *testing.T) {
	tenants := []Tenant{{Name: "alice", Min: 1}, {Name: "bob", Min: 2}}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	executor := func(ns, name string, mutate ...func(*corev1.Pod)) *corev1.Pod {
		p := Tenant{Name: ns}.Executor(Spark, 0)
		p.Name, p.UID = name, types.UID(ns+"/"+name)
		for _, m := range mutate {
			m(p)
		}
		return p
	}
	run := func(p *corev1.Pod) { p.Spec.NodeName, p.Status.Phase = "node-0", corev1.PodRunning }
	terminating := func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: now} }
	marked := func(status corev1.ConditionStatus, reason string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: quota.EvictedCondition, Status: status, Reason: reason})
		}
	}
	reclaimEvent := func(reason string, victim *corev1.Pod, forPod *corev1.Pod) *eventsv1.Event {
		ev := &eventsv1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: victim.Namespace, Name: victim.Name + ".1"},
			Reason:     reason,
			Regarding:  corev1.ObjectReference{Kind: "Pod", Namespace: victim.Namespace, Name: victim.Name, UID: victim.UID},
		}
		if forPod != nil {
			ev.Related = &corev1.ObjectReference{Kind: "Pod", Namespace: forPod.Namespace, Name: forPod.Name, UID: forPod.UID}
		}
		return ev
	}
	bobWaiting := executor("bob", "bob-exec-1")

	tests := []struct {
		name    string
		changes []change
		want    map[string]TenantResult
	}{{
		name: "an executor being reclaimed counts once, however often it is seen",
		changes: []change{
			{pod: executor("alice", "a1", run, marked(corev1.ConditionTrue, quota.ReasonReclaimed))},
			{pod: executor("alice", "a1", run, marked(corev1.ConditionTrue, quota.ReasonReclaimed), terminating)},
			{pod: executor("alice", "a1", run, marked(corev1.ConditionTrue, quota.ReasonReclaimed), terminating), gone: true},
		},
		// alice has run her minimum of one since the first state.
		want: map[string]TenantResult{"alice": {ReachedMin: now, Suffered: 1}, "bob": {}},
	}, {
		name: "a refused eviction, a scale-down and a plain deletion are not reclaims",
		changes: []change{
			{pod: executor("alice", "refused", run, marked(corev1.ConditionFalse, "EvictionRefused"))},
			{pod: executor("alice", "scaled", run, marked(corev1.ConditionTrue, quota.ReasonScaledDown), terminating)},
			{pod: executor("alice", "deleted", run, terminating)},
		},
		// The refused executor keeps running: alice runs her minimum.
		want: map[string]TenantResult{"alice": {ReachedMin: now}, "bob": {}},
	}, {
		name: "a reclaim event counts for the tenant the executor was reclaimed for",
		changes: []change{
			{event: reclaimEvent(farm.EventReclaimed, executor("alice", "a1"), bobWaiting)},
			{event: reclaimEvent(farm.EventReclaimed, executor("alice", "a1"), bobWaiting)},
			{event: reclaimEvent(farm.EventReclaimed, executor("alice", "a2"), bobWaiting)},
		},
		want: map[string]TenantResult{"alice": {}, "bob": {Caused: 2}},
	}, {
		name: "other events, and reclaim events without the pod they were for, are not counted",
		changes: []change{
			{event: reclaimEvent("Scheduled", executor("alice", "a1"), bobWaiting)},
			{event: reclaimEvent(farm.EventReclaimed, executor("alice", "a1"), nil)},
		},
		want: map[string]TenantResult{"alice": {}, "bob": {}},
	}, {
		name: "a tenant reaches its minimum when that many executors run",
		changes: []change{
			{pod: executor("alice", "a1", run)},
			{pod: executor("bob", "b1", run)},
			{pod: executor("bob", "b2")},
		},
		want: map[string]TenantResult{"alice": {ReachedMin: now}, "bob": {}},
	}, {
		name: "executors leaving do not count toward the minimum",
		changes: []change{
			{pod: executor("bob", "b1", run)},
			{pod: executor("bob", "b2", run, terminating)},
		},
		want: map[string]TenantResult{"alice": {}, "bob": {}},
	}, {
		name: "executors of namespaces that are not tenants are ignored",
		changes: []change{
			{pod: executor("mallory", "m1", run, marked(corev1.ConditionTrue, quota.ReasonReclaimed), terminating)},
		},
		want: map[string]TenantResult{"alice": {}, "bob": {}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := NewObserver(Spark, tenants)
			o.now = func() time.Time { return now }
			indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
			for _, tenant := range tenants {
				o.listers[tenant.Name] = corelisters.NewPodLister(indexer)
			}
			for _, c := range tc.changes {
				if c.pod != nil {
					if err := indexer.Update(c.pod); err != nil {
						t.Fatal(err)
					}
					o.podChanged(c.pod)
					if c.gone {
						if err := indexer.Delete(c.pod); err != nil {
							t.Fatal(err)
						}
					}
				}
				if c.event != nil {
					o.eventSeen(c.event)
				}
			}
			results, _ := o.Results()
			if len(results) != len(tc.want) {
				t.Fatalf("%d results, want %d", len(results), len(tc.want))
			}
			for _, got := range results {
				want := tc.want[got.Name]
				if got.ReachedMin != want.ReachedMin || got.Suffered != want.Suffered || got.Caused != want.Caused {
					t.Errorf("%s: reached min at %v, suffered %d, caused %d; want %v, %d, %d",
						got.Name, got.ReachedMin, got.Suffered, got.Caused, want.ReachedMin, want.Suffered, want.Caused)
				}
				if n := o.Evictions(got.Name); n != got.Suffered {
					t.Errorf("%s: Evictions() = %d, but the results say %d suffered", got.Name, n, got.Suffered)
				}
			}
		})
	}
}

func TestObserverUtilization(t *testing.T) {
	tenants := []Tenant{{Name: "alice", Min: 1}, {Name: "bob", Min: 1}}
	o := NewObserver(Spark, tenants)
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, tenant := range tenants {
		o.listers[tenant.Name] = corelisters.NewPodLister(indexer)
	}
	add := func(ns, name, node string) {
		p := Tenant{Name: ns}.Executor(Spark, 0)
		p.Name, p.Spec.NodeName = name, node
		if err := indexer.Add(p); err != nil {
			t.Fatal(err)
		}
	}

	// Samples of 0, then 2 (one executor each; a pending one holds no slot), then 4.
	var got []int32
	got = append(got, o.Sample())
	add("alice", "a1", "node-0")
	add("bob", "b1", "node-0")
	add("bob", "b2", "")
	got = append(got, o.Sample())
	add("alice", "a2", "node-1")
	add("bob", "b3", "node-1")
	got = append(got, o.Sample())

	if want := []int32{0, 2, 4}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("samples %v, want %v", got, want)
	}
	_, u := o.Results()
	if want := (Utilization{Samples: 3, Average: 2, Peak: 4}); u != want {
		t.Errorf("utilization %+v, want %+v", u, want)
	}
}
