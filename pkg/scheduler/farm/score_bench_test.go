package farm

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	st "k8s.io/kubernetes/pkg/scheduler/testing"
	tf "k8s.io/kubernetes/pkg/scheduler/testing/framework"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// BenchmarkScore measures the elastic quota scorer against upstream's NodeResourcesFit scorer
// (LeastAllocated on CPU and memory, kube-scheduler's default) on the same nodes, for one
// borrowing pod: PreScore once, then Score on every node, as a scheduling cycle does. The
// cluster is the end of the scheduling throughput workload: 2,000 nodes, 20 borrowing farms,
// 11,000 executors spread over the nodes. Compare the two as a ratio of one run.
func BenchmarkScore(b *testing.B) {
	ctx := klog.NewContext(b.Context(), klog.Background().V(0))
	pod, nodeInfos, scorers := newScorers(ctx, b, 2000, 20, 11000)
	for _, sc := range scorers {
		b.Run(sc.name, func(b *testing.B) {
			state := framework.NewCycleState()
			if s := sc.prepare(state); !s.IsSuccess() {
				b.Fatalf("before Score: %v", s)
			}
			var total int64
			for b.Loop() {
				total += scoreAll(b, sc.plugin, state, pod, nodeInfos)
			}
			if total == 0 {
				b.Fatal("every node scored 0: the benchmark measures nothing")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(nodeInfos)), "ns/node")
		})
	}
}

// TestScoreSmoke runs BenchmarkScore's code on a small cluster, so that it cannot rot.
func TestScoreSmoke(t *testing.T) {
	ctx := klog.NewContext(t.Context(), klog.Background().V(0))
	pod, nodeInfos, scorers := newScorers(ctx, t, 10, 3, 40)
	for _, sc := range scorers {
		state := framework.NewCycleState()
		if s := sc.prepare(state); !s.IsSuccess() {
			t.Fatalf("%s: before Score: %v", sc.name, s)
		}
		if total := scoreAll(t, sc.plugin, state, pod, nodeInfos); total == 0 {
			t.Errorf("%s: every node scored 0", sc.name)
		}
	}
}

// scorer is one Score plugin of the benchmark and what the cycle runs before its Score.
type scorer struct {
	name    string
	plugin  fwk.ScorePlugin
	prepare func(fwk.CycleState) *fwk.Status
}

// scoreAll scores every node, as a cycle does for its feasible nodes, and sums the scores.
func scoreAll(tb testing.TB, plugin fwk.ScorePlugin, state fwk.CycleState, pod *corev1.Pod, nodeInfos []fwk.NodeInfo) int64 {
	var total int64
	for _, ni := range nodeInfos {
		score, s := plugin.Score(tb.Context(), state, pod, ni)
		if !s.IsSuccess() {
			tb.Fatalf("Score(%s): %v", ni.Node().Name, s)
		}
		total += score
	}
	return total
}

// newScorers builds a cluster of numNodes nodes holding executors of borrowers borrowing farms,
// a pod of the first farm, and the two scorers.
func newScorers(ctx context.Context, tb testing.TB, numNodes, borrowers, executors int) (*corev1.Pod, []fwk.NodeInfo, []scorer) {

	var farms []*farmv1alpha1.Farm
	for i := range borrowers {
		farms = append(farms, newFarm(fmt.Sprintf("borrower-%d", i), "f", t0, "spark-role", "executor", 0, 0))
	}
	nodes := make([]*corev1.Node, 0, numNodes)
	for n := range numNodes {
		nodes = append(nodes, st.MakeNode().Name(fmt.Sprintf("node-%d", n)).Capacity(map[corev1.ResourceName]string{
			corev1.ResourceCPU: "4", corev1.ResourceMemory: "32Gi", corev1.ResourcePods: "110",
		}).Obj())
	}
	pods := make([]*corev1.Pod, 0, executors)
	for k := range executors {
		// A stride coprime with the node count spreads each farm's executors over many nodes.
		node := nodes[(k*7)%numNodes].Name
		pods = append(pods, spark(fmt.Sprintf("borrower-%d", k%borrowers), fmt.Sprintf("e-%d", k), node, startedAt(time.Duration(k)*time.Second)))
	}
	pod := spark("borrower-0", "new", "")
	snapshot := internalcache.NewSnapshot(pods, nodes)
	nodeInfos, err := snapshot.NodeInfos().List()
	if err != nil {
		tb.Fatal(err)
	}

	fh, err := tf.NewFramework(ctx, []tf.RegisterPluginFunc{
		tf.RegisterQueueSortPlugin(queuesort.Name, queuesort.New),
		tf.RegisterBindPlugin(defaultbinder.Name, defaultbinder.New),
	}, "",
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithInformerFactory(informers.NewSharedInformerFactory(fake.NewClientset(), 0)),
		frameworkruntime.WithLogger(klog.FromContext(ctx)),
	)
	if err != nil {
		tb.Fatal(err)
	}
	fit, err := noderesources.NewFit(ctx, &config.NodeResourcesFitArgs{
		ScoringStrategy: &config.ScoringStrategy{
			Type:      config.LeastAllocated,
			Resources: []config.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}},
		},
	}, fh, feature.Features{})
	if err != nil {
		tb.Fatal(err)
	}
	farm := newTestPlugin(tb, farms, pods)

	return pod, nodeInfos, []scorer{
		{name: "Farm", plugin: farm, prepare: func(state fwk.CycleState) *fwk.Status {
			if _, s := farm.PreFilter(ctx, state, pod, nil); !s.IsSuccess() {
				return s
			}
			return farm.PreScore(ctx, state, pod, nodeInfos)
		}},
		{name: "NodeResourcesFit", plugin: fit.(fwk.ScorePlugin), prepare: func(state fwk.CycleState) *fwk.Status {
			return fit.(fwk.PreScorePlugin).PreScore(ctx, state, pod, nodeInfos)
		}},
	}
}
