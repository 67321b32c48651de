package soak

import (
	"context"
	"flag"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/toinfn/farm/test/harness"
)

var (
	seed     = flag.Uint64("soak.seed", 1, "the seed of the soak's workload: the same seed, the same tenants and draws")
	duration = flag.Duration("soak.duration", time.Minute, "how long the workload runs, when -soak.reclaims is 0")
	reclaims = flag.Int("soak.reclaims", 0, "run until this many executors have been reclaimed (0: run for -soak.duration)")
	timeout  = flag.Duration("soak.timeout", 80*time.Minute, "the longest a -soak.reclaims run may take")
)

const (
	// interval is the scheduler's trigger interval.
	interval = time.Second
	// leaseDuration is the scheduler replicas' Lease.
	leaseDuration = 3 * time.Second
	// maxTriggers is the largest scaledownAfterNTriggers planTenants draws.
	maxTriggers = 2
)

// TestSoak runs the seeded workload against farm-scheduler (two replicas on one Lease, the
// leader killed now and then), farm-controller, the default scheduler, the disruption controller
// and the kubelet stand-in, and fails on any violation the Checker reports.
func TestSoak(t *testing.T) {
	ctx := t.Context()
	if err := cluster.StartDisruptionController(ctx); err != nil {
		t.Fatal(err)
	}
	grace := time.Duration(harness.ExecutorGracePeriod) * time.Second
	// The bound: the victims' hysteresis, their grace period and 5 s.
	checker := NewChecker(maxTriggers*interval+grace+5*time.Second, leaseDuration+2*time.Second, interval)
	farms, err := ctrlcache.New(cluster.Config, ctrlcache.Options{Scheme: cluster.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	if err := checker.Watch(ctx, cluster.Clientset, farms, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}

	w := &world{tenants: planTenants(rand.New(rand.NewPCG(*seed, 0)), 8)}
	for _, tn := range w.tenants {
		t.Logf("tenant %s: minimum %d, %d-core executors, pool %v, %d triggers, budget minAvailable %d", tn.Name, tn.Min, max(tn.Cores, 1), tn.NodeSelector, tn.triggers, tn.budget)
	}
	if err := w.setUp(ctx, cluster.ControlPlane); err != nil {
		t.Fatal(err)
	}
	config := cluster.SchedulerConfig(t, func(cfg map[string]any) {
		cfg["leaderElection"] = map[string]any{
			"leaderElect": true, "resourceLock": "leases", "resourceName": "farm-scheduler-soak", "resourceNamespace": "default",
			"leaseDuration": leaseDuration.String(), "renewDeadline": "2s", "retryPeriod": "500ms",
		}
		harness.SetFarmArgs(cfg, map[string]any{"triggerInterval": interval.String()})
	})
	r := &replicas{start: func() *harness.ChildProcess { return cluster.StartSchedulerBinary(t, config) }}
	r.live = []*harness.ChildProcess{r.start(), r.start()}
	cluster.StartControllerBinary(t, "-v=1")
	cluster.StartDefaultScheduler(t)

	run, stop := context.WithCancel(ctx)
	defer stop()
	go w.runTenants(run, cluster.ControlPlane, rand.New(rand.NewPCG(*seed, 1)))
	go w.runNotebooks(run, cluster.ControlPlane, rand.New(rand.NewPCG(*seed, 2)))
	go w.runFailovers(run, r, rand.New(rand.NewPCG(*seed, 3)), checker.LeaderKilled)

	start := time.Now()
	if *reclaims > 0 {
		progress := time.Now()
		err := wait.PollUntilContextTimeout(ctx, time.Second, *timeout, true, func(context.Context) (bool, error) {
			if time.Since(progress) > time.Minute {
				progress = time.Now()
				t.Logf("%s: %d reclaims, %d violations so far", time.Since(start).Round(time.Second), checker.Report().Evictions, len(checker.Report().Violations))
			}
			return checker.Report().Evictions >= *reclaims, nil
		})
		if err != nil {
			t.Errorf("%d reclaims never happened within %s: %v (saw %d)", *reclaims, *timeout, err, checker.Report().Evictions)
		}
	} else {
		select {
		case <-ctx.Done():
		case <-time.After(*duration):
		}
	}
	stop()
	elapsed := time.Since(start)

	rep, stats := checker.Report(), w.Stats()
	served := slices.Clone(rep.Served)
	slices.Sort(served)
	t.Logf("soak seed %d, %s: %d jobs, %d notebooks, %d leader kills; %d reclaims (evictions); %d waits below a minimum served: p50 %s, p99 %s, max %s; %d waits past the bound that no eviction could end; %d violations",
		*seed, elapsed.Round(time.Second), stats.Jobs, stats.Notebooks, stats.LeaderKills, rep.Evictions,
		len(served), quantile(served, 0.5), quantile(served, 0.99), quantile(served, 1), rep.Unmeetable, len(rep.Violations))
	for _, v := range rep.Violations {
		t.Error(v)
	}
	if len(rep.Violations) > 0 {
		// The scheduler's side of each reclaim, for the violations' story.
		for _, p := range append(r.killed, r.live...) {
			for _, line := range strings.Split(p.Output(), "\n") {
				if strings.Contains(line, "Reclaim") || strings.Contains(line, "Room") {
					t.Log(line)
				}
			}
		}
	}
	// The soak must have exercised what it checks.
	if rep.Evictions == 0 || len(served) == 0 {
		t.Errorf("nothing to check: %d evictions, %d waits served", rep.Evictions, len(served))
	}
}

// quantile returns the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)].Round(10 * time.Millisecond)
}
