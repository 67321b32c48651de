package farm

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeaffinity"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/tainttoleration"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	tf "k8s.io/kubernetes/pkg/scheduler/testing/framework"

	"github.com/toinfn/farm/pkg/apis/config"
	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// cluster is what a reclaim test starts from.
type cluster struct {
	farms     []*farmv1alpha1.Farm
	nodes     []*corev1.Node
	pods      []*corev1.Pod
	pdbs      []*policy.PodDisruptionBudget
	nominated []*corev1.Pod
	// refuse makes the Eviction API refuse these pods (namespace/name), as a budget would.
	refuse []string
}

// reclaimFixture is the plugin over a real framework (the resource, node affinity and taint
// filters), a snapshot of the cluster, and a fake API that records evictions; the preemption
// evaluator actuates synchronously.
type reclaimFixture struct {
	p         *Plugin
	fw        framework.Framework
	activator *recordingActivator
	// events holds the events the plugin recorded, as "Type Reason Message".
	events *events.FakeRecorder

	mu      sync.Mutex
	evicted []string
}

func newReclaimFixture(ctx context.Context, t testing.TB, c cluster) *reclaimFixture {
	t.Helper()
	schedmetrics.Register()
	var bound []*corev1.Pod
	for _, p := range c.pods {
		if p.Spec.NodeName != "" {
			bound = append(bound, p)
		}
	}
	snapshot := internalcache.NewSnapshot(bound, c.nodes)
	nominator := fixedNominator{}
	for _, p := range c.nominated {
		nominator[p.Status.NominatedNodeName] = append(nominator[p.Status.NominatedNodeName], podInfo(p))
	}
	var objects []runtime.Object
	for _, p := range append(slices.Clone(c.pods), c.nominated...) {
		objects = append(objects, p)
	}
	client := fake.NewClientset(objects...)
	f := &reclaimFixture{activator: &recordingActivator{}, events: events.NewFakeRecorder(1000)}
	client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		e := action.(clienttesting.CreateAction).GetObject().(*policy.Eviction)
		key := e.Namespace + "/" + e.Name
		if slices.Contains(c.refuse, key) {
			return true, nil, apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
		}
		f.mu.Lock()
		f.evicted = append(f.evicted, key)
		f.mu.Unlock()
		return true, nil, nil
	})
	informerFactory := informers.NewSharedInformerFactory(client, 0)
	for _, p := range append(slices.Clone(c.pods), c.nominated...) {
		if err := informerFactory.Core().V1().Pods().Informer().GetIndexer().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range c.pdbs {
		if err := informerFactory.Policy().V1().PodDisruptionBudgets().Informer().GetIndexer().Add(b); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := tf.NewFramework(ctx, []tf.RegisterPluginFunc{
		tf.RegisterQueueSortPlugin(queuesort.Name, queuesort.New),
		tf.RegisterPluginAsExtensions(noderesources.Name, frameworkruntime.FactoryAdapter(feature.Features{}, noderesources.NewFit), "Filter", "PreFilter"),
		tf.RegisterPluginAsExtensions(nodeaffinity.Name, frameworkruntime.FactoryAdapter(feature.Features{}, nodeaffinity.New), "Filter", "PreFilter"),
		tf.RegisterPluginAsExtensions(tainttoleration.Name, frameworkruntime.FactoryAdapter(feature.Features{}, tainttoleration.New), "Filter"),
		tf.RegisterBindPlugin(defaultbinder.Name, defaultbinder.New),
	}, "",
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithMutableSnapshotLister(snapshot),
		frameworkruntime.WithPodNominator(nominator),
		frameworkruntime.WithClientSet(client),
		frameworkruntime.WithInformerFactory(informerFactory),
		frameworkruntime.WithPodActivator(f.activator),
		frameworkruntime.WithEventRecorder(f.events),
		frameworkruntime.WithLogger(klog.FromContext(ctx)),
	)
	if err != nil {
		t.Fatal(err)
	}
	p := newTestPlugin(t, c.farms, append(slices.Clone(c.pods), c.nominated...))
	p.handle = fw
	p.args.TriggerInterval = metav1.Duration{Duration: time.Hour}
	p.pdbs = informerFactory.Policy().V1().PodDisruptionBudgets().Lister()
	p.triggers = newTriggers(p.args.TriggerInterval.Duration)
	p.evictions = newEvictions(p.farms, p.args.TriggerInterval.Duration)
	p.claims = newClaims(p.podWaiting)
	p.reports = newReclaimReports()
	executor := preemption.NewExecutor(fw, feature.Features{})
	executor.PreemptPod = p.evictVictim
	p.evaluator = preemption.NewEvaluator(Name, fw, p, executor)
	f.p, f.fw = p, fw
	return f
}

// postFilter runs the filters over every node for pod, as a scheduling cycle does, then the
// plugin's PostFilter; it returns the result and the pods evicted by this call.
func (f *reclaimFixture) postFilter(ctx context.Context, t testing.TB, pod *corev1.Pod) (*fwk.PostFilterResult, *fwk.Status, []string) {
	t.Helper()
	state := framework.NewCycleState()
	if _, s := f.p.PreFilter(ctx, state, pod, nil); !s.IsSuccess() {
		t.Fatalf("PreFilter: %v", s)
	}
	if _, s, _ := f.fw.RunPreFilterPlugins(ctx, state, pod); !s.IsSuccess() {
		t.Fatalf("RunPreFilterPlugins: %v", s)
	}
	statuses := framework.NewDefaultNodeToStatus()
	nodes, err := f.fw.SnapshotSharedLister().NodeInfos().List()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if s := f.fw.RunFilterPluginsWithNominatedPods(ctx, state, pod, n); !s.IsSuccess() {
			statuses.Set(n.Node().Name, s)
		} else {
			t.Fatalf("pod %s fits node %s: a PostFilter test needs a pod that fits nowhere", pod.Name, n.Node().Name)
		}
	}
	f.mu.Lock()
	before := len(f.evicted)
	f.mu.Unlock()
	result, status := f.p.PostFilter(ctx, state, pod, statuses)
	f.mu.Lock()
	defer f.mu.Unlock()
	evicted := slices.Clone(f.evicted[before:])
	sort.Strings(evicted)
	return result, status, evicted
}

func nominatedNode(r *fwk.PostFilterResult) string {
	if r == nil || r.NominatingInfo == nil {
		return ""
	}
	return r.NominatedNodeName
}

// full fills a node with n executors of a namespace's farm, each of cpu CPUs, the later ones
// younger.
func fullOf(ns, node string, n int, cpuEach string) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range n {
		out = append(out, spark(ns, node+"-"+string(rune('a'+i)), node, cpu(cpuEach), startedAt(time.Duration(i)*time.Minute)))
	}
	return out
}

func TestPostFilter(t *testing.T) {
	tests := []struct {
		name    string
		cluster cluster
		pod     *corev1.Pod
		// wantNode is the pod's nomination; wantEvicted the pods evicted, sorted.
		wantNode    string
		wantEvicted []string
		wantCode    fwk.Code
		// wantMessage is a substring of the status message.
		wantMessage string
	}{{
		name: "a 2-CPU executor takes two 1-CPU victims on one node, the youngest",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4"), testNode("n1", "4"), testNode("n2", "4")},
			pods:  slices.Concat(fullOf("alice", "n0", 4, "1"), fullOf("alice", "n1", 4, "1"), fullOf("alice", "n2", 4, "1")),
		},
		pod:         spark("carol", "w", "", cpu("2")),
		wantNode:    "n0",
		wantEvicted: []string{"alice/n0-c", "alice/n0-d"},
		wantCode:    fwk.Success,
	}, {
		name: "one 4-CPU victim for a 1-CPU executor",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 4)},
			nodes: []*corev1.Node{testNode("n0", "4"), testNode("n1", "4")},
			pods:  slices.Concat(fullOf("alice", "n0", 1, "4"), fullOf("alice", "n1", 1, "4")),
		},
		pod:         spark("carol", "w", ""),
		wantNode:    "n0",
		wantEvicted: []string{"alice/n0-a"},
		wantCode:    fwk.Success,
	}, {
		name: "node pools: the farm with nothing on the pod's pool owes nothing",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), borrower("bob"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("a0", "4", pool("a")), testNode("a1", "4", pool("a")), testNode("b0", "4", pool("b"))},
			pods:  slices.Concat(fullOf("alice", "a0", 4, "1"), fullOf("alice", "a1", 4, "1"), fullOf("bob", "b0", 4, "1")),
		},
		pod:         spark("carol", "w", "", inPool("b")),
		wantNode:    "b0",
		wantEvicted: []string{"bob/b0-d"},
		wantCode:    fwk.Success,
	}, {
		name: "a farm a budget protects is passed over for one that is not",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), borrower("bob"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4"), testNode("n1", "4"), testNode("n2", "4")},
			pods:  slices.Concat(fullOf("alice", "n0", 4, "1"), fullOf("alice", "n1", 4, "1"), fullOf("bob", "n2", 4, "1")),
			pdbs:  []*policy.PodDisruptionBudget{pdb("alice", 0)},
		},
		pod:         spark("carol", "w", ""),
		wantNode:    "n2",
		wantEvicted: []string{"bob/n2-d"},
		wantCode:    fwk.Success,
	}, {
		name: "every victim protected: nothing evicted, the budget named",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4")},
			pods:  fullOf("alice", "n0", 4, "1"),
			pdbs:  []*policy.PodDisruptionBudget{pdb("alice", 0)},
		},
		pod:         spark("carol", "w", ""),
		wantCode:    fwk.Unschedulable,
		wantMessage: "farm alice/f passed over: PodDisruptionBudget alice/executors allows no disruption",
	}, {
		name: "taints: a pod that does not tolerate the tainted pool is served elsewhere",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("gpu", "4", tainted("gpu")), testNode("n0", "4")},
			pods:  slices.Concat(fullOf("alice", "gpu", 4, "1"), fullOf("alice", "n0", 4, "1")),
		},
		pod:         spark("carol", "w", ""),
		wantNode:    "n0",
		wantEvicted: []string{"alice/n0-d"},
		wantCode:    fwk.Success,
	}, {
		name: "taints: a pod that tolerates the taint may use the tainted node",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("gpu", "4", tainted("gpu")), testNode("n0", "4")},
			pods:  slices.Concat(fullOf("alice", "gpu", 4, "1"), fullOf("alice", "n0", 4, "1")),
		},
		pod:         spark("carol", "w", "", tolerating("gpu")),
		wantNode:    "gpu",
		wantEvicted: []string{"alice/gpu-d"},
		wantCode:    fwk.Success,
	}, {
		name: "a pod that fits nowhere even after every admissible eviction evicts nothing",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4"), testNode("n1", "4")},
			pods:  slices.Concat(fullOf("alice", "n0", 4, "1"), fullOf("alice", "n1", 4, "1")),
		},
		pod:         spark("carol", "w", "", cpu("6")),
		wantCode:    fwk.Unschedulable,
		wantMessage: "fits on no node even after every admissible eviction",
	}, {
		name: "never a pod of no Farm, of another farm type, or of a farm at its minimum",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{guaranteed("alice", 2), borrower("condor"), guaranteed("carol", 2),
				newFarm("condor", "f", t0, "app", "worker", 0, 0)},
			nodes: []*corev1.Node{testNode("n0", "4")},
			pods: []*corev1.Pod{
				spark("alice", "a1", "n0"), spark("alice", "a2", "n0"),
				plain("carol", "driver", "n0"), condorWorker("condor", "w1", "n0"),
			},
		},
		pod:         spark("carol", "w", ""),
		wantCode:    fwk.Unschedulable,
		wantMessage: "no farm of type spark-role=executor is over its minimum",
	}, {
		name: "room already being made by executors leaving: nominated, nothing evicted",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4")},
			pods: []*corev1.Pod{
				spark("alice", "a1", "n0"), spark("alice", "a2", "n0"), spark("alice", "a3", "n0"),
				spark("alice", "leaving", "n0", deleting()),
			},
		},
		pod:      spark("carol", "w", ""),
		wantNode: "n0",
		wantCode: fwk.Success,
	}, {
		name: "a farm above its lowered ceiling gives the reclaim up to max - min",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{newFarm("alice", "f", t0, "spark-role", "executor", 0, 1), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4")},
			pods:  fullOf("alice", "n0", 4, "1"),
		},
		pod:         spark("carol", "w", ""),
		wantNode:    "n0",
		wantEvicted: []string{"alice/n0-d"},
		wantCode:    fwk.Success,
	}, {
		name: "a farm above its lowered ceiling: the rest is the scale-down's, not the reclaim's",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{newFarm("alice", "f", t0, "spark-role", "executor", 0, 1), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4")},
			pods:  fullOf("alice", "n0", 4, "1"),
		},
		pod:         spark("carol", "w", "", cpu("2")),
		wantCode:    fwk.Unschedulable,
		wantMessage: "do not make enough room",
	}, {
		name: "an executor Spark decommissions is no victim and no longer counts for its farm",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{guaranteed("alice", 2), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4")},
			pods: []*corev1.Pod{
				spark("alice", "a1", "n0"), spark("alice", "a2", "n0"), spark("alice", "a3", "n0", startedAt(time.Minute)),
				spark("alice", "decommissioning", "n0", startedAt(2*time.Minute), labelled(quota.DecommissioningLabel, "")),
			},
		},
		// alice holds 3 executors, not 4: one over its minimum, the oldest of whom is not the
		// youngest pod on the node.
		pod:         spark("carol", "w", ""),
		wantNode:    "n0",
		wantEvicted: []string{"alice/a3"},
		wantCode:    fwk.Success,
	}, {
		name: "an executor stuck in Terminating past its grace period holds its room: a victim is evicted",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
			nodes: []*corev1.Node{testNode("n0", "4")},
			pods: []*corev1.Pod{
				spark("alice", "a1", "n0"), spark("alice", "a2", "n0"), spark("alice", "a3", "n0", startedAt(time.Minute)),
				spark("carol", "stuck", "n0", stuckDeleting()),
			},
		},
		pod:         spark("carol", "w", ""),
		wantNode:    "n0",
		wantEvicted: []string{"alice/a3"},
		wantCode:    fwk.Success,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			f := newReclaimFixture(ctx, t, cluster{farms: tc.cluster.farms, nodes: tc.cluster.nodes, pods: append(slices.Clone(tc.cluster.pods), tc.pod), pdbs: tc.cluster.pdbs})
			result, status, evicted := f.postFilter(ctx, t, tc.pod)
			if status.Code() != tc.wantCode || !strings.Contains(status.Message(), tc.wantMessage) {
				t.Fatalf("status = %v %q, want %v containing %q", status.Code(), status.Message(), tc.wantCode, tc.wantMessage)
			}
			if got := nominatedNode(result); got != tc.wantNode {
				t.Errorf("nominated node = %q, want %q", got, tc.wantNode)
			}
			if diff := cmp.Diff(tc.wantEvicted, evicted); diff != "" {
				t.Errorf("evicted (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPostFilterCountsRoomForTheNextPod checks, cycle by cycle, that the room one big victim
// leaves is used by the next waiting pods before anything else is evicted.
func TestPostFilterCountsRoomForTheNextPod(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	waiting := []*corev1.Pod{spark("carol", "w0", ""), spark("carol", "w1", ""), spark("carol", "w2", ""), spark("carol", "w3", "")}
	c := cluster{
		farms: []*farmv1alpha1.Farm{newFarm("alice", "f", t0, "spark-role", "executor", 0, 0), newFarm("carol", "f", t0, "spark-role", "executor", 4, 0)},
		nodes: []*corev1.Node{testNode("n0", "4"), testNode("n1", "4"), testNode("n2", "4")},
		pods:  slices.Concat(fullOf("alice", "n0", 1, "4"), fullOf("alice", "n1", 1, "4"), fullOf("alice", "n2", 1, "4"), waiting),
	}
	f := newReclaimFixture(ctx, t, c)
	var all []string
	for i, w := range waiting {
		result, status, evicted := f.postFilter(ctx, t, w)
		if !status.IsSuccess() {
			t.Fatalf("cycle %d: %v", i, status)
		}
		if got := nominatedNode(result); got != "n0" {
			t.Errorf("cycle %d: nominated to %q, want n0", i, got)
		}
		all = append(all, evicted...)
	}
	if diff := cmp.Diff([]string{"alice/n0-a"}, all); diff != "" {
		t.Errorf("evicted over four cycles (-want +got):\n%s", diff)
	}
}

// TestPostFilterDrivers: a driver of a farm below its minimum reclaims room for itself on a
// cluster full of borrowed executors, as the farm's executors would; a tenant's extra drivers
// borrow.
func TestPostFilterDrivers(t *testing.T) {
	sparkDriver := config.DriverSelector{LabelKey: "spark-role", LabelValue: "driver"}
	notebooks := config.DriverSelector{LabelKey: "component", LabelValue: "singleuser-server"}
	full := cluster{
		farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
		nodes: []*corev1.Node{testNode("n0", "4"), testNode("n1", "4")},
		pods:  slices.Concat(fullOf("alice", "n0", 4, "1"), fullOf("alice", "n1", 4, "1")),
	}
	withRunningDriver := full
	withRunningDriver.pods = slices.Concat(fullOf("alice", "n0", 4, "1"), fullOf("alice", "n1", 3, "1"), []*corev1.Pod{plain("carol", "running-driver", "n1")})
	atMinimum := full
	atMinimum.farms = []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 0)}
	tests := []struct {
		name       string
		cluster    cluster
		drivers    []config.DriverSelector
		maxDrivers int32
		pod        *corev1.Pod
		// wantEvicted is empty when nothing may be evicted.
		wantEvicted []string
		wantMessage string
	}{{
		name:    "a Spark driver of a farm below its minimum takes a borrowed executor's room",
		cluster: full, drivers: []config.DriverSelector{sparkDriver}, maxDrivers: 1,
		pod:         plain("carol", "driver", ""),
		wantEvicted: []string{"alice/n0-d"},
	}, {
		name:    "a notebook with the configured label does too",
		cluster: full, drivers: []config.DriverSelector{sparkDriver, notebooks}, maxDrivers: 1,
		pod:         notebook("carol", "jupyter", ""),
		wantEvicted: []string{"alice/n0-d"},
	}, {
		name:    "a notebook without the configured label is no driver",
		cluster: full, drivers: []config.DriverSelector{sparkDriver}, maxDrivers: 1,
		pod:         notebook("carol", "jupyter", ""),
		wantMessage: "belongs to no Farm",
	}, {
		name:    "a second driver while one runs would borrow",
		cluster: withRunningDriver, drivers: []config.DriverSelector{sparkDriver}, maxDrivers: 1,
		pod:         plain("carol", "driver-2", ""),
		wantMessage: "already has 1 driver(s) running or being placed",
	}, {
		name:    "a second driver where two may reclaim",
		cluster: withRunningDriver, drivers: []config.DriverSelector{sparkDriver}, maxDrivers: 2,
		pod:         plain("carol", "driver-2", ""),
		wantEvicted: []string{"alice/n0-d"},
	}, {
		name:    "a driver of a farm at its minimum borrows",
		cluster: atMinimum, drivers: []config.DriverSelector{sparkDriver}, maxDrivers: 1,
		pod:         plain("carol", "driver", ""),
		wantMessage: "at or above its minimum",
	}, {
		// The driver's own pod belongs to no Farm: the message names its farm's type.
		name: "a driver when no farm of its type is over its minimum",
		cluster: cluster{
			farms: []*farmv1alpha1.Farm{guaranteed("alice", 8), guaranteed("carol", 2)},
			nodes: full.nodes,
			pods:  full.pods,
		},
		drivers: []config.DriverSelector{sparkDriver}, maxDrivers: 1,
		pod:         plain("carol", "driver", ""),
		wantMessage: "no farm of type spark-role=executor is over its minimum",
	}, {
		name:    "driver reclaim turned off",
		cluster: full, drivers: []config.DriverSelector{sparkDriver}, maxDrivers: 0,
		pod:         plain("carol", "driver", ""),
		wantMessage: "belongs to no Farm",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			c := tc.cluster
			c.pods = append(slices.Clone(c.pods), tc.pod)
			f := newReclaimFixture(ctx, t, c)
			f.p.args.Drivers, f.p.args.MaxReclaimingDrivers = tc.drivers, tc.maxDrivers
			result, status, evicted := f.postFilter(ctx, t, tc.pod)
			if diff := cmp.Diff(tc.wantEvicted, evicted); diff != "" {
				t.Errorf("evicted (-want +got):\n%s", diff)
			}
			if tc.wantEvicted != nil {
				if !status.IsSuccess() || nominatedNode(result) != "n0" {
					t.Errorf("status %v, nominated %q; want success on n0", status, nominatedNode(result))
				}
				return
			}
			if status.Code() != fwk.Unschedulable || !strings.Contains(status.Message(), tc.wantMessage) {
				t.Errorf("status = %v %q, want Unschedulable containing %q", status.Code(), status.Message(), tc.wantMessage)
			}
		})
	}
}

// TestPostFilterReleasesStaleNominations: bob's pod was nominated to n0 by a reclaim while bob
// was below its minimum; bob has reached it since, so the pod would only borrow. Its nomination
// holds no room for carol's guaranteed pod: carol is served there without an eviction, and the
// stale nomination is cleared.
func TestPostFilterReleasesStaleNominations(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	stale := spark("bob", "stale", "", nominatedTo("n0"))
	waiting := spark("carol", "w", "")
	f := newReclaimFixture(ctx, t, cluster{
		farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("bob", 1), guaranteed("carol", 1)},
		nodes: []*corev1.Node{testNode("n0", "4"), testNode("n1", "4")},
		pods: slices.Concat(fullOf("alice", "n0", 3, "1"), fullOf("alice", "n1", 3, "1"),
			[]*corev1.Pod{spark("bob", "running", "n1"), waiting}),
		nominated: []*corev1.Pod{stale},
	})
	result, status, evicted := f.postFilter(ctx, t, waiting)
	if !status.IsSuccess() || nominatedNode(result) != "n0" || len(evicted) != 0 {
		t.Fatalf("status %v, nominated %q, evicted %v; want n0's room, held by a stale nomination, without an eviction", status, nominatedNode(result), evicted)
	}
	got, err := f.fw.ClientSet().CoreV1().Pods("bob").Get(ctx, "stale", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.NominatedNodeName != "" {
		t.Errorf("bob's stale nomination is still %q", got.Status.NominatedNodeName)
	}
}

// TestPostFilterKeepsTheGuaranteeOfNominatedPods: carol (minimum 2) has two pods nominated to
// the room one leaving victim makes, and a third waiting. The third would only borrow: it
// reclaims nothing, while a nominated one is still served from the room being made.
func TestPostFilterKeepsTheGuaranteeOfNominatedPods(t *testing.T) {
	w0, w1 := spark("carol", "w0", "", nominatedTo("n0")), spark("carol", "w1", "", nominatedTo("n0"))
	c := cluster{
		farms: []*farmv1alpha1.Farm{borrower("alice"), guaranteed("carol", 2)},
		nodes: []*corev1.Node{testNode("n0", "4")},
		pods: []*corev1.Pod{
			spark("alice", "a1", "n0"), spark("alice", "a2", "n0"),
			spark("alice", "big", "n0", cpu("2"), deleting()),
		},
		nominated: []*corev1.Pod{w0, w1},
	}
	tests := []struct {
		name        string
		pod         *corev1.Pod
		wantNode    string
		wantCode    fwk.Code
		wantMessage string
	}{
		{name: "a nominated pod is served from the room being made", pod: w1, wantNode: "n0", wantCode: fwk.Success},
		{name: "a third pod would borrow", pod: spark("carol", "w2", ""), wantCode: fwk.Unschedulable, wantMessage: "this one would borrow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			cc := c
			if !slices.Contains(c.nominated, tc.pod) {
				cc.pods = append(slices.Clone(c.pods), tc.pod)
			}
			f := newReclaimFixture(ctx, t, cc)
			result, status, evicted := f.postFilter(ctx, t, tc.pod)
			if status.Code() != tc.wantCode || !strings.Contains(status.Message(), tc.wantMessage) {
				t.Fatalf("status = %v %q, want %v containing %q", status.Code(), status.Message(), tc.wantCode, tc.wantMessage)
			}
			if got := nominatedNode(result); got != tc.wantNode {
				t.Errorf("nominated node = %q, want %q", got, tc.wantNode)
			}
			if len(evicted) != 0 {
				t.Errorf("evicted %v, want nothing: the room being made covers the guarantee", evicted)
			}
		})
	}
}

// TestPostFilterWaitsOutHysteresis checks that a victim farm loses nothing before its
// scaledownAfterNTriggers, and that the waiting pod is retried on the trigger cadence.
func TestPostFilterWaitsOutHysteresis(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	alice := newFarm("alice", "f", t0, "spark-role", "executor", 0, 0)
	alice.Spec.ScaledownAfterNTriggers = 2
	w := spark("carol", "w", "")
	f := newReclaimFixture(ctx, t, cluster{
		farms: []*farmv1alpha1.Farm{alice, newFarm("carol", "f", t0, "spark-role", "executor", 1, 0)},
		nodes: []*corev1.Node{testNode("n0", "4")},
		pods:  append(fullOf("alice", "n0", 4, "1"), w),
	})
	f.p.args.TriggerInterval = metav1.Duration{Duration: time.Millisecond}
	f.p.triggers = newTriggers(time.Millisecond)
	now := t0
	f.p.triggers.now = func() time.Time { return now }

	_, status, evicted := f.postFilter(ctx, t, w)
	if status.Code() != fwk.Unschedulable || !strings.Contains(status.Message(), "trigger 1 of 2") || len(evicted) != 0 {
		t.Fatalf("first trigger: %v %q, evicted %v; want Unschedulable at trigger 1 of 2, nothing evicted", status.Code(), status.Message(), evicted)
	}
	if err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return slices.Contains(f.activator.keys(), "carol/w"), nil
	}); err != nil {
		t.Fatalf("the waiting pod was not retried on the trigger cadence: %v", err)
	}
	now = now.Add(time.Millisecond) // one trigger interval on: the second trigger counts
	_, status, evicted = f.postFilter(ctx, t, w)
	if !status.IsSuccess() || len(evicted) != 1 {
		t.Fatalf("second trigger: %v %q, evicted %v; want one eviction", status.Code(), status.Message(), evicted)
	}
}

// TestPostFilterRefusedEviction checks that a refused eviction is not asked again within the
// trigger interval (one API call per victim per interval), and that another victim serves.
func TestPostFilterRefusedEviction(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	w := spark("carol", "w", "")
	f := newReclaimFixture(ctx, t, cluster{
		farms:  []*farmv1alpha1.Farm{newFarm("alice", "f", t0, "spark-role", "executor", 0, 0), newFarm("carol", "f", t0, "spark-role", "executor", 1, 0)},
		nodes:  []*corev1.Node{testNode("n0", "4")},
		pods:   append(fullOf("alice", "n0", 4, "1"), w),
		refuse: []string{"alice/n0-d"},
	})
	_, status, evicted := f.postFilter(ctx, t, w)
	if status.IsSuccess() || len(evicted) != 0 {
		t.Fatalf("first cycle: %v %q, evicted %v; want the refusal to fail the reclaim", status.Code(), status.Message(), evicted)
	}
	_, status, evicted = f.postFilter(ctx, t, w)
	if !status.IsSuccess() {
		t.Fatalf("second cycle: %v %q", status.Code(), status.Message())
	}
	if diff := cmp.Diff([]string{"alice/n0-c"}, evicted); diff != "" {
		t.Errorf("second cycle evicted (-want +got):\n%s", diff)
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

// TestPostFilterNoticesRoomTaken checks that room a reclaim made for a pod, taken by a pod of
// another scheduler, is reported (event and metric) and reclaimed again; and that a pod whose
// room is still being made is not reported.
func TestPostFilterNoticesRoomTaken(t *testing.T) {
	notebookTookIt := []*corev1.Pod{
		spark("alice", "a1", "n0"), spark("alice", "a2", "n0"), spark("alice", "a3", "n0", startedAt(time.Minute)),
		plain("carol", "notebook", "n0", func(p *corev1.Pod) { p.Spec.SchedulerName = "default-scheduler" }),
	}
	tests := []struct {
		name string
		pods []*corev1.Pod
		// claimed is whether this replica's reclaim nominated the pod (a claim), beside the
		// nomination its status shows.
		claimed     bool
		wantEvicted []string
		wantEvent   bool
	}{{
		name:        "a notebook of the default scheduler took the room",
		pods:        notebookTookIt,
		claimed:     true,
		wantEvicted: []string{"alice/a3"},
		wantEvent:   true,
	}, {
		name:        "a nomination this replica did not make promised no room: reclaimed, not reported",
		pods:        notebookTookIt,
		wantEvicted: []string{"alice/a3"},
	}, {
		name: "the room is still being made: no report, nothing evicted",
		pods: []*corev1.Pod{
			spark("alice", "a1", "n0"), spark("alice", "a2", "n0"), spark("alice", "a3", "n0"),
			spark("alice", "leaving", "n0", deleting()),
		},
		claimed: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			w := spark("carol", "w", "", nominatedTo("n0"))
			f := newReclaimFixture(ctx, t, cluster{
				farms: []*farmv1alpha1.Farm{newFarm("alice", "f", t0, "spark-role", "executor", 0, 0), newFarm("carol", "f", t0, "spark-role", "executor", 2, 0)},
				nodes: []*corev1.Node{testNode("n0", "4")},
				pods:  append(tc.pods, w),
			})
			roomTaken := func() float64 {
				v, err := testutil.GetCounterMetricValue(roomTakenTotal.WithLabelValues("carol", "f"))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			before := roomTaken()
			if tc.claimed {
				f.p.claims.set(w, "n0")
			}
			_, status, evicted := f.postFilter(ctx, t, w)
			if !status.IsSuccess() {
				t.Fatalf("PostFilter: %v %q", status.Code(), status.Message())
			}
			if diff := cmp.Diff(tc.wantEvicted, evicted, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("evicted (-want +got):\n%s", diff)
			}
			gotEvent := false
			for len(f.events.Events) > 0 {
				if e := <-f.events.Events; strings.HasPrefix(e, "Warning "+EventRoomTaken+" ") {
					gotEvent = true
				}
			}
			if gotEvent != tc.wantEvent {
				t.Errorf("RoomTaken event: %v, want %v", gotEvent, tc.wantEvent)
			}
			if got := roomTaken() - before; (got == 1) != tc.wantEvent {
				t.Errorf("farm_reclaim_room_taken_total went up by %v", got)
			}
		})
	}
}
