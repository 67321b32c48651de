package guarantee

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/benchmark/contender"
	"github.com/toinfn/farm/test/harness"
)

// The footprint of a reclaim: how many executors it evicts and on how many nodes, with Farm's
// packing scorer and without it. A borrower (minimum 0) arrives first on an idle cluster and
// borrows a share of it; tenants arrive and fill the rest with their guaranteed executors; then a
// late tenant asks for its minimum, which only a reclaim of borrowed executors can give.
// Borrowed executors spread over many nodes make every reclaim disturb many nodes (each one a
// Spark executor decommissioning, its node's other executors sharing the load); packed on few
// nodes, a reclaim stays there.

// footprintNode holds eight executors, so that packing has room to show.
var footprintNode = harness.NodeShape{CPU: "8", Memory: "32Gi", Pods: 110}

const footprintSlotsPerNode = 8

// footprint is the scenario's size: nodes; the borrower's executors; tenants and their minimum
// (their executors fill what the borrower left); the late tenant's minimum.
type footprint struct {
	nodes, borrowed, tenants, tenantMin, lateMin int
}

// reclaimGrace keeps evicted executors terminating long enough to be counted, with their node.
const reclaimGrace = 60

// footprintRun is what one run measured.
type footprintRun struct {
	// borrowedNodes is how many nodes held the borrower's executors before the reclaim.
	borrowedNodes int
	// evictions and touched are the executors evicted and the nodes they were on.
	evictions, touched, needed int
}

// BenchmarkReclaimFootprint reports, with and without Farm's packing scorer, the nodes holding
// borrowed executors before a reclaim, the evictions per needed executor, and the nodes the
// reclaim touched.
func BenchmarkReclaimFootprint(b *testing.B) {
	size := footprint{nodes: 20, borrowed: 48, tenants: 4, tenantMin: 28, lateMin: 16}
	for _, c := range []contender.Farm{{}, {WithoutScore: true}} {
		b.Run(c.Name(), func(b *testing.B) {
			sched := c.Start(b, cluster.ControlPlane)
			var runs, borrowedNodes, evictions, touched, needed int
			for b.Loop() {
				r := runFootprint(b, c, sched, fmt.Sprintf("fp-%s-%d", c.Name(), runs), size)
				runs++
				borrowedNodes += r.borrowedNodes
				evictions += r.evictions
				touched += r.touched
				needed += r.needed
			}
			b.ReportMetric(float64(borrowedNodes)/float64(runs), "borrowed-nodes")
			b.ReportMetric(float64(evictions)/float64(needed), "evictions/needed")
			b.ReportMetric(float64(touched)/float64(runs), "nodes-touched")
		})
	}
}

// TestReclaimFootprintSmoke runs the scenario once on a small cluster with and without the
// scorer, and checks what packing promises: the borrower's executors fill as few nodes as they
// can, and the reclaim evicts exactly what is needed, on no more nodes than hold borrowed ones.
func TestReclaimFootprintSmoke(t *testing.T) {
	size := footprint{nodes: 4, borrowed: 8, tenants: 2, tenantMin: 12, lateMin: 4}
	for _, c := range []contender.Farm{{}, {WithoutScore: true}} {
		t.Run(c.Name(), func(t *testing.T) {
			sched := c.Start(t, cluster.ControlPlane)
			r := runFootprint(t, c, sched, "fp-smoke-"+c.Name(), size)
			t.Logf("borrowed executors on %d nodes; %d evicted for %d needed, on %d nodes", r.borrowedNodes, r.evictions, r.needed, r.touched)
			if r.evictions != r.needed {
				t.Errorf("%d borrowed executors evicted for %d needed", r.evictions, r.needed)
			}
			if r.touched > r.borrowedNodes {
				t.Errorf("the reclaim touched %d nodes, but only %d hold borrowed executors", r.touched, r.borrowedNodes)
			}
			if packed := (size.borrowed + footprintSlotsPerNode - 1) / footprintSlotsPerNode; !c.WithoutScore && r.borrowedNodes != packed {
				t.Errorf("with packing, the borrower's %d executors are on %d nodes, want %d", size.borrowed, r.borrowedNodes, packed)
			}
		})
	}
}

// runFootprint plays the scenario on nodes of its own and measures the late tenant's reclaim.
// Its objects are removed at the end, so runs do not weigh on each other.
func runFootprint(tb testing.TB, c contender.Contender, sched *harness.ChildProcess, id string, size footprint) footprintRun {
	tb.Helper()
	ctx := tb.Context()
	if slots := size.nodes * footprintSlotsPerNode; size.borrowed+size.tenants*size.tenantMin != slots {
		tb.Fatalf("the scenario must fill the cluster: %d borrowed + %d×%d guaranteed != %d slots", size.borrowed, size.tenants, size.tenantMin, slots)
	}
	borrower, late := id+"-borrower", id+"-late"
	namespaces := []string{borrower, late}
	for i := range size.tenants {
		namespaces = append(namespaces, fmt.Sprintf("%s-tenant-%d", id, i))
	}
	defer prepareRun(tb, id, size.nodes, footprintNode, namespaces)()
	c.Guarantee(tb, cluster.ControlPlane, borrower, 0, 0)
	c.Guarantee(tb, cluster.ControlPlane, late, size.lateMin, 0)
	for _, ns := range namespaces[2:] {
		c.Guarantee(tb, cluster.ControlPlane, ns, size.tenantMin, 0)
	}
	time.Sleep(guaranteesSettle)

	createExecutors(tb, c, borrower, id, size.borrowed, reclaimGrace)
	if running := waitRunning(tb, sched, borrower, size.borrowed, fillDeadline); running < size.borrowed {
		tb.Fatalf("the borrower runs %d of %d executors on an idle cluster", running, size.borrowed)
	}
	borrowedOn := map[string]bool{}
	for _, p := range listPods(tb, borrower) {
		borrowedOn[p.Spec.NodeName] = true
	}
	for _, ns := range namespaces[2:] {
		createExecutors(tb, c, ns, id, size.tenantMin, 0)
	}
	for _, ns := range namespaces[2:] {
		if running := waitRunning(tb, sched, ns, size.tenantMin, fillDeadline); running < size.tenantMin {
			tb.Fatalf("tenant %s runs %d of its minimum of %d on a cluster with room for it", ns, running, size.tenantMin)
		}
	}

	createExecutors(tb, c, late, id, size.lateMin, 0)
	// Evicted executors stay terminating for reclaimGrace, on their node: count them once the
	// reclaim has taken what the late tenant needs, and a moment later, to catch any more.
	evicted := func() map[string]int {
		onNode := map[string]int{}
		for _, p := range listPods(tb, borrower) {
			if quota.IsTerminating(&p) {
				onNode[p.Spec.NodeName]++
			}
		}
		return onNode
	}
	count := func(onNode map[string]int) (n int) {
		for _, k := range onNode {
			n += k
		}
		return n
	}
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, runDeadline, true, func(context.Context) (bool, error) {
		return count(evicted()) >= size.lateMin, nil
	}); err != nil {
		tb.Fatalf("the reclaim evicted %d of the %d executors the late tenant needs: %v", count(evicted()), size.lateMin, err)
	}
	time.Sleep(2 * time.Second)
	onNode := evicted()
	return footprintRun{borrowedNodes: len(borrowedOn), evictions: count(onNode), touched: len(onNode), needed: size.lateMin}
}
