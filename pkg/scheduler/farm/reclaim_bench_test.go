package farm

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	st "k8s.io/kubernetes/pkg/scheduler/testing"
	tf "k8s.io/kubernetes/pkg/scheduler/testing/framework"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// BenchmarkReclaimDecision measures what a reclaim costs the scheduling cycle on a full cluster:
// the plan (quota.PlanReclaim over the farm type), the nodes holding owed executors best first,
// upstream's bounded dry run with our SelectVictimsOnNode, and the choice of the node with our
// ranking: the steps of PostFilter up to the evaluator's actuation. The evictions that follow
// are API calls made outside the cycle and are not part of it.
//
// Every node is full with executors of 20 borrowing farms; one farm below its minimum has one
// executor waiting. It reports p50 and p99 of a decision next to Go's mean and allocations.
func BenchmarkReclaimDecision(b *testing.B) {
	for _, size := range []struct{ nodes, podsPerNode int }{
		{nodes: 1000, podsPerNode: 10},
		{nodes: 5000, podsPerNode: 10},
	} {
		// every-node is the same decision with a dry run over every node, for comparison: what
		// bounding the search and narrowing it to nodes with owed executors saves.
		for _, everyNode := range []bool{false, true} {
			name := fmt.Sprintf("%dnodes_%dpods", size.nodes, size.nodes*size.podsPerNode)
			if everyNode {
				name += "_every-node"
			}
			b.Run(name, func(b *testing.B) {
				benchmarkReclaimDecision(b, size.nodes, size.podsPerNode, everyNode)
			})
		}
	}
}

// TestReclaimDecisionSmoke keeps the benchmark's setup honest in every test run, on a small
// cluster: both variants take exactly one victim, from a farm the plan names.
func TestReclaimDecisionSmoke(t *testing.T) {
	for _, everyNode := range []bool{false, true} {
		decide := newReclaimDecision(t, 20, 4, everyNode)
		for range 3 {
			c := decide()
			if len(c.Victims().Pods) != 1 {
				t.Fatalf("every node %v: %d victims, want 1", everyNode, len(c.Victims().Pods))
			}
			if v := c.Victims().Pods[0]; !strings.HasPrefix(v.Namespace, "borrower-") {
				t.Errorf("every node %v: victim %s/%s is not a borrower's executor", everyNode, v.Namespace, v.Name)
			}
		}
	}
}

func benchmarkReclaimDecision(b *testing.B, numNodes, podsPerNode int, everyNode bool) {
	decide := newReclaimDecision(b, numNodes, podsPerNode, everyNode)
	latencies := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		decide()
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(latencies)
	quantile := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(quantile(0.50), "p50-ms")
	b.ReportMetric(quantile(0.99), "p99-ms")
}

// newReclaimDecision builds a full cluster of numNodes nodes with podsPerNode executors of 20
// borrowing farms each, and one waiting executor of a farm below its minimum; it returns the
// reclaim decision for that executor, repeatable.
func newReclaimDecision(b testing.TB, numNodes, podsPerNode int, everyNode bool) func() preemption.Candidate {
	const borrowers = 20
	ctx := klog.NewContext(b.Context(), klog.Background().V(0))
	schedmetrics.Register()

	farms := []*farmv1alpha1.Farm{newFarm("waiting", "f", t0, "spark-role", "executor", 10, 0)}
	for i := range borrowers {
		farms = append(farms, newFarm(fmt.Sprintf("borrower-%d", i), "f", t0, "spark-role", "executor", 0, 0))
	}
	nodes := make([]*corev1.Node, 0, numNodes)
	pods := make([]*corev1.Pod, 0, numNodes*podsPerNode)
	for n := range numNodes {
		name := fmt.Sprintf("node-%d", n)
		nodes = append(nodes, st.MakeNode().Name(name).Capacity(map[corev1.ResourceName]string{
			corev1.ResourceCPU: fmt.Sprint(podsPerNode), corev1.ResourcePods: "110",
		}).Obj())
		for i := range podsPerNode {
			k := n*podsPerNode + i
			pods = append(pods, spark(fmt.Sprintf("borrower-%d", k%borrowers), fmt.Sprintf("e-%d", k), name, startedAt(time.Duration(k)*time.Second)))
		}
	}
	preemptor := spark("waiting", "w", "")
	snapshot := internalcache.NewSnapshot(pods, nodes)
	informerFactory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	fh, err := tf.NewFramework(ctx, []tf.RegisterPluginFunc{
		tf.RegisterQueueSortPlugin(queuesort.Name, queuesort.New),
		tf.RegisterPluginAsExtensions(noderesources.Name, frameworkruntime.FactoryAdapter(feature.Features{}, noderesources.NewFit), "Filter", "PreFilter"),
		tf.RegisterBindPlugin(defaultbinder.Name, defaultbinder.New),
	}, "",
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithMutableSnapshotLister(snapshot),
		frameworkruntime.WithInformerFactory(informerFactory),
		frameworkruntime.WithPodNominator(fixedNominator{}),
		frameworkruntime.WithLogger(klog.FromContext(ctx)),
	)
	if err != nil {
		b.Fatal(err)
	}
	p := newTestPlugin(b, farms, append(slices.Clone(pods), preemptor))
	p.handle = fh
	p.evictions = newEvictions(p.farms)
	r := &reclaimer{p: p}
	ev := preemption.NewEvaluator(Name, fh, r, preemption.NewExecutor(fh, feature.Features{}))

	// The state a failed Filter leaves: the pod's PreFilter data, every node Unschedulable.
	state := framework.NewCycleState()
	if _, s := p.PreFilter(ctx, state, preemptor, nil); !s.IsSuccess() {
		b.Fatalf("PreFilter: %v", s)
	}
	if _, s, _ := fh.RunPreFilterPlugins(ctx, state, preemptor); !s.IsSuccess() {
		b.Fatalf("RunPreFilterPlugins: %v", s)
	}
	statuses := framework.NewDefaultNodeToStatus()
	statuses.SetAbsentNodesStatus(fwk.NewStatus(fwk.Unschedulable, "Insufficient cpu"))

	decide := func() preemption.Candidate {
		plan := quota.PlanReclaim(p.standings(quota.TypeOf(farms[0])))
		state.Write(planKey, &reclaimPlan{owed: plan.Owed})
		var nodes fwk.NodeToStatusReader = &victimNodesFirst{NodeToStatusReader: statuses, rank: p.victimNodeRanks(plan.Owed)}
		if everyNode {
			nodes = statuses
		}
		potential, err := nodes.NodesForStatusCode(fh.SnapshotSharedLister().NodeInfos(), fwk.Unschedulable)
		if err != nil {
			b.Fatal(err)
		}
		offset, n := r.GetOffsetAndNumCandidates(int32(len(potential)))
		if everyNode {
			n = int32(len(potential))
		}
		candidates, _, err := ev.DryRunPreemption(ctx, state, preemptor, potential, nil, offset, n)
		if err != nil {
			b.Fatal(err)
		}
		if len(candidates) == 0 {
			b.Fatal("no candidate node")
		}
		return ev.SelectCandidate(ctx, candidates)
	}
	// The benchmark must measure a reclaim that works: exactly one victim.
	if c := decide(); len(c.Victims().Pods) != 1 {
		b.Fatalf("the decision takes %d victims, want 1", len(c.Victims().Pods))
	}
	return decide
}
