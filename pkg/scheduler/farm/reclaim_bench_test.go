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
	"github.com/toinfn/farm/pkg/reclaim"
)

// BenchmarkReclaimDecision measures what a reclaim costs the scheduling cycle on a full cluster:
// gathering the problem (the farm type's waiting pods, the nodes holding borrowed executors, their
// room and victims), the plan (reclaim.Solve), and upstream's dry run on the planned node with
// the choice of the candidate: the steps of PostFilter up to the evaluator's actuation. The
// evictions that follow are API calls made outside the cycle and are not part of it.
//
// Every node is full with executors of 20 borrowing farms; one farm below its minimum has one
// executor waiting. With mixed sizes, executors request 1, 2 or 4 CPUs and the waiting one 2. It
// reports p50 and p99 of a decision next to Go's mean and allocations.
func BenchmarkReclaimDecision(b *testing.B) {
	for _, size := range []struct{ nodes, podsPerNode int }{
		{nodes: 1000, podsPerNode: 10},
		{nodes: 5000, podsPerNode: 10},
	} {
		for _, mixed := range []bool{false, true} {
			name := fmt.Sprintf("%dnodes_%dpods", size.nodes, size.nodes*size.podsPerNode)
			if mixed {
				name += "_mixed"
			}
			b.Run(name, func(b *testing.B) {
				benchmarkReclaimDecision(b, size.nodes, size.podsPerNode, mixed)
			})
		}
	}
}

// TestReclaimDecisionSmoke keeps the benchmark's setup honest in every test run, on a small
// cluster: the decision takes exactly the victims that make room (one 1-CPU executor for a
// 1-CPU pod; one executor of 2 CPUs or more for the 2-CPU pod), all of borrowers.
func TestReclaimDecisionSmoke(t *testing.T) {
	for _, mixed := range []bool{false, true} {
		decide := newReclaimDecision(t, 20, 4, mixed)
		for range 3 {
			c := decide()
			if len(c.Victims().Pods) != 1 {
				t.Fatalf("mixed %v: %d victims, want 1", mixed, len(c.Victims().Pods))
			}
			if v := c.Victims().Pods[0]; !strings.HasPrefix(v.Namespace, "borrower-") {
				t.Errorf("mixed %v: victim %s/%s is not a borrower's executor", mixed, v.Namespace, v.Name)
			}
		}
	}
}

func benchmarkReclaimDecision(b *testing.B, numNodes, podsPerNode int, mixed bool) {
	decide := newReclaimDecision(b, numNodes, podsPerNode, mixed)
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
func newReclaimDecision(b testing.TB, numNodes, podsPerNode int, mixed bool) func() preemption.Candidate {
	const borrowers = 20
	ctx := klog.NewContext(b.Context(), klog.Background().V(0))
	schedmetrics.Register()

	farms := []*farmv1alpha1.Farm{newFarm("waiting", "f", t0, "spark-role", "executor", 10, 0)}
	for i := range borrowers {
		farms = append(farms, newFarm(fmt.Sprintf("borrower-%d", i), "f", t0, "spark-role", "executor", 0, 0))
	}
	sizes := []int{1}
	if mixed {
		sizes = []int{1, 2, 1, 4, 1, 2}
	}
	nodes := make([]*corev1.Node, 0, numNodes)
	pods := make([]*corev1.Pod, 0, numNodes*podsPerNode)
	for n := range numNodes {
		name := fmt.Sprintf("node-%d", n)
		cpus := 0
		for i := range podsPerNode {
			k := n*podsPerNode + i
			size := sizes[k%len(sizes)]
			cpus += size
			pods = append(pods, spark(fmt.Sprintf("borrower-%d", k%borrowers), fmt.Sprintf("e-%d", k), name, cpu(fmt.Sprint(size)), startedAt(time.Duration(k)*time.Second)))
		}
		nodes = append(nodes, st.MakeNode().Name(name).Capacity(map[corev1.ResourceName]string{
			corev1.ResourceCPU: fmt.Sprint(cpus), corev1.ResourcePods: "110",
		}).Obj())
	}
	preemptor := spark("waiting", "w", "")
	if mixed {
		preemptor = spark("waiting", "w", "", cpu("2"))
	}
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
	p.evictions = newEvictions(p.farms, time.Second)
	p.claims = newClaims(p.podWaiting)
	p.reports = newReclaimReports()
	ev := preemption.NewEvaluator(Name, fh, p, preemption.NewExecutor(fh, feature.Features{}))

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
		in, err := p.gatherReclaim(ctx, preemptor, quota.TypeOf(farms[0]), statuses, false)
		if err != nil {
			b.Fatal(err)
		}
		plan := reclaim.Solve(in.problem)
		placement, ok := plan.For(in.self)
		if !ok {
			b.Fatalf("no placement: %s", plan.UnplacedReason(in.self))
		}
		node := in.problem.Nodes[placement.Node].Name
		var victims []*corev1.Pod
		for _, i := range placement.Victims {
			victims = append(victims, in.victims[placement.Node][i])
		}
		state.Write(planKey, &nodePlan{node: node, victims: victims})
		potential, err := (&plannedNode{NodeToStatusReader: statuses, node: node}).NodesForStatusCode(fh.SnapshotSharedLister().NodeInfos(), fwk.Unschedulable)
		if err != nil {
			b.Fatal(err)
		}
		offset, n := p.GetOffsetAndNumCandidates(int32(len(potential)))
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
