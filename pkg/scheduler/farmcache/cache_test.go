package farmcache

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

const schedName = "farm-scheduler"

// epoch is the creation time of a Farm created at 0; farm creation times are whole seconds after it.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// podBuilder makes a fresh pod object on every obj call: the cache keeps the objects it is given,
// as an informer's handlers would, so a test never mutates one after feeding it.
type podBuilder struct{ p *corev1.Pod }

func newPod(namespace, name string) *podBuilder {
	return &podBuilder{p: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(namespace + "/" + name)},
		Spec:       corev1.PodSpec{SchedulerName: schedName},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}}
}

func (b *podBuilder) uid(uid string) *podBuilder { b.p.UID = types.UID(uid); return b }

func (b *podBuilder) label(k, v string) *podBuilder {
	if b.p.Labels == nil {
		b.p.Labels = map[string]string{}
	}
	b.p.Labels[k] = v
	return b
}

func (b *podBuilder) node(n string) *podBuilder            { b.p.Spec.NodeName = n; return b }
func (b *podBuilder) phase(ph corev1.PodPhase) *podBuilder { b.p.Status.Phase = ph; return b }
func (b *podBuilder) scheduler(s string) *podBuilder       { b.p.Spec.SchedulerName = s; return b }
func (b *podBuilder) running(n string) *podBuilder         { return b.node(n).phase(corev1.PodRunning) }
func (b *podBuilder) gate(g string) *podBuilder {
	b.p.Spec.SchedulingGates = append(b.p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: g})
	return b
}

func (b *podBuilder) terminating() *podBuilder {
	ts := metav1.NewTime(epoch.Add(time.Hour))
	b.p.DeletionTimestamp = &ts
	return b
}

func (b *podBuilder) condition(c corev1.PodConditionType, s corev1.ConditionStatus) *podBuilder {
	b.p.Status.Conditions = append(b.p.Status.Conditions, corev1.PodCondition{Type: c, Status: s})
	return b
}

func (b *podBuilder) obj() *corev1.Pod { return b.p.DeepCopy() }

// newFarm makes a Farm created `created` seconds after epoch.
func newFarm(namespace, name, key, value string, created int, minExecutors, maxExecutors int32) *farmv1alpha1.Farm {
	return &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         namespace,
			Name:              name,
			UID:               types.UID("farm-" + namespace + "/" + name),
			CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(created) * time.Second)),
		},
		Spec: farmv1alpha1.FarmSpec{LabelKey: key, LabelValue: value, MinExecutors: minExecutors, MaxExecutors: maxExecutors},
	}
}

// harness feeds a Cache the way the scheduler's informers do: the pod indexer behind the cache's
// lister is updated first, then the handler runs.
type harness struct {
	t       testing.TB
	indexer toolscache.Indexer
	c       *Cache
	// seen is every Farm key ever added, so states can report which are still known.
	seen map[types.NamespacedName]bool
}

func newHarness(t testing.TB) *harness {
	indexer := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
	return &harness{
		t:       t,
		indexer: indexer,
		c:       New(schedName, corelisters.NewPodLister(indexer)),
		seen:    map[types.NamespacedName]bool{},
	}
}

func (h *harness) addPod(p *corev1.Pod) {
	h.t.Helper()
	if err := h.indexer.Update(p); err != nil {
		h.t.Fatalf("indexer update %s/%s: %v", p.Namespace, p.Name, err)
	}
	h.c.AddPod(p)
}

func (h *harness) deletePod(p *corev1.Pod) {
	h.t.Helper()
	if err := h.indexer.Delete(p); err != nil {
		h.t.Fatalf("indexer delete %s/%s: %v", p.Namespace, p.Name, err)
	}
	h.c.DeletePod(p)
}

func (h *harness) addFarm(f *farmv1alpha1.Farm) {
	h.seen[quota.Key(f)] = true
	h.c.AddFarm(f)
}

func (h *harness) deleteFarm(f *farmv1alpha1.Farm) { h.c.DeleteFarm(f) }

// listed returns the pod the lister holds under namespace/name.
func (h *harness) listed(key string) *corev1.Pod {
	h.t.Helper()
	obj, ok, err := h.indexer.GetByKey(key)
	if err != nil || !ok {
		h.t.Fatalf("pod %s not in the lister (err %v)", key, err)
	}
	return obj.(*corev1.Pod)
}

// states returns the state of every Farm the cache knows, by namespace/name.
func (h *harness) states() map[string]quota.State {
	out := map[string]quota.State{}
	for k := range h.seen {
		if f, ok := h.c.Get(k); ok {
			out[k.String()] = f.State
		}
	}
	return out
}

// owners returns, for each listed pod key, the key of the Farm OwnerOf reports, or "" for none.
func (h *harness) owners(keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if f, ok := h.c.OwnerOf(h.listed(k)); ok {
			out[k] = quota.Key(f.Farm).String()
		} else {
			out[k] = ""
		}
	}
	return out
}

func st(minExecutors, maxExecutors int32, u quota.Usage) quota.State {
	return quota.State{Limits: quota.Limits{Min: minExecutors, Max: maxExecutors}, Usage: u}
}

// step is one event (or a few) fed to the cache, then the state of every Farm it must report and,
// optionally, the owner OwnerOf must return for some listed pods ("" for none).
type step struct {
	name   string
	do     func(h *harness)
	want   map[string]quota.State
	owners map[string]string
}

func runSteps(t *testing.T, steps []step) {
	t.Helper()
	h := newHarness(t)
	for i, s := range steps {
		s.do(h)
		if diff := cmp.Diff(s.want, h.states(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("step %d (%s): farm states (-want +got):\n%s", i, s.name, diff)
		}
		if s.owners != nil {
			keys := make([]string, 0, len(s.owners))
			for k := range s.owners {
				keys = append(keys, k)
			}
			if diff := cmp.Diff(s.owners, h.owners(keys)); diff != "" {
				t.Fatalf("step %d (%s): owners (-want +got):\n%s", i, s.name, diff)
			}
		}
	}
}

func TestCacheScenarios(t *testing.T) {
	exec := func(name string) *podBuilder { return newPod("team-a", name).label("spark-role", "executor") }
	driver := func(name string) *podBuilder { return newPod("team-a", name).label("spark-role", "driver") }
	spark := func() *farmv1alpha1.Farm { return newFarm("team-a", "spark", "spark-role", "executor", 0, 2, 4) }

	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "pod lifecycle pending assumed unbound-update bound running terminating deleted",
			steps: []step{
				{name: "farm", do: func(h *harness) { h.addFarm(spark()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{})}},
				{name: "pending", do: func(h *harness) { h.addPod(exec("e1").obj()) },
					want:   map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Pending: 1, Schedulable: 1})},
					owners: map[string]string{"team-a/e1": "team-a/spark"}},
				{name: "assumed", do: func(h *harness) { h.c.Assume(h.listed("team-a/e1"), "node-1") },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "informer update still unbound", do: func(h *harness) {
					h.addPod(exec("e1").condition(corev1.PodScheduled, corev1.ConditionFalse).obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "second unbound update", do: func(h *harness) {
					h.addPod(exec("e1").condition(corev1.PodScheduled, corev1.ConditionFalse).condition(corev1.PodReady, corev1.ConditionFalse).obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "bound", do: func(h *harness) { h.addPod(exec("e1").node("node-1").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "running", do: func(h *harness) { h.addPod(exec("e1").running("node-1").obj()) },
					want:   map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1, Running: 1})},
					owners: map[string]string{"team-a/e1": "team-a/spark"}},
				{name: "terminating", do: func(h *harness) { h.addPod(exec("e1").running("node-1").terminating().obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Terminating: 1})}},
				{name: "deleted", do: func(h *harness) { h.deletePod(exec("e1").running("node-1").terminating().obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{})}},
			},
		},
		{
			name: "assume then forget restores pending counts",
			steps: []step{
				{name: "farm and three pending pods, one gated", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(exec("e1").obj())
					h.addPod(exec("e2").obj())
					h.addPod(exec("e3").gate("example.com/wait").obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 3, Pending: 3, Schedulable: 2})}},
				{name: "assume e1", do: func(h *harness) { h.c.Assume(h.listed("team-a/e1"), "node-1") },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 3, Assigned: 1, Pending: 2, Schedulable: 1})}},
				{name: "assume e2", do: func(h *harness) { h.c.Assume(h.listed("team-a/e2"), "node-2") },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 3, Assigned: 2, Pending: 1})}},
				{name: "forget e1", do: func(h *harness) { h.c.Forget(exec("e1").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 3, Assigned: 1, Pending: 2, Schedulable: 1})}},
				{name: "forget e1 again is a no-op", do: func(h *harness) { h.c.Forget(exec("e1").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 3, Assigned: 1, Pending: 2, Schedulable: 1})}},
				{name: "forget of a never assumed pod is a no-op", do: func(h *harness) { h.c.Forget(h.listed("team-a/e3")) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 3, Assigned: 1, Pending: 2, Schedulable: 1})}},
				{name: "forget e2", do: func(h *harness) { h.c.Forget(h.listed("team-a/e2")) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 3, Pending: 3, Schedulable: 2})}},
			},
		},
		{
			name: "forget counts the pod as the lister shows it now",
			steps: []step{
				{name: "farm and pending pod", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(exec("e1").obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Pending: 1, Schedulable: 1})}},
				{name: "assume", do: func(h *harness) { h.c.Assume(h.listed("team-a/e1"), "node-1") },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "informer: still unbound, now gated", do: func(h *harness) { h.addPod(exec("e1").gate("example.com/wait").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "forget", do: func(h *harness) { h.c.Forget(exec("e1").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Pending: 1})}},
			},
		},
		{
			name: "forget after the binding is seen is a no-op",
			steps: []step{
				{name: "farm, pending pod, assume", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(exec("e1").obj())
					h.c.Assume(h.listed("team-a/e1"), "node-1")
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "bound to another node than assumed", do: func(h *harness) { h.addPod(exec("e1").node("node-2").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "forget", do: func(h *harness) { h.c.Forget(exec("e1").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
			},
		},
		{
			name: "assumed pod deleted before binding",
			steps: []step{
				{name: "farm, two pending pods, assume both", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(exec("e1").obj())
					h.addPod(exec("e2").obj())
					h.c.Assume(h.listed("team-a/e1"), "node-1")
					h.c.Assume(h.listed("team-a/e2"), "node-1")
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 2, Assigned: 2})}},
				{name: "e1 terminating while unbound", do: func(h *harness) { h.addPod(exec("e1").terminating().obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 2, Assigned: 1, Terminating: 1})}},
				{name: "e1 deleted", do: func(h *harness) { h.deletePod(exec("e1").terminating().obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "e2 deleted outright", do: func(h *harness) { h.deletePod(exec("e2").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{})}},
				{name: "forget of deleted pods is a no-op", do: func(h *harness) {
					h.c.Forget(exec("e1").obj())
					h.c.Forget(exec("e2").obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{})}},
			},
		},
		{
			name: "pod recreated under the same name with a new UID",
			steps: []step{
				{name: "farm and running pod", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(exec("e1").uid("uid-1").running("node-1").obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1, Running: 1})}},
				{name: "old deleted, new pending", do: func(h *harness) {
					h.deletePod(exec("e1").uid("uid-1").running("node-1").obj())
					h.addPod(exec("e1").uid("uid-2").obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Pending: 1, Schedulable: 1})}},
				{name: "forget of the old UID does not touch the new pod", do: func(h *harness) { h.c.Forget(exec("e1").uid("uid-1").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Pending: 1, Schedulable: 1})}},
			},
		},
		{
			name: "forget while the lister is ahead of the handlers",
			steps: []step{
				{name: "farm, pending pod, assume", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(exec("e1").uid("uid-1").obj())
					h.c.Assume(h.listed("team-a/e1"), "node-1")
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
				{name: "lister: pod re-created under a new UID, handlers not run yet; forget the old one", do: func(h *harness) {
					if err := h.indexer.Update(exec("e1").uid("uid-2").obj()); err != nil {
						h.t.Fatal(err)
					}
					h.c.Forget(exec("e1").uid("uid-1").obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{})}},
				{name: "handlers catch up", do: func(h *harness) {
					h.c.DeletePod(exec("e1").uid("uid-1").obj())
					h.c.AddPod(h.listed("team-a/e1"))
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Pending: 1, Schedulable: 1})}},
			},
		},
		{
			name: "schedulable depends on scheduler name and gates; finished pods",
			steps: []step{
				{name: "farm and pods of every kind", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(exec("mine").obj())
					h.addPod(exec("other").scheduler("default-scheduler").obj())
					h.addPod(exec("gated").gate("example.com/wait").obj())
					h.addPod(exec("done").node("node-1").phase(corev1.PodSucceeded).obj())
					h.addPod(exec("failed").node("node-1").phase(corev1.PodFailed).obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 5, Pending: 3, Schedulable: 1, Error: 1})}},
				{name: "gate removed", do: func(h *harness) { h.addPod(exec("gated").obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 5, Pending: 3, Schedulable: 2, Error: 1})}},
				{name: "failed pod cleaned up", do: func(h *harness) { h.deletePod(exec("failed").node("node-1").phase(corev1.PodFailed).obj()) },
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 4, Pending: 3, Schedulable: 2})}},
			},
		},
		{
			name: "two Farms with the same selector: the older owns, deleting it moves pods to the younger",
			steps: []step{
				{name: "younger farm first, then pods", do: func(h *harness) {
					h.addFarm(newFarm("team-a", "young", "spark-role", "executor", 60, 1, 0))
					h.addPod(exec("e1").running("node-1").obj())
					h.addPod(exec("e2").obj())
				},
					want: map[string]quota.State{
						"team-a/young": st(1, 0, quota.Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1}),
					},
					owners: map[string]string{"team-a/e1": "team-a/young", "team-a/e2": "team-a/young"}},
				{name: "older farm added", do: func(h *harness) { h.addFarm(newFarm("team-a", "old", "spark-role", "executor", 0, 3, 5)) },
					want: map[string]quota.State{
						"team-a/old":   st(3, 5, quota.Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1}),
						"team-a/young": st(1, 0, quota.Usage{}),
					},
					owners: map[string]string{"team-a/e1": "team-a/old", "team-a/e2": "team-a/old"}},
				{name: "new pod goes to the older", do: func(h *harness) { h.addPod(exec("e3").obj()) },
					want: map[string]quota.State{
						"team-a/old":   st(3, 5, quota.Usage{All: 3, Assigned: 1, Running: 1, Pending: 2, Schedulable: 2}),
						"team-a/young": st(1, 0, quota.Usage{}),
					}},
				{name: "older deleted", do: func(h *harness) { h.deleteFarm(newFarm("team-a", "old", "spark-role", "executor", 0, 3, 5)) },
					want: map[string]quota.State{
						"team-a/young": st(1, 0, quota.Usage{All: 3, Assigned: 1, Running: 1, Pending: 2, Schedulable: 2}),
					},
					owners: map[string]string{"team-a/e1": "team-a/young", "team-a/e2": "team-a/young", "team-a/e3": "team-a/young"}},
				{name: "pod deleted from the younger", do: func(h *harness) { h.deletePod(exec("e2").obj()) },
					want: map[string]quota.State{
						"team-a/young": st(1, 0, quota.Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1}),
					}},
				{name: "younger deleted too", do: func(h *harness) { h.deleteFarm(newFarm("team-a", "young", "spark-role", "executor", 60, 1, 0)) },
					want:   map[string]quota.State{},
					owners: map[string]string{"team-a/e1": "", "team-a/e3": ""}},
			},
		},
		{
			name: "same selector and equal creation times: the smaller name owns",
			steps: []step{
				{name: "beta then alpha", do: func(h *harness) {
					h.addFarm(newFarm("team-a", "beta", "spark-role", "executor", 5, 0, 0))
					h.addPod(exec("e1").obj())
					h.addFarm(newFarm("team-a", "alpha", "spark-role", "executor", 5, 0, 0))
				},
					want: map[string]quota.State{
						"team-a/alpha": st(0, 0, quota.Usage{All: 1, Pending: 1, Schedulable: 1}),
						"team-a/beta":  st(0, 0, quota.Usage{}),
					},
					owners: map[string]string{"team-a/e1": "team-a/alpha"}},
			},
		},
		{
			name: "Farm created after its pods exist is counted from the lister",
			steps: []step{
				{name: "pods, no farm", do: func(h *harness) {
					h.addPod(exec("e1").obj())
					h.addPod(exec("e2").running("node-1").obj())
					h.addPod(exec("e3").node("node-2").phase(corev1.PodFailed).obj())
					h.addPod(exec("e4").running("node-2").terminating().obj())
					h.addPod(driver("d1").running("node-1").obj())
				},
					want:   map[string]quota.State{},
					owners: map[string]string{"team-a/e1": "", "team-a/d1": ""}},
				{name: "farm created", do: func(h *harness) { h.addFarm(spark()) },
					want: map[string]quota.State{
						"team-a/spark": st(2, 4, quota.Usage{All: 4, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1, Error: 1, Terminating: 1}),
					},
					owners: map[string]string{"team-a/e1": "team-a/spark", "team-a/d1": ""}},
				{name: "farm deleted", do: func(h *harness) { h.deleteFarm(spark()) },
					want: map[string]quota.State{}},
				{name: "farm re-created", do: func(h *harness) { h.addFarm(spark()) },
					want: map[string]quota.State{
						"team-a/spark": st(2, 4, quota.Usage{All: 4, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1, Error: 1, Terminating: 1}),
					}},
			},
		},
		{
			name: "selector change moves pods away",
			steps: []step{
				{name: "executor and driver farms with pods", do: func(h *harness) {
					h.addFarm(newFarm("team-a", "exec", "spark-role", "executor", 0, 2, 0))
					h.addFarm(newFarm("team-a", "driver", "spark-role", "driver", 10, 1, 1))
					h.addPod(exec("e1").running("node-1").obj())
					h.addPod(exec("e2").obj())
					h.addPod(driver("d1").running("node-2").obj())
				},
					want: map[string]quota.State{
						"team-a/exec":   st(2, 0, quota.Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1}),
						"team-a/driver": st(1, 1, quota.Usage{All: 1, Assigned: 1, Running: 1}),
					}},
				{name: "exec farm now selects drivers, and is older", do: func(h *harness) {
					h.addFarm(newFarm("team-a", "exec", "spark-role", "driver", 0, 2, 0))
				},
					want: map[string]quota.State{
						"team-a/exec":   st(2, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
						"team-a/driver": st(1, 1, quota.Usage{}),
					},
					owners: map[string]string{"team-a/e1": "", "team-a/e2": "", "team-a/d1": "team-a/exec"}},
				{name: "exec farm selects another key", do: func(h *harness) {
					h.addFarm(newFarm("team-a", "exec", "app", "spark", 0, 2, 0))
				},
					want: map[string]quota.State{
						"team-a/exec":   st(2, 0, quota.Usage{}),
						"team-a/driver": st(1, 1, quota.Usage{All: 1, Assigned: 1, Running: 1}),
					},
					owners: map[string]string{"team-a/e1": "", "team-a/d1": "team-a/driver"}},
				{name: "back to executors", do: func(h *harness) {
					h.addFarm(newFarm("team-a", "exec", "spark-role", "executor", 0, 2, 0))
				},
					want: map[string]quota.State{
						"team-a/exec":   st(2, 0, quota.Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1}),
						"team-a/driver": st(1, 1, quota.Usage{All: 1, Assigned: 1, Running: 1}),
					},
					owners: map[string]string{"team-a/e1": "team-a/exec", "team-a/d1": "team-a/driver"}},
			},
		},
		{
			name: "limits-only and status-only updates keep counts and report the new limits",
			steps: []step{
				{name: "farm and pods", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(exec("e1").running("node-1").obj())
					h.addPod(exec("e2").obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1})}},
				{name: "min and max changed", do: func(h *harness) { h.addFarm(newFarm("team-a", "spark", "spark-role", "executor", 0, 5, 0)) },
					want: map[string]quota.State{"team-a/spark": st(5, 0, quota.Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1})}},
				{name: "status changed", do: func(h *harness) {
					f := newFarm("team-a", "spark", "spark-role", "executor", 0, 5, 0)
					f.Status.RunningExecutors = 1
					f.Status.PendingExecutors = 1
					h.addFarm(f)
				},
					want: map[string]quota.State{"team-a/spark": st(5, 0, quota.Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1})}},
				{name: "pod events after the update still count", do: func(h *harness) { h.addPod(exec("e2").running("node-2").obj()) },
					want: map[string]quota.State{"team-a/spark": st(5, 0, quota.Usage{All: 2, Assigned: 2, Running: 2})}},
			},
		},
		{
			name: "pods in namespaces without Farms are ignored",
			steps: []step{
				{name: "farm in team-a, pods in team-b with the same label", do: func(h *harness) {
					h.addFarm(spark())
					h.addPod(newPod("team-b", "e1").label("spark-role", "executor").obj())
					h.addPod(newPod("team-b", "e2").label("spark-role", "executor").running("node-1").obj())
				},
					want:   map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{})},
					owners: map[string]string{"team-b/e1": "", "team-b/e2": ""}},
				{name: "assume and forget of an unowned pod", do: func(h *harness) {
					h.c.Assume(h.listed("team-b/e1"), "node-1")
					h.c.Forget(h.listed("team-b/e1"))
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{})}},
				{name: "delete of an uncounted pod", do: func(h *harness) {
					h.deletePod(newPod("team-b", "e2").label("spark-role", "executor").running("node-1").obj())
					h.c.DeletePod(newPod("team-c", "never-seen").obj())
				},
					want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{})}},
				{name: "farm in team-b counts only team-b", do: func(h *harness) {
					h.addPod(exec("a1").obj())
					h.addFarm(newFarm("team-b", "spark", "spark-role", "executor", 0, 1, 0))
				},
					want: map[string]quota.State{
						"team-a/spark": st(2, 4, quota.Usage{All: 1, Pending: 1, Schedulable: 1}),
						"team-b/spark": st(1, 0, quota.Usage{All: 1, Pending: 1, Schedulable: 1}),
					},
					owners: map[string]string{"team-a/a1": "team-a/spark", "team-b/e1": "team-b/spark"}},
			},
		},
		{
			name: "label removed, restored or changed",
			steps: []step{
				{name: "two farms, one running executor", do: func(h *harness) {
					h.addFarm(newFarm("team-a", "exec", "spark-role", "executor", 0, 1, 0))
					h.addFarm(newFarm("team-a", "driver", "spark-role", "driver", 0, 1, 0))
					h.addPod(exec("p1").running("node-1").obj())
					h.addPod(newPod("team-a", "other").label("spark-role", "other").running("node-1").obj())
				},
					want: map[string]quota.State{
						"team-a/exec":   st(1, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
						"team-a/driver": st(1, 0, quota.Usage{}),
					},
					owners: map[string]string{"team-a/p1": "team-a/exec", "team-a/other": ""}},
				{name: "label removed", do: func(h *harness) { h.addPod(newPod("team-a", "p1").running("node-1").obj()) },
					want: map[string]quota.State{
						"team-a/exec":   st(1, 0, quota.Usage{}),
						"team-a/driver": st(1, 0, quota.Usage{}),
					},
					owners: map[string]string{"team-a/p1": ""}},
				{name: "unlabelled pod deleted", do: func(h *harness) { h.deletePod(newPod("team-a", "p1").running("node-1").obj()) },
					want: map[string]quota.State{
						"team-a/exec":   st(1, 0, quota.Usage{}),
						"team-a/driver": st(1, 0, quota.Usage{}),
					}},
				{name: "p2 running executor", do: func(h *harness) { h.addPod(exec("p2").running("node-1").obj()) },
					want: map[string]quota.State{
						"team-a/exec":   st(1, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
						"team-a/driver": st(1, 0, quota.Usage{}),
					}},
				{name: "p2 relabelled driver", do: func(h *harness) { h.addPod(driver("p2").running("node-1").obj()) },
					want: map[string]quota.State{
						"team-a/exec":   st(1, 0, quota.Usage{}),
						"team-a/driver": st(1, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
					},
					owners: map[string]string{"team-a/p2": "team-a/driver"}},
				{name: "p2 label value emptied", do: func(h *harness) {
					h.addPod(newPod("team-a", "p2").label("spark-role", "").running("node-1").obj())
				},
					want: map[string]quota.State{
						"team-a/exec":   st(1, 0, quota.Usage{}),
						"team-a/driver": st(1, 0, quota.Usage{}),
					}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, tc.steps) })
	}
}

func TestOfType(t *testing.T) {
	executor := quota.Type{LabelKey: "spark-role", LabelValue: "executor"}
	driver := quota.Type{LabelKey: "spark-role", LabelValue: "driver"}
	teamX := quota.Type{LabelKey: "team", LabelValue: "x"}
	setup := func(h *harness) {
		h.addFarm(newFarm("team-a", "exec", "spark-role", "executor", 0, 2, 0))
		h.addFarm(newFarm("team-a", "driver", "spark-role", "driver", 0, 1, 1))
		h.addFarm(newFarm("team-b", "exec", "spark-role", "executor", 0, 3, 6))
		h.addFarm(newFarm("team-b", "x", "team", "x", 0, 0, 0))
		h.addPod(newPod("team-a", "e1").label("spark-role", "executor").running("node-1").obj())
		h.addPod(newPod("team-a", "d1").label("spark-role", "driver").obj())
		h.addPod(newPod("team-b", "e1").label("spark-role", "executor").obj())
		h.addPod(newPod("team-b", "e2").label("spark-role", "executor").label("team", "x").obj())
	}
	tests := []struct {
		name  string
		after func(h *harness)
		typ   quota.Type
		want  map[string]quota.State
	}{
		{name: "executor farms of two namespaces", typ: executor, want: map[string]quota.State{
			"team-a/exec": st(2, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
			"team-b/exec": st(3, 6, quota.Usage{All: 2, Pending: 2, Schedulable: 2}),
		}},
		{name: "driver farm", typ: driver, want: map[string]quota.State{
			"team-a/driver": st(1, 1, quota.Usage{All: 1, Pending: 1, Schedulable: 1}),
		}},
		{name: "farm that loses its pod to an older overlapping farm", typ: teamX, want: map[string]quota.State{
			"team-b/x": st(0, 0, quota.Usage{}),
		}},
		{name: "unknown type", typ: quota.Type{LabelKey: "spark-role", LabelValue: "shuffle"}, want: map[string]quota.State{}},
		{name: "same value under another key", typ: quota.Type{LabelKey: "role", LabelValue: "executor"}, want: map[string]quota.State{}},
		{name: "deleted farm is gone", typ: executor,
			after: func(h *harness) { h.deleteFarm(newFarm("team-a", "exec", "spark-role", "executor", 0, 2, 0)) },
			want: map[string]quota.State{
				"team-b/exec": st(3, 6, quota.Usage{All: 2, Pending: 2, Schedulable: 2}),
			}},
		{name: "type change moves the farm to the new type", typ: executor,
			after: func(h *harness) { h.addFarm(newFarm("team-a", "driver", "spark-role", "executor", 10, 1, 1)) },
			want: map[string]quota.State{
				"team-a/exec":   st(2, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
				"team-a/driver": st(1, 1, quota.Usage{}),
				"team-b/exec":   st(3, 6, quota.Usage{All: 2, Pending: 2, Schedulable: 2}),
			}},
		{name: "type change leaves the old type", typ: driver,
			after: func(h *harness) { h.addFarm(newFarm("team-a", "driver", "spark-role", "executor", 10, 1, 1)) },
			want:  map[string]quota.State{}},
		{name: "new farm of the type taking the pod by name order", typ: teamX,
			after: func(h *harness) { h.addFarm(newFarm("team-b", "a-x", "team", "x", 0, 0, 0)) },
			want: map[string]quota.State{
				"team-b/a-x": st(0, 0, quota.Usage{All: 1, Pending: 1, Schedulable: 1}),
				"team-b/x":   st(0, 0, quota.Usage{}),
			}},
		{name: "new farm of another type taking a pod from an executor farm", typ: executor,
			after: func(h *harness) { h.addFarm(newFarm("team-b", "a-x", "team", "x", 0, 0, 0)) },
			want: map[string]quota.State{
				"team-a/exec": st(2, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
				"team-b/exec": st(3, 6, quota.Usage{All: 1, Pending: 1, Schedulable: 1}),
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			setup(h)
			if tc.after != nil {
				tc.after(h)
			}
			got := map[string]quota.State{}
			for _, f := range h.c.OfType(tc.typ) {
				if quota.TypeOf(f.Farm) != tc.typ {
					t.Errorf("OfType(%v) returned %s of type %v", tc.typ, quota.Key(f.Farm), quota.TypeOf(f.Farm))
				}
				k := quota.Key(f.Farm).String()
				if _, dup := got[k]; dup {
					t.Errorf("OfType(%v) returned %s twice", tc.typ, k)
				}
				got[k] = f.State
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("OfType(%v) (-want +got):\n%s", tc.typ, diff)
			}
		})
	}
}

// TestGetAndOwnerOf checks the Farm object and state returned by Get and OwnerOf.
func TestGetAndOwnerOf(t *testing.T) {
	type result struct {
		OK    bool
		Farm  string // namespace/name
		Spec  farmv1alpha1.FarmSpec
		State quota.State
	}
	farmKey := func(ns, name string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: name} }
	setup := func(h *harness) {
		h.addFarm(newFarm("team-a", "young", "spark-role", "executor", 30, 1, 0))
		h.addFarm(newFarm("team-a", "old", "spark-role", "executor", 0, 2, 3))
		h.addPod(newPod("team-a", "e1").label("spark-role", "executor").running("node-1").obj())
	}
	tests := []struct {
		name  string
		after func(h *harness)
		get   *types.NamespacedName
		pod   *corev1.Pod
		want  result
	}{
		{name: "Get unknown farm", get: &types.NamespacedName{Namespace: "team-a", Name: "nope"}, want: result{}},
		{name: "Get unknown namespace", get: &types.NamespacedName{Namespace: "team-z", Name: "old"}, want: result{}},
		{name: "Get older farm", get: ptr(farmKey("team-a", "old")), want: result{
			OK: true, Farm: "team-a/old",
			Spec:  farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 2, MaxExecutors: 3},
			State: st(2, 3, quota.Usage{All: 1, Assigned: 1, Running: 1}),
		}},
		{name: "Get younger farm", get: ptr(farmKey("team-a", "young")), want: result{
			OK: true, Farm: "team-a/young",
			Spec:  farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 1},
			State: st(1, 0, quota.Usage{}),
		}},
		{name: "Get returns the updated object", get: ptr(farmKey("team-a", "old")),
			after: func(h *harness) { h.addFarm(newFarm("team-a", "old", "spark-role", "executor", 0, 4, 8)) },
			want: result{
				OK: true, Farm: "team-a/old",
				Spec:  farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 4, MaxExecutors: 8},
				State: st(4, 8, quota.Usage{All: 1, Assigned: 1, Running: 1}),
			}},
		{name: "Get deleted farm", get: ptr(farmKey("team-a", "old")),
			after: func(h *harness) { h.deleteFarm(newFarm("team-a", "old", "spark-role", "executor", 0, 2, 3)) },
			want:  result{}},
		{name: "OwnerOf a selected pod is the older farm", pod: newPod("team-a", "e1").label("spark-role", "executor").running("node-1").obj(),
			want: result{
				OK: true, Farm: "team-a/old",
				Spec:  farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 2, MaxExecutors: 3},
				State: st(2, 3, quota.Usage{All: 1, Assigned: 1, Running: 1}),
			}},
		{name: "OwnerOf a pod not yet seen by the cache", pod: newPod("team-a", "new").label("spark-role", "executor").obj(),
			want: result{
				OK: true, Farm: "team-a/old",
				Spec:  farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 2, MaxExecutors: 3},
				State: st(2, 3, quota.Usage{All: 1, Assigned: 1, Running: 1}),
			}},
		{name: "OwnerOf after the older farm is deleted", pod: newPod("team-a", "e1").label("spark-role", "executor").running("node-1").obj(),
			after: func(h *harness) { h.deleteFarm(newFarm("team-a", "old", "spark-role", "executor", 0, 2, 3)) },
			want: result{
				OK: true, Farm: "team-a/young",
				Spec:  farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 1},
				State: st(1, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
			}},
		{name: "OwnerOf an unlabelled pod", pod: newPod("team-a", "x").obj(), want: result{}},
		{name: "OwnerOf a pod of another value", pod: newPod("team-a", "x").label("spark-role", "driver").obj(), want: result{}},
		{name: "OwnerOf a pod in a namespace without farms", pod: newPod("team-b", "e1").label("spark-role", "executor").obj(), want: result{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			setup(h)
			if tc.after != nil {
				tc.after(h)
			}
			var f Farm
			var ok bool
			if tc.get != nil {
				f, ok = h.c.Get(*tc.get)
			} else {
				f, ok = h.c.OwnerOf(tc.pod)
			}
			got := result{OK: ok}
			if ok {
				got = result{OK: true, Farm: quota.Key(f.Farm).String(), Spec: f.Farm.Spec, State: f.State}
			} else if f.Farm != nil {
				t.Errorf("not found, yet a Farm is returned: %v", quota.Key(f.Farm))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestRegressionAssumptionLostOnRecount (fixed): any recount of a namespace (a Farm added, deleted, or its
// selector changed, even a Farm that does not select the assumed pod) recounts every pod as the
// lister shows it and drops the assumption, so an assumed pod counts as pending again until the
// binding shows up in the informer.
func TestRegressionAssumptionLostOnRecount(t *testing.T) {
	exec := func(name string) *podBuilder { return newPod("team-a", name).label("spark-role", "executor") }
	assumed := func(h *harness) {
		h.addFarm(newFarm("team-a", "spark", "spark-role", "executor", 0, 2, 4))
		h.addFarm(newFarm("team-a", "driver", "spark-role", "driver", 0, 1, 0))
		h.addPod(exec("e1").obj())
		h.c.Assume(h.listed("team-a/e1"), "node-1")
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "unrelated Farm added", steps: []step{
			{name: "assumed", do: assumed, want: map[string]quota.State{
				"team-a/spark":  st(2, 4, quota.Usage{All: 1, Assigned: 1}),
				"team-a/driver": st(1, 0, quota.Usage{}),
			}},
			{name: "unrelated farm added", do: func(h *harness) { h.addFarm(newFarm("team-a", "other", "app", "x", 0, 0, 0)) },
				want: map[string]quota.State{
					"team-a/spark":  st(2, 4, quota.Usage{All: 1, Assigned: 1}),
					"team-a/driver": st(1, 0, quota.Usage{}),
					"team-a/other":  st(0, 0, quota.Usage{}),
				}},
			{name: "informer update still unbound", do: func(h *harness) { h.addPod(exec("e1").condition(corev1.PodScheduled, corev1.ConditionFalse).obj()) },
				want: map[string]quota.State{
					"team-a/spark":  st(2, 4, quota.Usage{All: 1, Assigned: 1}),
					"team-a/driver": st(1, 0, quota.Usage{}),
					"team-a/other":  st(0, 0, quota.Usage{}),
				}},
		}},
		{name: "unrelated Farm deleted", steps: []step{
			{name: "assumed", do: assumed, want: map[string]quota.State{
				"team-a/spark":  st(2, 4, quota.Usage{All: 1, Assigned: 1}),
				"team-a/driver": st(1, 0, quota.Usage{}),
			}},
			{name: "driver farm deleted", do: func(h *harness) { h.deleteFarm(newFarm("team-a", "driver", "spark-role", "driver", 0, 1, 0)) },
				want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
		}},
		{name: "another Farm's selector changed to overlap", steps: []step{
			{name: "assumed", do: assumed, want: map[string]quota.State{
				"team-a/spark":  st(2, 4, quota.Usage{All: 1, Assigned: 1}),
				"team-a/driver": st(1, 0, quota.Usage{}),
			}},
			{name: "driver farm now selects executors too (younger)", do: func(h *harness) {
				h.addFarm(newFarm("team-a", "driver", "spark-role", "executor", 10, 1, 0))
			},
				want: map[string]quota.State{
					"team-a/spark":  st(2, 4, quota.Usage{All: 1, Assigned: 1}),
					"team-a/driver": st(1, 0, quota.Usage{}),
				}},
		}},
		{name: "pod assumed before its Farm exists", steps: []step{
			{name: "pod assumed in a namespace without farms", do: func(h *harness) {
				h.addPod(exec("e1").obj())
				h.c.Assume(h.listed("team-a/e1"), "node-1")
			}, want: map[string]quota.State{}},
			{name: "farm created before the binding lands", do: func(h *harness) {
				h.addFarm(newFarm("team-a", "spark", "spark-role", "executor", 0, 2, 4))
			}, want: map[string]quota.State{"team-a/spark": st(2, 4, quota.Usage{All: 1, Assigned: 1})}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, tc.steps) })
	}
}

// TestRegressionCreationTimeChangeOnUpdate: a Farm deleted and re-created under the same name while
// the watch is down reaches AddFarm as an update with a new creation time (and UID). Its selector
// is unchanged, so AddFarm does not recount, though ownership among overlapping Farms is decided
// by creation time: pods stay counted for a Farm that no longer owns them.
func TestRegressionCreationTimeChangeOnUpdate(t *testing.T) {
	exec := func(name string) *podBuilder { return newPod("team-a", name).label("spark-role", "executor") }
	runSteps(t, []step{
		{name: "a older than b, same selector", do: func(h *harness) {
			h.addFarm(newFarm("team-a", "a", "spark-role", "executor", 0, 1, 0))
			h.addFarm(newFarm("team-a", "b", "spark-role", "executor", 10, 1, 0))
			h.addPod(exec("e1").running("node-1").obj())
		},
			want: map[string]quota.State{
				"team-a/a": st(1, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
				"team-a/b": st(1, 0, quota.Usage{}),
			},
			owners: map[string]string{"team-a/e1": "team-a/a"}},
		{name: "a re-created, seen as an update", do: func(h *harness) {
			f := newFarm("team-a", "a", "spark-role", "executor", 20, 1, 0)
			f.UID = "farm-a-recreated"
			h.addFarm(f)
		},
			want: map[string]quota.State{
				"team-a/a": st(1, 0, quota.Usage{}),
				"team-a/b": st(1, 0, quota.Usage{All: 1, Assigned: 1, Running: 1}),
			},
			owners: map[string]string{"team-a/e1": "team-a/b"}},
	})
}

// sim drives a Cache with random informer events and scheduler calls, and keeps the reference
// model needed to recount every Farm from scratch.
type sim struct {
	h   *harness
	rnd *rand.Rand
	// gentle keeps the generator off the rarer interleavings (a recount of a namespace holding an
	// assumed pod, a Farm re-created under its name) so that one run exercises the common paths
	// densely; the run without it covers the rest.
	gentle bool

	podSlots  []podSlot
	farmSlots []farmSlot
	// farms is the reference set of Farms the cache was told about.
	farms map[types.NamespacedName]*farmv1alpha1.Farm
	// assumed is the reference set of assumed pods, by UID, with their node.
	assumed map[types.UID]string
	uidSeq  int
	log     []string
}

type podSlot struct {
	namespace, name string
	// last is the last object fed for this slot (still fed to Forget after deletion); nil before.
	last *corev1.Pod
	// live reports whether last is in the lister.
	live bool
}

type farmSlot struct{ namespace, name string }

var simTypes = []quota.Type{
	{LabelKey: "role", LabelValue: "executor"},
	{LabelKey: "role", LabelValue: "driver"},
	{LabelKey: "role", LabelValue: ""},
	{LabelKey: "team", LabelValue: "x"},
}

func newSim(t testing.TB, seed int64, gentle bool) *sim {
	s := &sim{
		h:       newHarness(t),
		rnd:     rand.New(rand.NewSource(seed)),
		gentle:  gentle,
		farms:   map[types.NamespacedName]*farmv1alpha1.Farm{},
		assumed: map[types.UID]string{},
	}
	for i, ns := range []string{"ns-a", "ns-a", "ns-a", "ns-a", "ns-b", "ns-b", "ns-b", "ns-c"} {
		s.podSlots = append(s.podSlots, podSlot{namespace: ns, name: fmt.Sprintf("p%d", i)})
	}
	s.farmSlots = []farmSlot{{"ns-a", "f1"}, {"ns-a", "f2"}, {"ns-a", "f3"}, {"ns-b", "g1"}, {"ns-b", "g2"}}
	return s
}

func (s *sim) logf(format string, args ...any) { s.log = append(s.log, fmt.Sprintf(format, args...)) }

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.Intn(len(xs))] }

// namespaceAssumed reports whether a pod of namespace is assumed in the reference.
func (s *sim) namespaceAssumed(namespace string) bool {
	for _, sl := range s.podSlots {
		if sl.live && sl.namespace == namespace {
			if _, ok := s.assumed[sl.last.UID]; ok {
				return true
			}
		}
	}
	return false
}

func (s *sim) farmsOf(namespace string) []*farmv1alpha1.Farm {
	var out []*farmv1alpha1.Farm
	for k, f := range s.farms {
		if k.Namespace == namespace {
			out = append(out, f)
		}
	}
	return out
}

// randomPod makes a new version of slot's pod. Deletion is sticky, as in the API.
func (s *sim) randomPod(sl *podSlot) *corev1.Pod {
	r := s.rnd
	b := newPod(sl.namespace, sl.name)
	if sl.live {
		b.uid(string(sl.last.UID))
	} else {
		s.uidSeq++
		b.uid(fmt.Sprintf("uid-%d", s.uidSeq))
	}
	keepLabels := false
	if s.gentle && sl.live {
		_, keepLabels = s.assumed[sl.last.UID]
	}
	if keepLabels {
		for k, v := range sl.last.Labels {
			b.label(k, v)
		}
	} else {
		if v := r.Intn(5); v > 0 {
			b.label("role", []string{"", "executor", "executor", "driver"}[v-1])
		}
		if r.Intn(3) == 0 {
			b.label("team", "x")
		}
	}
	if r.Intn(2) == 0 {
		// Pending and unbound: a new pod, or an assumed pod whose binding has not shown up yet.
		b.phase(pick(r, corev1.PodPending, ""))
	} else {
		b.node(pick(r, "", "n1", "n2"))
		b.phase(pick(r, corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown, ""))
	}
	if r.Intn(5) == 0 {
		b.scheduler("default-scheduler")
	}
	if r.Intn(5) == 0 {
		b.gate("example.com/wait")
	}
	if (sl.live && sl.last.DeletionTimestamp != nil) || r.Intn(8) == 0 {
		b.terminating()
	}
	return b.obj()
}

func (s *sim) step() {
	r := s.rnd
	switch op := r.Intn(100); {
	case op < 40: // pod add or update
		sl := &s.podSlots[r.Intn(len(s.podSlots))]
		p := s.randomPod(sl)
		if _, ok := s.assumed[p.UID]; ok && (p.Spec.NodeName != "" || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed) {
			delete(s.assumed, p.UID) // the binding, or the pod leaving, shows up in the informer
		}
		s.logf("AddPod %s/%s uid=%s labels=%v node=%q phase=%q sched=%q gates=%d terminating=%v",
			p.Namespace, p.Name, p.UID, p.Labels, p.Spec.NodeName, p.Status.Phase, p.Spec.SchedulerName, len(p.Spec.SchedulingGates), p.DeletionTimestamp != nil)
		s.h.addPod(p)
		sl.last, sl.live = p, true
	case op < 48: // pod delete
		sl := &s.podSlots[r.Intn(len(s.podSlots))]
		if !sl.live {
			return
		}
		s.logf("DeletePod %s/%s uid=%s", sl.namespace, sl.name, sl.last.UID)
		delete(s.assumed, sl.last.UID)
		s.h.deletePod(sl.last)
		sl.live = false
	case op < 63: // Assume a pending pod
		var candidates []*podSlot
		for i := range s.podSlots {
			sl := &s.podSlots[i]
			if !sl.live || !quota.IsPending(sl.last) {
				continue
			}
			if s.gentle && quota.Owner(s.farmsOf(sl.namespace), sl.last) == nil {
				continue
			}
			candidates = append(candidates, sl)
		}
		if len(candidates) == 0 {
			return
		}
		sl := pick(r, candidates...)
		node := pick(r, "n1", "n2")
		s.logf("Assume %s/%s uid=%s on %s", sl.namespace, sl.name, sl.last.UID, node)
		s.assumed[sl.last.UID] = node
		s.h.c.Assume(sl.last, node)
	case op < 73: // Forget, of an assumed pod or any other, live or deleted
		sl := &s.podSlots[r.Intn(len(s.podSlots))]
		if sl.last == nil {
			return
		}
		s.logf("Forget %s/%s uid=%s", sl.namespace, sl.name, sl.last.UID)
		delete(s.assumed, sl.last.UID)
		s.h.c.Forget(sl.last)
	case op < 92: // Farm add or update
		fs := s.farmSlots[r.Intn(len(s.farmSlots))]
		key := types.NamespacedName{Namespace: fs.namespace, Name: fs.name}
		old, exists := s.farms[key]
		typ := pick(r, simTypes...)
		created := r.Intn(3)
		if exists && (s.gentle || r.Intn(4) > 0) {
			created = int(old.CreationTimestamp.Sub(epoch) / time.Second)
			if r.Intn(2) == 0 {
				typ = quota.TypeOf(old) // limits- or status-only update
			}
		}
		recounts := !exists || typ != quota.TypeOf(old)
		if s.gentle && recounts && s.namespaceAssumed(fs.namespace) {
			return
		}
		f := newFarm(fs.namespace, fs.name, typ.LabelKey, typ.LabelValue, created, int32(r.Intn(4)), int32(r.Intn(6)))
		f.Status.AllExecutors = int32(r.Intn(10))
		s.logf("AddFarm %s type=%v created=%d min=%d max=%d", key, typ, created, f.Spec.MinExecutors, f.Spec.MaxExecutors)
		s.farms[key] = f
		s.h.addFarm(f)
	default: // Farm delete
		fs := s.farmSlots[r.Intn(len(s.farmSlots))]
		key := types.NamespacedName{Namespace: fs.namespace, Name: fs.name}
		f, ok := s.farms[key]
		if !ok || (s.gentle && s.namespaceAssumed(fs.namespace)) {
			return
		}
		s.logf("DeleteFarm %s", key)
		delete(s.farms, key)
		s.h.deleteFarm(f)
	}
}

// verify recounts every Farm from scratch over the lister's pods, each assumed pod still unbound
// in the lister taken as bound to its assumed node, and compares with the cache.
func (s *sim) verify() error {
	byNamespace := map[string][]*farmv1alpha1.Farm{}
	for k, f := range s.farms {
		byNamespace[k.Namespace] = append(byNamespace[k.Namespace], f)
	}
	owned := map[types.NamespacedName][]*corev1.Pod{}
	wantOwner := map[string]string{}
	gotOwner := map[string]string{}
	for _, obj := range s.h.indexer.List() {
		p := obj.(*corev1.Pod)
		key := p.Namespace + "/" + p.Name
		effective := p
		if node, ok := s.assumed[p.UID]; ok && p.Spec.NodeName == "" {
			effective = p.DeepCopy()
			effective.Spec.NodeName = node
		}
		wantOwner[key] = ""
		if o := quota.Owner(byNamespace[p.Namespace], p); o != nil {
			owned[quota.Key(o)] = append(owned[quota.Key(o)], effective)
			wantOwner[key] = quota.Key(o).String()
		}
		gotOwner[key] = ""
		if f, ok := s.h.c.OwnerOf(p); ok {
			gotOwner[key] = quota.Key(f.Farm).String()
		}
	}
	if diff := cmp.Diff(wantOwner, gotOwner); diff != "" {
		return fmt.Errorf("OwnerOf (-want +got):\n%s", diff)
	}
	want := map[string]quota.State{}
	got := map[string]quota.State{}
	for _, fs := range s.farmSlots {
		key := types.NamespacedName{Namespace: fs.namespace, Name: fs.name}
		if f, ok := s.farms[key]; ok {
			want[key.String()] = quota.State{Limits: quota.LimitsOf(f), Usage: quota.Tally(owned[key], schedName)}
		}
		if f, ok := s.h.c.Get(key); ok {
			got[key.String()] = f.State
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		return fmt.Errorf("farm states (-want +got):\n%s", diff)
	}
	for _, typ := range simTypes {
		var wantKeys, gotKeys []string
		for k, f := range s.farms {
			if quota.TypeOf(f) == typ {
				wantKeys = append(wantKeys, k.String())
			}
		}
		for _, f := range s.h.c.OfType(typ) {
			gotKeys = append(gotKeys, quota.Key(f.Farm).String())
		}
		sort.Strings(wantKeys)
		sort.Strings(gotKeys)
		if diff := cmp.Diff(wantKeys, gotKeys, cmpopts.EquateEmpty()); diff != "" {
			return fmt.Errorf("OfType(%v) (-want +got):\n%s", typ, diff)
		}
	}
	return nil
}

func (s *sim) lastOps(n int) string {
	from := max(0, len(s.log)-n)
	return strings.Join(s.log[from:], "\n")
}

func runSim(t *testing.T, seed int64, ops int, gentle bool) {
	s := newSim(t, seed, gentle)
	for i := 0; i < ops; i++ {
		s.step()
		if err := s.verify(); err != nil {
			t.Fatalf("seed %d, after operation %d: %v\nlast operations:\n%s", seed, i, err, s.lastOps(25))
		}
	}
}

// TestRandomizedAgainstRecount applies random pod events, Assume/Forget and Farm changes and,
// after each, compares every Farm with a recount from scratch.
func TestRandomizedAgainstRecount(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) { runSim(t, seed, 3000, true) })
	}
}

// TestRegressionRandomizedAgainstRecount is TestRandomizedAgainstRecount with every interleaving
// allowed; it finds the known bugs within a few hundred operations.
func TestRegressionRandomizedAgainstRecount(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) { runSim(t, seed, 3000, false) })
	}
}

// TestConcurrentReaders runs readers against a writer applying events; run it with -race.
func TestConcurrentReaders(t *testing.T) {
	s := newSim(t, 42, true)
	var probes []*corev1.Pod
	for _, sl := range s.podSlots {
		for _, v := range []string{"executor", "driver", ""} {
			probes = append(probes, newPod(sl.namespace, sl.name).label("role", v).label("team", "x").obj())
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	check := func(who string, f Farm) {
		u := f.State.Usage
		if u.All < 0 || u.Assigned < 0 || u.Running < 0 || u.Pending < 0 || u.Schedulable < 0 || u.Error < 0 || u.Terminating < 0 ||
			u.Assigned+u.Pending+u.Error+u.Terminating > u.All || u.Schedulable > u.Pending || u.Running > u.All {
			select {
			case errs <- fmt.Sprintf("%s: inconsistent usage of %s: %+v", who, quota.Key(f.Farm), u):
			default:
			}
		}
	}
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				if f, ok := s.h.c.OwnerOf(probes[n%len(probes)]); ok {
					check("OwnerOf", f)
				}
				for _, f := range s.h.c.OfType(simTypes[n%len(simTypes)]) {
					check("OfType", f)
				}
				if f, ok := s.h.c.Get(types.NamespacedName{Namespace: "ns-a", Name: "f1"}); ok {
					check("Get", f)
				}
			}
		}()
	}
	for i := 0; i < 3000; i++ {
		s.step()
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if err := s.verify(); err != nil {
		t.Fatalf("after the concurrent run: %v\nlast operations:\n%s", err, s.lastOps(25))
	}
}

func TestAssignedOn(t *testing.T) {
	exec := func(ns, name string) *podBuilder { return newPod(ns, name).label("spark-role", "executor") }

	h := newHarness(t)
	h.c.AddFarm(newFarm("alice", "f", "spark-role", "executor", 0, 0, 0))
	h.c.AddFarm(newFarm("bob", "f", "spark-role", "executor", 0, 0, 0))
	set := func(names ...string) FarmSet {
		var s FarmSet
		for _, ns := range names {
			f, ok := h.c.Get(types.NamespacedName{Namespace: ns, Name: "f"})
			if !ok {
				t.Fatalf("no Farm %s/f", ns)
			}
			s.Add(f)
		}
		return s
	}
	steps := []struct {
		name string
		do   func()
		// want is n1's count for both farms, then for alice only, then n2's for both.
		want [3]int64
	}{
		{name: "empty", do: func() {}, want: [3]int64{0, 0, 0}},
		{name: "a pending executor is on no node", do: func() { h.addPod(exec("alice", "a1").obj()) }, want: [3]int64{0, 0, 0}},
		{name: "reserved on n1", do: func() { h.c.Assume(exec("alice", "a1").obj(), "n1") }, want: [3]int64{1, 1, 0}},
		{name: "its binding shows up", do: func() { h.addPod(exec("alice", "a1").running("n1").obj()) }, want: [3]int64{1, 1, 0}},
		{name: "bob's on n1 and n2", do: func() {
			h.addPod(exec("bob", "b1").running("n1").obj())
			h.addPod(exec("bob", "b2").running("n2").obj())
		}, want: [3]int64{2, 1, 1}},
		{name: "a driver is no executor", do: func() { h.addPod(newPod("alice", "driver").label("spark-role", "driver").running("n1").obj()) }, want: [3]int64{2, 1, 1}},
		{name: "a terminating executor no longer counts", do: func() { h.addPod(exec("bob", "b1").running("n1").terminating().obj()) }, want: [3]int64{1, 1, 1}},
		{name: "a failed executor no longer counts", do: func() { h.addPod(exec("alice", "a1").node("n1").phase(corev1.PodFailed).obj()) }, want: [3]int64{0, 0, 1}},
		{name: "deleted", do: func() { h.deletePod(exec("bob", "b2").running("n2").obj()) }, want: [3]int64{0, 0, 0}},
	}
	for _, step := range steps {
		step.do()
		both, onlyAlice := set("alice", "bob"), set("alice")
		got := [3]int64{h.c.AssignedOn("n1", both), h.c.AssignedOn("n1", onlyAlice), h.c.AssignedOn("n2", both)}
		if got != step.want {
			t.Errorf("after %q: AssignedOn = %v, want %v", step.name, got, step.want)
		}
	}
	if got := h.c.AssignedOn("n1", FarmSet{}); got != 0 {
		t.Errorf("AssignedOn(n1, empty set) = %d, want 0", got)
	}
}

// A deleted Farm's slot goes to the next new Farm only once no node counts it, so the new Farm
// never inherits executors.
func TestAssignedOnAfterFarmsComeAndGo(t *testing.T) {
	exec := func(ns, name string) *podBuilder { return newPod(ns, name).label("spark-role", "executor") }
	h := newHarness(t)
	alice := newFarm("alice", "f", "spark-role", "executor", 0, 0, 0)
	h.c.AddFarm(alice)
	h.addPod(exec("alice", "a1").running("n1").obj())
	h.addPod(exec("alice", "a2").running("n1").obj())
	h.c.DeleteFarm(alice)
	h.c.AddFarm(newFarm("bob", "f", "spark-role", "executor", 0, 0, 0))
	h.addPod(exec("bob", "b1").running("n1").obj())
	bob, _ := h.c.Get(types.NamespacedName{Namespace: "bob", Name: "f"})
	var set FarmSet
	set.Add(bob)
	if got := h.c.AssignedOn("n1", set); got != 1 {
		t.Errorf("bob's executors on n1 = %d, want 1 (alice's deleted Farm's two must not count)", got)
	}
	// alice's Farm comes back: its executors count again, for it alone.
	h.c.AddFarm(alice)
	again, _ := h.c.Get(types.NamespacedName{Namespace: "alice", Name: "f"})
	var aliceSet FarmSet
	aliceSet.Add(again)
	if got := h.c.AssignedOn("n1", aliceSet); got != 2 {
		t.Errorf("alice's executors on n1 after her Farm is re-created = %d, want 2", got)
	}
	if got := h.c.AssignedOn("n1", set); got != 1 {
		t.Errorf("bob's executors on n1 after alice's Farm is re-created = %d, want 1", got)
	}
}

// A pod deleted while a scheduling cycle still carries it is not counted again: no phantom
// demand. The same call counts a pod the informer holds but the handler has not shown yet.
func TestAddPodIfPresent(t *testing.T) {
	exec := func(name string) *podBuilder { return newPod("alice", name).label("spark-role", "executor") }
	h := newHarness(t)
	h.addFarm(newFarm("alice", "f", "spark-role", "executor", 0, 2, 0))
	key := types.NamespacedName{Namespace: "alice", Name: "f"}
	pending := func() int32 {
		f, _ := h.c.Get(key)
		return f.State.Schedulable
	}

	// In the lister, not yet counted: counted.
	early := exec("e1").obj()
	if err := h.indexer.Add(early); err != nil {
		t.Fatal(err)
	}
	if !h.c.AddPodIfPresent(early) || pending() != 1 {
		t.Fatalf("a pod the informer holds: counted %d pending, want 1", pending())
	}
	// Deleted during the cycle: not counted again.
	h.deletePod(early)
	if h.c.AddPodIfPresent(early) || pending() != 0 {
		t.Fatalf("a deleted pod: %d pending, want 0", pending())
	}
	// Replaced by a pod of the same name (a new UID): the old one is not counted.
	h.addPod(exec("e1").uid("alice/e1-new").obj())
	if h.c.AddPodIfPresent(early) || pending() != 1 {
		t.Fatalf("a replaced pod: %d pending, want 1 (the new one)", pending())
	}
}

// NodesOf and LeavingNodes follow executors as they are bound, leave and go.
func TestNodesOfAndLeavingNodes(t *testing.T) {
	exec := func(name string) *podBuilder { return newPod("alice", name).label("spark-role", "executor") }
	h := newHarness(t)
	h.addFarm(newFarm("alice", "f", "spark-role", "executor", 0, 0, 0))
	key := types.NamespacedName{Namespace: "alice", Name: "f"}
	nodes := func() map[string]int32 {
		out := map[string]int32{}
		h.c.NodesOf(key, func(node string, n int32) bool { out[node] = n; return true })
		return out
	}
	h.addPod(exec("a1").running("n1").obj())
	h.addPod(exec("a2").running("n1").obj())
	h.addPod(exec("a3").running("n2").obj())
	h.addPod(exec("a4").obj())
	if diff := cmp.Diff(map[string]int32{"n1": 2, "n2": 1}, nodes()); diff != "" {
		t.Errorf("NodesOf (-want +got):\n%s", diff)
	}
	h.addPod(exec("a3").running("n2").terminating().obj())
	if diff := cmp.Diff(map[string]int32{"n1": 2}, nodes()); diff != "" {
		t.Errorf("NodesOf after a3 terminates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n2"}, h.c.LeavingNodes([]types.NamespacedName{key})); diff != "" {
		t.Errorf("LeavingNodes (-want +got):\n%s", diff)
	}
	h.deletePod(exec("a3").running("n2").terminating().obj())
	if got := h.c.LeavingNodes([]types.NamespacedName{key}); len(got) != 0 {
		t.Errorf("LeavingNodes after a3 is gone = %v, want none", got)
	}
}
