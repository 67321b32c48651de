package sidebyside

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/toinfn/farm/test/benchmark/contender"
	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}

// tenants is how many farms (ElasticQuotas for the peer) the executors are spread over.
const tenants = 20

// limits lift every contender's client rate limits alike: with the shipped 200 queries per
// second, all three bind at the limiter's pace and the comparison measures nothing.
var limits = contender.ClientLimits{QPS: 5000, Burst: 5000}

var contenders = []contender.Contender{contender.Stock{Limits: limits}, contender.Farm{Limits: limits}, contender.CapacityScheduling{Limits: limits}}

// BenchmarkThroughput reports each contender's pods/s placing executors of 20 tenants on a
// cluster with room for all of them, in the same run.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []struct{ nodes, pods int }{
		{nodes: 500, pods: 2000},
		{nodes: 2000, pods: 5000},
	} {
		nodes := createNodes(b, fmt.Sprintf("n%d", size.nodes), size.nodes)
		for _, c := range contenders {
			b.Run(fmt.Sprintf("%dnodes_%dpods/%s", size.nodes, size.pods, c.Name()), func(b *testing.B) {
				var rate float64
				runs := 0
				for b.Loop() {
					rate += measure(b, c, fmt.Sprintf("%s-%d-%d", c.Name(), size.nodes, runs), nodes, size.pods)
					runs++
				}
				b.ReportMetric(rate/float64(runs), "pods/s")
			})
		}
		deleteNodes(b, nodes)
	}
}

// TestThroughputSmoke runs every contender once on a small cluster, so that the benchmark
// cannot rot: each places all its executors.
func TestThroughputSmoke(t *testing.T) {
	nodes := createNodes(t, "smoke", 10)
	for _, c := range contenders {
		t.Run(c.Name(), func(t *testing.T) {
			rate := measure(t, c, "smoke-"+c.Name(), nodes, 40)
			t.Logf("%s: %.0f pods/s", c.Name(), rate)
		})
	}
}

// measure creates pods executors of the tenants for a contender that is not running yet, starts
// it, and returns the rate at which it bound them: executors after the first over the time from
// the first binding to the last. Starting the scheduler last keeps pod creation out of the
// measurement. Everything it created is deleted at the end.
func measure(tb testing.TB, c contender.Contender, id string, nodes []string, pods int) float64 {
	tb.Helper()
	ctx := tb.Context()
	var namespaces []string
	for i := range tenants {
		ns := fmt.Sprintf("%s-t%d", id, i)
		if err := cluster.CreateNamespace(ctx, ns); err != nil {
			tb.Fatal(err)
		}
		// The minimums add up to every executor: CapacityScheduling places nothing beyond the
		// sum of the minimums (its PreFilter refuses a pod when all quotas' use would pass it),
		// so a throughput comparison gives each scheduler only guaranteed executors.
		c.Guarantee(tb, cluster.ControlPlane, ns, (pods+tenants-1)/tenants, 0)
		namespaces = append(namespaces, ns)
	}
	defer func() {
		// The next measurement starts on an empty cluster.
		for _, ns := range namespaces {
			if err := cluster.Clientset.CoreV1().Pods(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{}); err != nil {
				tb.Errorf("cleaning up %s: %v", ns, err)
			}
		}
		err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
			for _, ns := range namespaces {
				pods, err := cluster.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1})
				if err != nil || len(pods.Items) > 0 {
					return false, err
				}
			}
			return true, nil
		})
		if err != nil {
			tb.Errorf("waiting for the executors to go: %v", err)
		}
	}()

	bound := watchBindings(tb, c.SchedulerName())
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range pods {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			pod := harness.ExecutorPod(namespaces[i%tenants], fmt.Sprintf("exec-%d", i), "spark-role", "executor")
			pod.Spec.SchedulerName = c.SchedulerName()
			pod.Spec.TerminationGracePeriodSeconds = ptr.To[int64](0)
			if _, err := cluster.Clientset.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				tb.Error(err)
			}
		}()
	}
	wg.Wait()

	sched := c.Start(tb, cluster.ControlPlane)
	defer sched.Stop()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 5*time.Minute, true, func(context.Context) (bool, error) {
		if sched.Exited() {
			return false, fmt.Errorf("%s exited:\n%s", c.Name(), sched.Output())
		}
		return bound.count() >= pods, nil
	})
	if err != nil {
		tb.Fatalf("%s bound %d of %d executors: %v", c.Name(), bound.count(), pods, err)
	}
	first, last := bound.span()
	return float64(pods-1) / last.Sub(first).Seconds()
}

// bindings records when each pod of a scheduler was first seen bound.
type bindings struct {
	mu          sync.Mutex
	seen        map[string]bool
	first, last time.Time
}

func (b *bindings) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.seen)
}

func (b *bindings) span() (time.Time, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.first, b.last
}

// watchBindings follows the pods addressed to schedulerName until tb's cleanup.
func watchBindings(tb testing.TB, schedulerName string) *bindings {
	tb.Helper()
	b := &bindings{seen: map[string]bool{}}
	factory := informers.NewSharedInformerFactoryWithOptions(cluster.Clientset, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = "spec.schedulerName=" + schedulerName
	}))
	record := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok || p.Spec.NodeName == "" {
			return
		}
		now := time.Now()
		b.mu.Lock()
		defer b.mu.Unlock()
		key := p.Namespace + "/" + p.Name
		if b.seen[key] {
			return
		}
		b.seen[key] = true
		if b.first.IsZero() {
			b.first = now
		}
		b.last = now
	}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    record,
		UpdateFunc: func(_, obj any) { record(obj) },
	}); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return b
}

// createNodes registers n nodes, each with room for 110 executors' worth of CPU and memory, so
// that every contender can place every executor.
func createNodes(tb testing.TB, prefix string, n int) []string {
	tb.Helper()
	created, err := cluster.CreateNodes(tb.Context(), prefix, n, harness.NodeShape{CPU: "110", Memory: "440Gi", Pods: 110})
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, node := range created {
		names = append(names, node.Name)
	}
	return names
}

func deleteNodes(tb testing.TB, names []string) {
	tb.Helper()
	for _, n := range names {
		if err := cluster.Clientset.CoreV1().Nodes().Delete(context.Background(), n, metav1.DeleteOptions{}); err != nil {
			tb.Errorf("deleting node %s: %v", n, err)
		}
	}
}
