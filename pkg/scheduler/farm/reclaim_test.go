package farm

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	fwk "k8s.io/kube-scheduler/framework"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	st "k8s.io/kubernetes/pkg/scheduler/testing"
	tf "k8s.io/kubernetes/pkg/scheduler/testing/framework"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// podOpt adjusts a test pod.
type podOpt func(*corev1.Pod)

// cpu sets the pod's only container to request q CPU.
func cpu(q string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers = []corev1.Container{{
			Name:  "main",
			Image: "executor",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)},
			},
		}}
	}
}

func priority(v int32) podOpt { return func(p *corev1.Pod) { p.Spec.Priority = &v } }

// startedAt sets the kubelet's start time to t0+d.
func startedAt(d time.Duration) podOpt {
	return func(p *corev1.Pod) { s := metav1.NewTime(t0.Add(d)); p.Status.StartTime = &s }
}

// createdAt sets the creation time to t0+d (and leaves no start time).
func createdAt(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t0.Add(d)); p.Status.StartTime = nil }
}

// deleting marks the pod terminating.
func deleting() podOpt {
	return func(p *corev1.Pod) { d := metav1.NewTime(t0); p.DeletionTimestamp = &d }
}

func nominatedTo(node string) podOpt {
	return func(p *corev1.Pod) { p.Status.NominatedNodeName = node }
}

func withOpts(p *corev1.Pod, opts []podOpt) *corev1.Pod {
	p.CreationTimestamp = metav1.NewTime(t0)
	cpu("1")(p)
	for _, o := range opts {
		o(p)
	}
	return p
}

// spark is a Spark executor of namespace ns (farm type spark-role=executor) requesting one CPU
// unless told otherwise; node binds it.
func spark(ns, name, node string, opts ...podOpt) *corev1.Pod {
	return withOpts(executor(ns, name, node), opts)
}

// condorWorker is an executor of another farm type (app=worker).
func condorWorker(ns, name, node string, opts ...podOpt) *corev1.Pod {
	p := executor(ns, name, node)
	delete(p.Labels, "spark-role")
	p.Labels["app"] = "worker"
	return withOpts(p, opts)
}

// plain is a pod no Farm selects (a driver), in a namespace that has Farms.
func plain(ns, name, node string, opts ...podOpt) *corev1.Pod {
	p := executor(ns, name, node)
	p.Labels["spark-role"] = "driver"
	return withOpts(p, opts)
}

// fixedNominator is a PodNominator with a fixed set of nominated pods.
type fixedNominator map[string][]fwk.PodInfo

func (fixedNominator) AddNominatedPod(klog.Logger, fwk.PodInfo, *fwk.NominatingInfo) {}
func (fixedNominator) DeleteNominatedPodIfExists(*corev1.Pod)                        {}
func (fixedNominator) UpdateNominatedPod(klog.Logger, *corev1.Pod, fwk.PodInfo)      {}
func (n fixedNominator) NominatedPodsForNode(node string) []fwk.PodInfo              { return n[node] }

// reclaimFixture is a plugin over a real framework (NodeResourcesFit as its only filter) and a
// snapshot of the given nodes, each with 4 CPUs and room for 32 pods.
type reclaimFixture struct {
	p        *Plugin
	fw       framework.Framework
	snapshot *internalcache.Snapshot
}

func newReclaimFixture(ctx context.Context, t testing.TB, farms []*farmv1alpha1.Farm, nodeNames []string, pods []*corev1.Pod, nominated []*corev1.Pod) *reclaimFixture {
	t.Helper()
	// The framework instruments its plugins with the scheduler's metrics.
	schedmetrics.Register()
	var nodes []*corev1.Node
	for _, n := range nodeNames {
		nodes = append(nodes, st.MakeNode().Name(n).Capacity(map[corev1.ResourceName]string{corev1.ResourceCPU: "4"}).Obj())
	}
	var bound []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			bound = append(bound, p)
		}
	}
	snapshot := internalcache.NewSnapshot(bound, nodes)
	nominator := fixedNominator{}
	for _, p := range nominated {
		nominator[p.Status.NominatedNodeName] = append(nominator[p.Status.NominatedNodeName], podInfo(p))
	}
	fw, err := tf.NewFramework(ctx, []tf.RegisterPluginFunc{
		tf.RegisterQueueSortPlugin(queuesort.Name, queuesort.New),
		tf.RegisterPluginAsExtensions(noderesources.Name, frameworkruntime.FactoryAdapter(feature.Features{}, noderesources.NewFit), "Filter", "PreFilter"),
		tf.RegisterBindPlugin(defaultbinder.Name, defaultbinder.New),
	}, "",
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithPodNominator(nominator),
		frameworkruntime.WithLogger(klog.FromContext(ctx)),
	)
	if err != nil {
		t.Fatal(err)
	}
	p := newTestPlugin(t, farms, append(append([]*corev1.Pod(nil), pods...), nominated...))
	p.handle = fw
	p.evictions = newEvictions(p.farms)
	return &reclaimFixture{p: p, fw: fw, snapshot: snapshot}
}

func farmKey(ns string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: "f"} }

func podNames(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

// reclaimFarms are the farms of the reclaim tests, all named f: carol is guaranteed 4 and holds
// none (the preemptor's farm); alice, bob and dave borrow (same type as carol); condor borrows
// workers of another type.
func reclaimFarms() []*farmv1alpha1.Farm {
	return []*farmv1alpha1.Farm{
		newFarm("alice", "f", t0, "spark-role", "executor", 0, 0),
		newFarm("bob", "f", t0, "spark-role", "executor", 0, 0),
		newFarm("carol", "f", t0, "spark-role", "executor", 4, 0),
		newFarm("dave", "f", t0, "spark-role", "executor", 0, 0),
		newFarm("condor", "f", t0, "app", "worker", 0, 0),
	}
}

func TestSelectVictimsOnNode(t *testing.T) {
	// Nodes have 4 CPUs; executors request one CPU unless said otherwise; n1 is full in every case.
	fourAlice := []*corev1.Pod{
		spark("alice", "a1", "n1", startedAt(0)),
		spark("alice", "a2", "n1", startedAt(time.Minute)),
		spark("alice", "a3", "n1", startedAt(2*time.Minute)),
		spark("alice", "a4", "n1", startedAt(3*time.Minute)),
	}
	twoAliceTwoBob := []*corev1.Pod{
		spark("alice", "a1", "n1", startedAt(0)),
		spark("alice", "a2", "n1", startedAt(time.Minute)),
		spark("bob", "b1", "n1", startedAt(0)),
		spark("bob", "b2", "n1", startedAt(time.Minute)),
	}
	pdb := func(ns string, allowed int32) *policy.PodDisruptionBudget {
		one := intstr.FromInt32(1)
		return &policy.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "executors"},
			Spec: policy.PodDisruptionBudgetSpec{
				MinAvailable: &one,
				Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"spark-role": "executor"}},
			},
			Status: policy.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
		}
	}

	tests := []struct {
		name string
		// pods run on n1 (and elsewhere); the preemptor is carol/w.
		pods      []*corev1.Pod
		preemptor *corev1.Pod
		// owed is the plan, by namespace of farm f; nil means no plan in the cycle state.
		owed map[string]int32
		// evicted are pods the plugin already asked to evict.
		evicted   []string
		nominated []*corev1.Pod
		pdbs      []*policy.PodDisruptionBudget

		want           []string
		wantViolations int
		wantCode       fwk.Code
		wantReason     string
	}{
		{
			name:      "one executor makes room: the youngest of the only owing farm",
			pods:      fourAlice,
			preemptor: spark("carol", "w", ""),
			owed:      map[string]int32{"alice": 3},
			want:      []string{"alice/a4"},
		},
		{
			name:      "stops at the fewest that make room, though the farm owes more",
			pods:      fourAlice,
			preemptor: spark("carol", "w", "", cpu("2")),
			owed:      map[string]int32{"alice": 4},
			want:      []string{"alice/a4", "alice/a3"},
		},
		{
			name: "lower priority before younger",
			pods: []*corev1.Pod{
				spark("alice", "a1", "n1", startedAt(0), priority(-10)),
				spark("alice", "a2", "n1", startedAt(time.Minute)),
				spark("alice", "a3", "n1", startedAt(2*time.Minute)),
				spark("alice", "a4", "n1", startedAt(3*time.Minute)),
			},
			preemptor: spark("carol", "w", "", cpu("2")),
			owed:      map[string]int32{"alice": 2},
			want:      []string{"alice/a1", "alice/a4"},
		},
		{
			name: "youngest by creation time when the kubelet reported no start time",
			pods: []*corev1.Pod{
				spark("alice", "a1", "n1", createdAt(time.Hour)),
				spark("alice", "a2", "n1", startedAt(time.Minute)),
				spark("alice", "a3", "n1", startedAt(2*time.Minute)),
				spark("alice", "a4", "n1", startedAt(3*time.Minute)),
			},
			preemptor: spark("carol", "w", ""),
			owed:      map[string]int32{"alice": 1},
			want:      []string{"alice/a1"},
		},
		{
			name:       "never more from a farm than it owes",
			pods:       fourAlice,
			preemptor:  spark("carol", "w", "", cpu("2")),
			owed:       map[string]int32{"alice": 1},
			wantCode:   fwk.UnschedulableAndUnresolvable,
			wantReason: "the executors the plan allows on this node do not make room",
		},
		{
			name:      "the farm owing the most gives first",
			pods:      twoAliceTwoBob,
			preemptor: spark("carol", "w", ""),
			owed:      map[string]int32{"alice": 1, "bob": 2},
			want:      []string{"bob/b2"},
		},
		{
			name:      "the farm owing the most is re-decided after each victim",
			pods:      twoAliceTwoBob,
			preemptor: spark("carol", "w", "", cpu("3")),
			owed:      map[string]int32{"alice": 2, "bob": 2},
			// alice and bob tie at 2 (alice first by name), then bob owes more (2 > 1), then they tie at 1.
			want: []string{"alice/a2", "bob/b2", "alice/a1"},
		},
		{
			name:      "owed executors of two farms add up to the room needed",
			pods:      twoAliceTwoBob,
			preemptor: spark("carol", "w", "", cpu("2")),
			owed:      map[string]int32{"alice": 1, "bob": 1},
			want:      []string{"alice/a2", "bob/b2"},
		},
		{
			name: "pods of no Farm and executors of farms outside the plan are never victims, however young",
			pods: []*corev1.Pod{
				plain("alice", "driver", "n1", startedAt(time.Hour)),
				spark("nofarm", "x1", "n1", startedAt(time.Hour)),
				condorWorker("condor", "w1", "n1", startedAt(time.Hour)),
				spark("alice", "a1", "n1", startedAt(0)),
			},
			preemptor: spark("carol", "w", ""),
			owed:      map[string]int32{"alice": 1},
			want:      []string{"alice/a1"},
		},
		{
			name: "farms outside the plan are never victims, so there is no room",
			pods: []*corev1.Pod{
				plain("alice", "driver", "n1"),
				spark("dave", "d1", "n1", startedAt(time.Hour)),
				spark("dave", "d2", "n1", startedAt(time.Hour)),
				spark("alice", "a1", "n1", startedAt(0)),
			},
			preemptor:  spark("carol", "w", "", cpu("2")),
			owed:       map[string]int32{"alice": 1},
			wantCode:   fwk.UnschedulableAndUnresolvable,
			wantReason: "the executors the plan allows on this node do not make room",
		},
		{
			name: "no executor of an owing farm on the node",
			pods: []*corev1.Pod{
				spark("dave", "d1", "n1"), spark("dave", "d2", "n1"),
				spark("nofarm", "x1", "n1"), condorWorker("condor", "w1", "n1"),
				spark("alice", "a1", "n2"),
			},
			preemptor:  spark("carol", "w", ""),
			owed:       map[string]int32{"alice": 1},
			wantCode:   fwk.UnschedulableAndUnresolvable,
			wantReason: "no executor of a farm that owes executors on this node",
		},
		{
			name:       "a farm in the plan that owes nothing gives nothing",
			pods:       fourAlice,
			preemptor:  spark("carol", "w", ""),
			owed:       map[string]int32{"alice": 0},
			wantCode:   fwk.UnschedulableAndUnresolvable,
			wantReason: "no executor of a farm that owes executors on this node",
		},
		{
			name: "a terminating executor is free room and never a victim",
			pods: []*corev1.Pod{
				spark("alice", "a1", "n1", startedAt(0)),
				spark("alice", "a2", "n1", startedAt(time.Minute)),
				spark("alice", "a3", "n1", startedAt(2*time.Minute)),
				spark("alice", "leaving", "n1", startedAt(time.Hour), deleting()),
			},
			preemptor: spark("carol", "w", "", cpu("2")),
			owed:      map[string]int32{"alice": 1},
			want:      []string{"alice/a3"},
		},
		{
			name: "a terminating executor of a farm outside the plan is free room too",
			pods: []*corev1.Pod{
				spark("alice", "a1", "n1", startedAt(0)),
				spark("alice", "a2", "n1", startedAt(time.Minute)),
				spark("dave", "leaving", "n1", startedAt(time.Hour), deleting()),
				condorWorker("condor", "leaving", "n1", startedAt(time.Hour), deleting()),
			},
			preemptor: spark("carol", "w", "", cpu("3")),
			owed:      map[string]int32{"alice": 1, "dave": 1},
			want:      []string{"alice/a2"},
		},
		{
			name: "an executor whose eviction was requested is free room and never a victim",
			pods: []*corev1.Pod{
				spark("alice", "a1", "n1", startedAt(0)),
				spark("alice", "a2", "n1", startedAt(time.Minute)),
				spark("alice", "a3", "n1", startedAt(2*time.Minute)),
				spark("alice", "evicted", "n1", startedAt(time.Hour)),
			},
			evicted:   []string{"alice/evicted"},
			preemptor: spark("carol", "w", "", cpu("2")),
			owed:      map[string]int32{"alice": 2},
			want:      []string{"alice/a3"},
		},
		{
			name: "a terminating pod of no Farm still holds its room",
			pods: []*corev1.Pod{
				spark("nofarm", "leaving", "n1", deleting()),
				spark("alice", "a1", "n1", startedAt(0)),
				spark("alice", "a2", "n1", startedAt(time.Minute)),
				spark("alice", "a3", "n1", startedAt(2*time.Minute)),
			},
			preemptor:  spark("carol", "w", "", cpu("2")),
			owed:       map[string]int32{"alice": 1},
			wantCode:   fwk.UnschedulableAndUnresolvable,
			wantReason: "the executors the plan allows on this node do not make room",
		},
		{
			name: "only terminating executors of the owing farm: nothing to pick",
			pods: []*corev1.Pod{
				spark("alice", "l1", "n1", deleting(), cpu("2")),
				spark("dave", "d1", "n1", cpu("2")),
			},
			preemptor:  spark("carol", "w", "", cpu("3")),
			owed:       map[string]int32{"alice": 1},
			wantCode:   fwk.UnschedulableAndUnresolvable,
			wantReason: "no executor of a farm that owes executors on this node",
		},
		{
			name:      "a pod nominated to the node keeps its claim on the room",
			pods:      fourAlice,
			nominated: []*corev1.Pod{spark("bob", "nominated", "", nominatedTo("n1"))},
			preemptor: spark("carol", "w", ""),
			owed:      map[string]int32{"alice": 4},
			want:      []string{"alice/a4", "alice/a3"},
		},
		{
			name:           "victims a PodDisruptionBudget protects are counted",
			pods:           fourAlice,
			pdbs:           []*policy.PodDisruptionBudget{pdb("alice", 1), pdb("bob", 0)},
			preemptor:      spark("carol", "w", "", cpu("3")),
			owed:           map[string]int32{"alice": 3},
			want:           []string{"alice/a4", "alice/a3", "alice/a2"},
			wantViolations: 2,
		},
		{
			name:       "no plan in the cycle state is an error",
			pods:       fourAlice,
			preemptor:  spark("carol", "w", ""),
			wantCode:   fwk.Error,
			wantReason: `reading "Farm/plan" from cycle state`,
		},
		{
			name: "fewest across farms: the big executor of the farm owing less suffices alone",
			pods: []*corev1.Pod{
				spark("alice", "small", "n1"),
				spark("bob", "big", "n1", cpu("3")),
			},
			preemptor: spark("carol", "w", "", cpu("3")),
			owed:      map[string]int32{"alice": 2, "bob": 1},
			want:      []string{"bob/big"},
		},
		{
			name: "fewest within a farm: the older big executor suffices alone",
			pods: []*corev1.Pod{
				spark("alice", "young-small", "n1", startedAt(time.Hour)),
				spark("alice", "old-big", "n1", cpu("3"), startedAt(0)),
			},
			preemptor: spark("carol", "w", "", cpu("3")),
			owed:      map[string]int32{"alice": 2},
			want:      []string{"alice/old-big"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			pods := append([]*corev1.Pod{tc.preemptor}, tc.pods...)
			f := newReclaimFixture(ctx, t, reclaimFarms(), []string{"n1", "n2"}, pods, tc.nominated)
			for _, name := range tc.evicted {
				ns, _, _ := strings.Cut(name, "/")
				f.p.evictions.add(types.UID(name), farmKey(ns), tc.preemptor.UID)
			}

			state := framework.NewCycleState()
			if _, s, _ := f.fw.RunPreFilterPlugins(ctx, state, tc.preemptor); !s.IsSuccess() {
				t.Fatalf("PreFilter: %v", s)
			}
			nodeInfo, err := f.snapshot.NodeInfos().Get("n1")
			if err != nil {
				t.Fatal(err)
			}
			// The premise of every case: the preemptor does not fit on n1 as it is.
			if s := f.fw.RunFilterPluginsWithNominatedPods(ctx, state, tc.preemptor, nodeInfo.Snapshot()); s.IsSuccess() {
				t.Fatal("the preemptor fits on n1 before any preemption; fix the case")
			}
			var plan *reclaimPlan
			if tc.owed != nil {
				plan = &reclaimPlan{owed: map[types.NamespacedName]int32{}}
				for ns, n := range tc.owed {
					plan.owed[farmKey(ns)] = n
				}
				state.Write(planKey, plan)
			}

			r := &reclaimer{p: f.p}
			victims, violations, status := r.SelectVictimsOnNode(ctx, state, tc.preemptor, nodeInfo.Snapshot(), nil, tc.pdbs)

			got := podNames(victims)
			if status.Code() != tc.wantCode {
				t.Fatalf("status = %v, want code %v", status, tc.wantCode)
			}
			if tc.wantReason != "" && !strings.Contains(status.Message(), tc.wantReason) {
				t.Errorf("status message %q does not say %q", status.Message(), tc.wantReason)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("victims (-want +got):\n%s", diff)
			}
			if violations != tc.wantViolations {
				t.Errorf("PDB violations = %d, want %d", violations, tc.wantViolations)
			}
			if plan != nil {
				for ns, n := range tc.owed {
					if plan.owed[farmKey(ns)] != n {
						t.Errorf("the dry run changed the plan: %s owes %d, was %d", ns, plan.owed[farmKey(ns)], n)
					}
				}
			}
		})
	}
}

func TestOrderedScoreFuncs(t *testing.T) {
	// alice holds 4 with a minimum of 1 (overquota 3); bob holds 1 with a minimum of 0 (overquota 1).
	farms := []*farmv1alpha1.Farm{
		newFarm("alice", "f", t0, "spark-role", "executor", 1, 0),
		newFarm("bob", "f", t0, "spark-role", "executor", 0, 0),
	}
	a1 := spark("alice", "a1", "n1", startedAt(0))
	a2 := spark("alice", "a2", "n2", startedAt(time.Hour))
	a3 := spark("alice", "a3", "n3", startedAt(3*time.Hour))
	a4 := spark("alice", "a4", "n3", createdAt(150*time.Minute))
	b1 := spark("bob", "b1", "n4", startedAt(0))
	driver := plain("alice", "driver", "n5", startedAt(0))
	p := newTestPlugin(t, farms, []*corev1.Pod{a1, a2, a3, a4, b1, driver})
	unix := func(d time.Duration) int64 { return t0.Add(d).Unix() }

	tests := []struct {
		name    string
		victims map[string][]*corev1.Pod
		// want are the scores of the three functions, in order, by node.
		want     map[string][]int64
		wantNode string
	}{
		{
			name:     "fewer victims first, whatever their farm",
			victims:  map[string][]*corev1.Pod{"x": {a1, a2}, "y": {b1}},
			want:     map[string][]int64{"x": {-2, 6, unix(0) + unix(time.Hour)}, "y": {-1, 1, unix(0)}},
			wantNode: "y",
		},
		{
			name:     "as many victims: those of the farm with the larger overquota",
			victims:  map[string][]*corev1.Pod{"x": {b1}, "y": {a1}},
			want:     map[string][]int64{"x": {-1, 1, unix(0)}, "y": {-1, 3, unix(0)}},
			wantNode: "y",
		},
		{
			name:     "a pod of no Farm counts no overquota",
			victims:  map[string][]*corev1.Pod{"x": {driver}, "y": {b1}},
			want:     map[string][]int64{"x": {-1, 0, unix(0)}, "y": {-1, 1, unix(0)}},
			wantNode: "y",
		},
		{
			name:     "a pod the cache does not count counts no overquota",
			victims:  map[string][]*corev1.Pod{"x": {spark("alice", "unseen", "x")}, "y": {b1}},
			want:     map[string][]int64{"x": {-1, 0, unix(0)}, "y": {-1, 1, unix(0)}},
			wantNode: "y",
		},
		{
			name:     "as many victims of equal overquota: the younger",
			victims:  map[string][]*corev1.Pod{"x": {a1}, "y": {a2}},
			want:     map[string][]int64{"x": {-1, 3, unix(0)}, "y": {-1, 3, unix(time.Hour)}},
			wantNode: "y",
		},
		{
			name:     "youth by creation time without a start time",
			victims:  map[string][]*corev1.Pod{"x": {a4}, "y": {a2}},
			want:     map[string][]int64{"x": {-1, 3, unix(150 * time.Minute)}, "y": {-1, 3, unix(time.Hour)}},
			wantNode: "x",
		},
		{
			name:    "youth is the sum of start times, not the youngest victim",
			victims: map[string][]*corev1.Pod{"x": {a1, a3}, "y": {a2, a4}},
			// x holds the youngest victim (a3), y the larger sum.
			want:     map[string][]int64{"x": {-2, 6, unix(0) + unix(3*time.Hour)}, "y": {-2, 6, unix(time.Hour) + unix(150*time.Minute)}},
			wantNode: "y",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodesToVictims := map[string]*extenderv1.Victims{}
			for node, pods := range tc.victims {
				nodesToVictims[node] = &extenderv1.Victims{Pods: pods}
			}
			r := &reclaimer{p: p}
			funcs := r.OrderedScoreFuncs(t.Context(), nodesToVictims)
			got := map[string][]int64{}
			for node := range nodesToVictims {
				for _, f := range funcs {
					got[node] = append(got[node], f(node))
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
			if node := pickByScores(nodesToVictims, funcs); node != tc.wantNode {
				t.Errorf("picked node %q, want %q", node, tc.wantNode)
			}
		})
	}
}

// pickByScores picks a node the way the upstream evaluator does with ordered score functions:
// the highest score of the first function, ties broken by the next.
func pickByScores(nodesToVictims map[string]*extenderv1.Victims, funcs []func(string) int64) string {
	var nodes []string
	for n := range nodesToVictims {
		nodes = append(nodes, n)
	}
	for _, f := range funcs {
		best, kept := int64(math.MinInt64), []string(nil)
		for _, n := range nodes {
			switch s := f(n); {
			case s > best:
				best, kept = s, []string{n}
			case s == best:
				kept = append(kept, n)
			}
		}
		if len(kept) == 1 {
			return kept[0]
		}
		nodes = kept
	}
	return "" // a tie: the upstream evaluator would pick any
}

func TestPodEligibleToPreemptOthers(t *testing.T) {
	// carol is below its minimum (0 of 2), bob at it (1 of 1), alice above it (1 of 0); condor is
	// another farm type. n1..n5 each hold one terminating pod of a different kind; n6 none.
	farms := []*farmv1alpha1.Farm{
		newFarm("alice", "f", t0, "spark-role", "executor", 0, 0),
		newFarm("bob", "f", t0, "spark-role", "executor", 1, 0),
		newFarm("carol", "f", t0, "spark-role", "executor", 2, 0),
		newFarm("condor", "f", t0, "app", "worker", 0, 0),
	}
	pods := []*corev1.Pod{
		spark("alice", "leaving", "n1", deleting()),
		condorWorker("condor", "leaving", "n2", deleting()),
		spark("nofarm", "leaving", "n3", deleting()),
		plain("carol", "driver-leaving", "n3", deleting()),
		spark("carol", "leaving", "n4", deleting()),
		spark("alice", "running", "n5"),
		spark("bob", "running", "n5"),
	}
	const (
		notBelowMin = "only a farm below its minimum reclaims"
		stillGoing  = "reclaimed executors still terminate on the nominated node"
	)
	tests := []struct {
		name       string
		pod        *corev1.Pod
		status     *fwk.Status
		want       bool
		wantReason string
	}{
		{name: "pod of no Farm", pod: spark("nofarm", "w", ""), want: false, wantReason: notBelowMin},
		{name: "driver next to a farm below its minimum", pod: plain("carol", "driver", ""), want: false, wantReason: notBelowMin},
		{name: "farm at its minimum", pod: spark("bob", "w", ""), want: false, wantReason: notBelowMin},
		{name: "farm above its minimum", pod: spark("alice", "w", ""), want: false, wantReason: notBelowMin},
		{name: "farm below its minimum, not nominated", pod: spark("carol", "w", ""), want: true},
		{name: "nominated node holds a terminating executor of another farm of the same type", pod: spark("carol", "w", "", nominatedTo("n1")), want: false, wantReason: stillGoing},
		{name: "nominated node holds a terminating executor of the pod's own farm", pod: spark("carol", "w", "", nominatedTo("n4")), want: false, wantReason: stillGoing},
		{name: "nominated node still unschedulable with a terminating executor", pod: spark("carol", "w", "", nominatedTo("n1")), status: fwk.NewStatus(fwk.Unschedulable, "too little cpu"), want: false, wantReason: stillGoing},
		{name: "nominated node holds a terminating executor of another farm type", pod: spark("carol", "w", "", nominatedTo("n2")), want: true},
		{name: "nominated node holds terminating pods of no Farm", pod: spark("carol", "w", "", nominatedTo("n3")), want: true},
		{name: "nominated node holds running executors only", pod: spark("carol", "w", "", nominatedTo("n5")), want: true},
		{name: "nominated node holds nothing", pod: spark("carol", "w", "", nominatedTo("n6")), want: true},
		{name: "nominated node unresolvable: terminating executors do not help", pod: spark("carol", "w", "", nominatedTo("n1")), status: fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node(s) had untolerated taint"), want: true},
		{name: "nominated node gone", pod: spark("carol", "w", "", nominatedTo("gone")), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			f := newReclaimFixture(ctx, t, farms, []string{"n1", "n2", "n3", "n4", "n5", "n6"}, append([]*corev1.Pod{tc.pod}, pods...), nil)
			r := &reclaimer{p: f.p}
			got, reason := r.PodEligibleToPreemptOthers(ctx, tc.pod, tc.status)
			if diff := cmp.Diff([]any{tc.want, tc.wantReason}, []any{got, reason}); diff != "" {
				t.Errorf("eligible, reason (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVictimNodesFirst(t *testing.T) {
	// alice owes 2, bob owes 1, dave owes nothing; condor is another farm type.
	owed := map[string]int32{"alice": 2, "bob": 1}
	pods := []*corev1.Pod{
		spark("alice", "old", "n1", startedAt(0)),
		spark("alice", "young", "n2", startedAt(time.Hour)),
		spark("alice", "young-but-important", "n3", startedAt(2*time.Hour), priority(10)),
		spark("alice", "leaving", "n4", startedAt(3*time.Hour), deleting()),
		spark("bob", "youngest", "n5", startedAt(4*time.Hour)),
		spark("bob", "older", "n2", startedAt(0)),
		spark("dave", "youngest", "n6", startedAt(5*time.Hour)),
		condorWorker("condor", "youngest", "n7", startedAt(5*time.Hour)),
		spark("nofarm", "youngest", "n8", startedAt(5*time.Hour)),
	}
	allNodes := []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"}
	tests := []struct {
		name string
		// rejected are the nodes the filters rejected with Unschedulable; the others with
		// UnschedulableAndUnresolvable.
		rejected []string
		want     []string
	}{
		{
			name:     "owing the most first, then lower priority, then youngest; nodes without owed executors dropped",
			rejected: allNodes,
			want:     []string{"n2", "n1", "n3", "n5"},
		},
		{
			name:     "a node the filters call unresolvable stays out",
			rejected: []string{"n1", "n3", "n5", "n6"},
			want:     []string{"n1", "n3", "n5"},
		},
		{
			name:     "no node holds an owed executor",
			rejected: []string{"n6", "n7", "n8"},
			want:     nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			f := newReclaimFixture(ctx, t, reclaimFarms(), allNodes, pods, nil)
			plan := map[types.NamespacedName]int32{}
			for ns, n := range owed {
				plan[farmKey(ns)] = n
			}
			statuses := framework.NewNodeToStatus(map[string]*fwk.Status{}, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "elsewhere"))
			for _, n := range tc.rejected {
				statuses.Set(n, fwk.NewStatus(fwk.Unschedulable, "Insufficient cpu"))
			}
			nodes := &victimNodesFirst{NodeToStatusReader: statuses, rank: f.p.victimNodeRanks(plan)}
			infos, err := nodes.NodesForStatusCode(f.snapshot.NodeInfos(), fwk.Unschedulable)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range infos {
				got = append(got, n.Node().Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
		})
	}
}

// recordingActivator records the pods the plugin reactivates.
type recordingActivator struct {
	mu        sync.Mutex
	activated []string
}

func (a *recordingActivator) Activate(_ klog.Logger, pods map[string]*corev1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key := range pods {
		a.activated = append(a.activated, key)
	}
}

func (a *recordingActivator) keys() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.activated)
}

// TestPostFilterRetriesOnTheTriggerCadence checks that a guaranteed pod the plugin declines to
// reclaim for, because executors reclaimed earlier are still on their way, is reactivated after
// the trigger interval: once those executors' pods land, no cluster event is left to requeue it.
// A pod that nothing can help is left to the cluster's events.
func TestPostFilterRetriesOnTheTriggerCadence(t *testing.T) {
	tests := []struct {
		name string
		// farms are alice (borrowing, min aliceMin, one executor on n1) and carol (min 1, the
		// waiting pod's farm).
		aliceMin int32
		// reclaimedFor names the waiting pod alice's executor was already reclaimed for.
		reclaimedFor  string
		wantMessage   string
		wantActivated []string
	}{
		{
			name:          "executors reclaimed for another waiting pod are still on their way",
			reclaimedFor:  "carol/other",
			wantMessage:   "reclaim: waiting for 1 reclaimed executors of type spark-role=executor to terminate",
			wantActivated: []string{"carol/w"},
		},
		{
			name:        "no farm is over its minimum: nothing the cadence could help",
			aliceMin:    1,
			wantMessage: "reclaim: no farm of type spark-role=executor is over its minimum",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			farms := []*farmv1alpha1.Farm{
				newFarm("alice", "f", t0, "spark-role", "executor", tc.aliceMin, 0),
				newFarm("carol", "f", t0, "spark-role", "executor", 1, 0),
			}
			victim := spark("alice", "a1", "n1")
			waiting := spark("carol", "w", "")
			pods := []*corev1.Pod{victim, waiting}
			if tc.reclaimedFor != "" {
				// The pod the executor was reclaimed for waits too, in carol's farm: demand 1
				// between the two, one executor already leaving for it.
				ns, name, _ := strings.Cut(tc.reclaimedFor, "/")
				pods = append(pods, spark(ns, name, "", createdAt(-time.Minute)))
			}
			activator := &recordingActivator{}
			fw, err := tf.NewFramework(ctx, []tf.RegisterPluginFunc{
				tf.RegisterQueueSortPlugin(queuesort.Name, queuesort.New),
				tf.RegisterBindPlugin(defaultbinder.Name, defaultbinder.New),
			}, "", frameworkruntime.WithPodActivator(activator), frameworkruntime.WithLogger(klog.FromContext(ctx)))
			if err != nil {
				t.Fatal(err)
			}
			p := newTestPlugin(t, farms, pods)
			p.handle = fw
			p.args.TriggerInterval = metav1.Duration{Duration: time.Millisecond}
			p.evictions = newEvictions(p.farms)
			if tc.reclaimedFor != "" {
				p.evictions.add(victim.UID, farmKey("alice"), types.UID(tc.reclaimedFor))
			}

			state := framework.NewCycleState()
			if _, s := p.PreFilter(ctx, state, waiting, nil); !s.IsSuccess() {
				t.Fatalf("PreFilter: %v", s)
			}
			_, status := p.PostFilter(ctx, state, waiting, framework.NewDefaultNodeToStatus())
			if status.Code() != fwk.Unschedulable || status.Message() != tc.wantMessage {
				t.Fatalf("PostFilter = %v, want Unschedulable %q", status, tc.wantMessage)
			}
			// The activation is due after a millisecond: wait for it, or give it ample time to
			// show that it does not come.
			if tc.wantActivated != nil {
				_ = wait.PollUntilContextTimeout(ctx, time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
					return len(activator.keys()) >= len(tc.wantActivated), nil
				})
			} else {
				time.Sleep(100 * time.Millisecond)
			}
			if diff := cmp.Diff(tc.wantActivated, activator.keys()); diff != "" {
				t.Errorf("activated pods (-want +got):\n%s", diff)
			}
		})
	}
}
