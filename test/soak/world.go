package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/toinfn/farm/test/harness"
	"github.com/toinfn/farm/test/workload"
)

// Shape of the soak's cluster: two pools of nodes, four-core and eight-core.
var pools = []struct {
	name  string
	nodes int
	shape harness.NodeShape
}{
	{"small", 4, harness.NodeShape{CPU: "4", Memory: "16Gi", Pods: 110}},
	{"big", 2, harness.NodeShape{CPU: "8", Memory: "32Gi", Pods: 110}},
}

const (
	// poolLabel names a node's pool.
	poolLabel = "soak.farm.toinfn.it/pool"
	// minimumShare is the largest part of the cluster (and of each pool) that minimums add up to:
	// the rest is for borrowing, notebooks and the room mixed sizes waste.
	minimumShare = 0.5
	// maxNotebooks is how many notebooks may run at once; they belong to no Farm and are never
	// reclaimed, so they count against every guarantee.
	maxNotebooks = 2
)

// soakTenant is one tenant: a Farm with its hysteresis, and the shape of its jobs.
type soakTenant struct {
	workload.Tenant
	triggers int32
	// budget, when set, is a PodDisruptionBudget's minAvailable over the tenant's executors.
	budget int32
}

// planTenants draws n tenants from rng: executor sizes of one or two cores, some kept to a pool,
// minimums that add up to at most minimumShare of the cluster and of each pool, hysteresis of
// zero to two triggers; the first tenant with a minimum gets a PodDisruptionBudget.
func planTenants(rng *rand.Rand, n int) []soakTenant {
	capacity := map[string]int64{}
	var total int64
	for _, p := range pools {
		cores := int64(p.nodes) * mustCores(p.shape.CPU)
		capacity[p.name] = cores
		total += cores
	}
	reserved := map[string]int64{}
	var reservedTotal int64
	tenants := make([]soakTenant, n)
	budgeted := false
	for i := range tenants {
		t := &tenants[i]
		t.Name = fmt.Sprintf("tenant-%d", i)
		t.Cores = 1 + rng.Int64N(2)
		pool := ""
		if k := rng.IntN(len(pools) + 1); k < len(pools) {
			pool = pools[k].name
			t.NodeSelector = map[string]string{poolLabel: pool}
		}
		t.triggers = rng.Int32N(3)
		// The largest minimum that keeps every limit, then a draw below it.
		limit := float64(total)*minimumShare - float64(reservedTotal)
		if pool != "" {
			limit = min(limit, float64(capacity[pool])*minimumShare-float64(reserved[pool]))
		}
		if most := int32(limit / float64(t.Cores)); most > 0 {
			t.Min = 1 + rng.Int32N(min(most, 3))
		}
		reservedTotal += int64(t.Min) * t.Cores
		reserved[pool] += int64(t.Min) * t.Cores
		if t.Min > 0 && !budgeted {
			t.budget, budgeted = t.Min+1, true
		}
	}
	return tenants
}

func mustCores(cpu string) int64 {
	var n int64
	if _, err := fmt.Sscan(cpu, &n); err != nil {
		panic(err)
	}
	return n
}

// nextJob draws a tenant's next job: four to fifteen executors beyond its minimum (together, the
// jobs ask for about three times the cluster, so it stays full of borrowed executors), six to
// fifteen seconds long.
func nextJob(rng *rand.Rand, t soakTenant) workload.Tenant {
	job := t.Tenant
	job.Executors = t.Min + 4 + rng.Int32N(12)
	job.Initial = max(1, t.Min)
	job.JobLength = time.Duration(6+rng.IntN(10)) * time.Second
	return job
}

// world runs the soak's workload: each tenant's jobs one after another with pauses between,
// notebooks for the default scheduler, and the scheduler leader killed now and then.
type world struct {
	tenants []soakTenant
	stats   worldStats
	mu      sync.Mutex
}

// worldStats counts what the workload did.
type worldStats struct {
	Jobs, Notebooks, LeaderKills int
}

// Stats returns what the workload did so far.
func (w *world) Stats() worldStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *world) count(f func(*worldStats)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(&w.stats)
}

// setUp creates the nodes, the tenants' namespaces and Farms, and the budget.
func (w *world) setUp(ctx context.Context, cp *harness.ControlPlane) error {
	for _, p := range pools {
		for i := range p.nodes {
			node := harness.NewNode(fmt.Sprintf("%s-%d", p.name, i), p.shape)
			node.Labels[poolLabel] = p.name
			if _, err := cp.Clientset.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
				return err
			}
		}
	}
	for _, t := range w.tenants {
		if err := cp.CreateNamespace(ctx, t.Name); err != nil {
			return err
		}
		farm := t.Farm(workload.Spark)
		farm.Spec.ScaledownAfterNTriggers = t.triggers
		if err := cp.Client.Create(ctx, farm); err != nil {
			return fmt.Errorf("creating Farm %s: %w", t.Name, err)
		}
		if t.budget > 0 {
			pdb := &policyv1.PodDisruptionBudget{
				ObjectMeta: metav1.ObjectMeta{Namespace: t.Name, Name: "executors"},
				Spec: policyv1.PodDisruptionBudgetSpec{
					MinAvailable: ptr.To(intstr.FromInt32(t.budget)),
					Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{workload.Spark.LabelKey: workload.Spark.LabelValue}},
				},
			}
			if _, err := cp.Clientset.PolicyV1().PodDisruptionBudgets(t.Name).Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// runTenants runs every tenant's jobs until ctx ends: a pause of one to four seconds, a job, and
// again. Each job's driver replaces the executors it loses.
func (w *world) runTenants(ctx context.Context, cp *harness.ControlPlane, rng *rand.Rand) {
	drivers := make([]*workload.Driver, len(w.tenants))
	tick := time.NewTicker(workload.StepInterval)
	defer tick.Stop()
	for {
		now := time.Now()
		for i, t := range w.tenants {
			d := drivers[i]
			if d == nil || d.Status().Phase == workload.Finished {
				job := nextJob(rng, t)
				job.Arrival = time.Duration(1+rng.IntN(4)) * time.Second
				drivers[i] = workload.NewDriver(cp.Clientset, workload.Spark, job, now)
				w.count(func(s *worldStats) { s.Jobs++ })
				continue
			}
			_ = d.Step(ctx, now) // a failed step is retried on the next one, as a driver does
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// runNotebooks starts a notebook for the default scheduler every three to eight seconds while
// fewer than maxNotebooks run, in a random tenant's namespace, for five to twenty seconds.
func (w *world) runNotebooks(ctx context.Context, cp *harness.ControlPlane, rng *rand.Rand) {
	var live []*corev1.Pod
	var ends []time.Time
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(3+rng.IntN(6)) * time.Second):
		}
		now := time.Now()
		for j := 0; j < len(live); {
			if now.Before(ends[j]) {
				j++
				continue
			}
			_ = cp.Clientset.CoreV1().Pods(live[j].Namespace).Delete(ctx, live[j].Name, metav1.DeleteOptions{})
			live, ends = append(live[:j], live[j+1:]...), append(ends[:j], ends[j+1:]...)
		}
		if len(live) >= maxNotebooks {
			continue
		}
		t := w.tenants[rng.IntN(len(w.tenants))]
		nb := harness.ExecutorPod(t.Name, fmt.Sprintf("notebook-%d", i), "app", "notebook")
		nb.Spec.SchedulerName = corev1.DefaultSchedulerName
		nb.Spec.Containers[0].Image = "registry.k8s.io/pause:3.10"
		if _, err := cp.Clientset.CoreV1().Pods(t.Name).Create(ctx, nb, metav1.CreateOptions{}); err != nil {
			continue
		}
		live = append(live, nb)
		ends = append(ends, now.Add(time.Duration(5+rng.IntN(16))*time.Second))
		w.count(func(s *worldStats) { s.Notebooks++ })
	}
}

// replicas are farm-scheduler's replicas on one Lease.
type replicas struct {
	start func() *harness.ChildProcess
	live  []*harness.ChildProcess
	// killed are the replicas killed so far, kept for their logs.
	killed []*harness.ChildProcess
}

// leader returns the replica that holds the Lease, if any.
func (r *replicas) leader() *harness.ChildProcess {
	for _, p := range r.live {
		if !p.Exited() && strings.Contains(p.Output(), "Successfully acquired lease") {
			return p
		}
	}
	return nil
}

// runFailovers kills the leader (SIGKILL) every twenty to forty seconds and starts a new replica
// in its place, as a Deployment would.
func (w *world) runFailovers(ctx context.Context, r *replicas, rng *rand.Rand, killed func(time.Time)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(20+rng.IntN(21)) * time.Second):
		}
		leader := r.leader()
		if leader == nil {
			continue
		}
		leader.Kill()
		killed(time.Now())
		klog.FromContext(ctx).Info("Scheduler leader killed")
		w.count(func(s *worldStats) { s.LeaderKills++ })
		for i, p := range r.live {
			if p == leader {
				r.live[i] = r.start()
			}
		}
		r.killed = append(r.killed, leader)
	}
}
