package controller

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}

// BenchmarkController reports, with 10,000 executors in 30 farms: status freshness p50 and p99
// (an executor created until its Farm's status counts it running), Farm and FarmManager writes
// per minute while idle, and the controller's peak resident memory.
func BenchmarkController(b *testing.B) {
	for b.Loop() {
		m := measureController(b, "bench", 10000, 30, 50, time.Minute)
		b.ReportMetric(m.freshness(0.50).Seconds()*1000, "fresh-p50-ms")
		b.ReportMetric(m.freshness(0.99).Seconds()*1000, "fresh-p99-ms")
		b.ReportMetric(float64(m.idleWrites)/m.idle.Minutes(), "idle-writes/min")
		b.ReportMetric(float64(m.peakRSS)/(1<<20), "peak-MiB")
	}
}

// TestControllerSmoke runs the benchmark's measurement small, so that it cannot rot, and checks
// what must hold at any size: every change reaches status, and an idle cluster causes no write.
func TestControllerSmoke(t *testing.T) {
	m := measureController(t, "smoke", 300, 3, 5, 5*time.Second)
	if len(m.fresh) != 5 {
		t.Errorf("%d freshness samples, want 5", len(m.fresh))
	}
	if m.idleWrites != 0 {
		t.Errorf("%d writes during %s idle, want 0", m.idleWrites, m.idle)
	}
	t.Logf("freshness p50 %s, p99 %s; %d idle writes; peak %d MiB", m.freshness(0.5), m.freshness(0.99), m.idleWrites, m.peakRSS>>20)
}

// measurement is what one measureController call saw.
type measurement struct {
	fresh      []time.Duration
	idleWrites int
	idle       time.Duration
	peakRSS    int64
}

func (m measurement) freshness(q float64) time.Duration {
	s := slices.Sorted(slices.Values(m.fresh))
	return s[int(q*float64(len(s)-1))]
}

// measureController starts the controller binary, creates farms farms and executors executors
// spread over them (bound and then Running through the kubelet stand-in), waits until status
// counts them all, then samples freshness, then watches resourceVersions while idle.
func measureController(tb testing.TB, id string, executors, farms, samples int, idle time.Duration) measurement {
	tb.Helper()
	ctx := tb.Context()
	nodes := (executors + 99) / 100
	if _, err := cluster.CreateNodes(ctx, id, nodes, harness.NodeShape{CPU: "400", Memory: "1600Gi", Pods: 110}); err != nil {
		tb.Fatal(err)
	}
	p := cluster.StartControllerBinary(tb)
	keys := make([]types.NamespacedName, farms)
	for f := range farms {
		keys[f] = types.NamespacedName{Namespace: fmt.Sprintf("%s-%d", id, f), Name: "spark"}
		if err := cluster.CreateNamespace(ctx, keys[f].Namespace); err != nil {
			tb.Fatal(err)
		}
		farm := &farmv1alpha1.Farm{
			ObjectMeta: metav1.ObjectMeta{Namespace: keys[f].Namespace, Name: keys[f].Name},
			Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: int32(executors / farms / 2)},
		}
		if err := cluster.Client.Create(ctx, farm); err != nil {
			tb.Fatal(err)
		}
	}
	createExecutor := func(i int, name string) error {
		pod := harness.ExecutorPod(keys[i%farms].Namespace, name, "spark-role", "executor")
		pod.Spec.NodeName = fmt.Sprintf("%s-%d", id, i%nodes)
		_, err := cluster.Clientset.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		return err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range executors {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := createExecutor(i, fmt.Sprintf("exec-%d", i)); err != nil {
				tb.Error(err)
			}
		}()
	}
	wg.Wait()
	running := func(key types.NamespacedName) int32 {
		f := &farmv1alpha1.Farm{}
		if err := cluster.Client.Get(ctx, key, f); err != nil {
			tb.Fatal(err)
		}
		return f.Status.RunningExecutors
	}
	waitFor := func(what string, done func() bool) {
		err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Minute, true, func(context.Context) (bool, error) {
			if p.Exited() {
				return false, fmt.Errorf("farm-controller exited:\n%s", p.Output())
			}
			return done(), nil
		})
		if err != nil {
			tb.Fatalf("waiting for %s: %v", what, err)
		}
	}
	for i, key := range keys {
		want := int32(executors / farms)
		if i < executors%farms {
			want++
		}
		waitFor(fmt.Sprintf("%s to count %d running", key, want), func() bool { return running(key) == want })
	}

	var m measurement
	for s := range samples {
		key := keys[s%farms]
		before := running(key)
		start := time.Now()
		if err := createExecutor(s%farms, fmt.Sprintf("fresh-%d", s)); err != nil {
			tb.Fatal(err)
		}
		waitFor(fmt.Sprintf("%s to count the new executor", key), func() bool { return running(key) == before+1 })
		m.fresh = append(m.fresh, time.Since(start))
	}

	// Idle: count objects whose resourceVersion moved. Events and leases are not Farm status.
	// Let the last sample's writes settle first.
	time.Sleep(2 * time.Second)
	before := versions(tb, id)
	time.Sleep(idle)
	after := versions(tb, id)
	for k, v := range after {
		if before[k] != v {
			m.idleWrites++
		}
	}
	m.idle = idle
	rss, err := p.PeakRSS()
	if err != nil {
		tb.Fatal(err)
	}
	m.peakRSS = rss
	return m
}

// versions maps the run's Farms and every FarmManager to their resourceVersions.
func versions(tb testing.TB, id string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	var farms farmv1alpha1.FarmList
	if err := cluster.Client.List(tb.Context(), &farms); err != nil {
		tb.Fatal(err)
	}
	for _, f := range farms.Items {
		if strings.HasPrefix(f.Namespace, id+"-") {
			out["farm/"+f.Namespace+"/"+f.Name] = f.ResourceVersion
		}
	}
	var managers farmv1alpha1.FarmManagerList
	if err := cluster.Client.List(tb.Context(), &managers); err != nil {
		tb.Fatal(err)
	}
	for _, fm := range managers.Items {
		out["farmmanager/"+fm.Name] = fm.ResourceVersion
	}
	return out
}
