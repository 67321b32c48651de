package controller

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

// TestControllerAtScale measures farm-controller with many executors: its peak memory and its
// writes while idle. It is a measurement, not a check of timing: it runs only when
// FARM_SCALE_EXECUTORS is set (e.g. 3000), and reports its figures in the log.
func TestControllerAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FARM_SCALE_EXECUTORS"))
	if n == 0 {
		t.Skip("set FARM_SCALE_EXECUTORS to run")
	}
	const farms = 30
	ctx := t.Context()
	nodes := (n + 99) / 100
	if _, err := cluster.CreateNodes(ctx, "scale", nodes, harness.NodeShape{CPU: "400", Memory: "1600Gi", Pods: 110}); err != nil {
		t.Fatal(err)
	}
	p := cluster.StartControllerBinary(t)
	for f := range farms {
		ns := fmt.Sprintf("scale-%d", f)
		createNamespace(t, ns)
		createFarm(t, ns, "tenant", int32(n/farms/2))
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ns := fmt.Sprintf("scale-%d", i%farms)
			pod := harness.ExecutorPod(ns, fmt.Sprintf("exec-%d", i), "spark-role", "executor")
			pod.Spec.NodeName = fmt.Sprintf("scale-%d", i%nodes)
			if _, err := cluster.Clientset.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	start := time.Now()
	per := int32(n / farms)
	err := wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		var list farmv1alpha1.FarmList
		if err := cluster.Client.List(ctx, &list); err != nil {
			return false, err
		}
		done := 0
		for _, f := range list.Items {
			if len(f.Namespace) > 6 && f.Namespace[:6] == "scale-" && f.Status.RunningExecutors == per {
				done++
			}
		}
		return done == farms, nil
	})
	if err != nil {
		t.Fatalf("waiting for status of %d executors: %v", n, err)
	}
	t.Logf("status of %d executors in %d farms true %.1fs after the last was created", n, farms, time.Since(start).Seconds())

	versions := func() map[string]string {
		var list farmv1alpha1.FarmList
		if err := cluster.Client.List(ctx, &list); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range list.Items {
			out[f.Namespace+"/"+f.Name] = f.ResourceVersion
		}
		return out
	}
	before := versions()
	time.Sleep(10 * time.Second)
	after := versions()
	writes := 0
	for k, v := range after {
		if before[k] != v {
			writes++
		}
	}
	rss, err := p.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("farm-controller with %d executors: peak RSS %.0f MiB; Farms written during 10 s idle: %d", n, float64(rss)/(1<<20), writes)
	if writes != 0 {
		t.Errorf("%d Farms written while idle", writes)
	}
}
