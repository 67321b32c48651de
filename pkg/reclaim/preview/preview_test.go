package preview

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/quota"
)

// ask is alice's farm asking for n more executors made from tmpl.
func ask(n int32, tmpl *podBuilder) Request {
	return Request{Farm: key("alice"), Executors: n, Executor: tmpl.obj()}
}

const (
	noVictim   = "no admissible victim on the nodes it may use"
	notEnough  = "the admissible victims on the nodes it may use do not make enough room (allowed losses, PodDisruptionBudgets and sizes considered)"
	bobsBudget = "farm bob/f: PodDisruptionBudget bob/executors allows no disruption"
)

func TestPlan(t *testing.T) {
	// full is two full nodes: alice holds 2 executors, bob borrows 4 on n1 (after one trigger of
	// three) and dave 2 on n2.
	full := func(aliceMin int32) *clusterBuilder {
		return cluster(node("n1"), node("n2")).
			farms(farm("alice").min(aliceMin), farm("bob").triggers(1, 3), farm("dave")).
			running("bob", "n1", 4).running("alice", "n2", 2).running("dave", "n2", 2)
	}
	// pools is bob borrowing all of n1 (pool cpu) and dave all of n2 (pool gpu); alice holds
	// nothing and is guaranteed 2.
	pools := func(nodes ...*nodeBuilder) *clusterBuilder {
		return cluster(nodes...).farms(farm("alice").min(2), farm("bob"), farm("dave")).
			running("bob", "n1", 4).running("dave", "n2", 4)
	}
	// oneFree is n1 with one CPU left by a driver of three, and n2 all bob's; alice holds
	// nothing and is guaranteed 1; carol, of the same type, is guaranteed 1 too, and condor, of
	// another type, is guaranteed 1 and waits.
	oneFree := func() *clusterBuilder {
		return cluster(node("n1"), node("n2")).
			farms(farm("alice").min(1), farm("bob"), farm("carol").min(1), workers("condor").min(1)).
			pods(driver("alice", "driver").cpu("3").on("n1"), worker("condor", "w1")).
			running("bob", "n2", 4)
	}
	// aged is bob borrowing one executor on each of two one-CPU nodes: on n1 since t0, on n2
	// for five minutes.
	aged := func() *clusterBuilder {
		return cluster(node("n1").cpu("1"), node("n2").cpu("1")).
			farms(farm("alice").min(1), farm("bob")).
			pods(executor("bob", "old").on("n1"), executor("bob", "young").on("n2").startedBefore(5*time.Minute))
	}
	// halfFree is n1 with bob's 2 executors and 2 CPU free, and others pending; alice holds
	// nothing and is guaranteed 1, carol too.
	halfFree := func(others ...*podBuilder) *clusterBuilder {
		return cluster(node("n1")).
			farms(farm("alice").min(1), farm("bob"), farm("carol").min(1), farm("dave")).
			running("bob", "n1", 2).pods(others...)
	}
	// bobOnN1 is bob losing n executors on n1, its share.
	bobOnN1 := func(n int32) Reclaim {
		return Reclaim{Farm: "bob/f", Executors: n, Share: n, Nodes: []NodeEvictions{{Node: "n1", Executors: n}}, TriggersNeeded: 1}
	}

	tests := []struct {
		name           string
		cluster        *clusterBuilder
		req            Request
		minimumRuntime time.Duration
		want           *Result
		wantErr        string
	}{
		{
			name:    "a farm not found",
			cluster: full(4),
			req:     Request{Farm: types.NamespacedName{Namespace: "nobody", Name: "f"}, Executors: 1, Executor: template().obj()},
			wantErr: "farm nobody/f not found",
		},
		{
			name:    "no executor asked for",
			cluster: full(4),
			req:     ask(0, template()),
			wantErr: "executors: must be at least 1, got 0",
		},
		{
			name:    "fewer than none asked for",
			cluster: full(4),
			req:     ask(-2, template()),
			wantErr: "executors: must be at least 1, got -2",
		},
		{
			name:    "at its minimum: all would borrow, nothing is planned",
			cluster: full(2),
			req:     ask(3, template()),
			want:    &Result{Farm: "alice/f", Minimum: 2, Executors: 2, Asked: 3},
		},
		{
			name:    "above its minimum: all would borrow, nothing is planned",
			cluster: full(1),
			req:     ask(3, template()),
			want:    &Result{Farm: "alice/f", Minimum: 1, Executors: 2, Asked: 3},
		},
		{
			name: "free room: the guaranteed ones placed there, nothing reclaimed; the rest would borrow",
			cluster: cluster(node("n1"), node("n2")).farms(farm("alice").min(3), farm("bob")).
				running("alice", "n1", 1).running("bob", "n1", 1),
			req:  ask(4, template()),
			want: &Result{Farm: "alice/f", Minimum: 3, Executors: 1, Asked: 4, Guaranteed: 2, Placed: 2, FreeRoom: 2, Exact: true},
		},
		{
			name:    "no free room: reclaimed from the two borrowers in proportion, with their hysteresis",
			cluster: full(5),
			req:     ask(3, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 5, Executors: 2, Asked: 3, Guaranteed: 3, Placed: 3,
				Reclaims: []Reclaim{
					{Farm: "bob/f", Executors: 2, Share: 2, Nodes: []NodeEvictions{{Node: "n1", Executors: 2}}, TriggersCounted: 1, TriggersNeeded: 3},
					{Farm: "dave/f", Executors: 1, Share: 1, Nodes: []NodeEvictions{{Node: "n2", Executors: 1}}, TriggersNeeded: 1},
				},
				EvictionsForAsked: 3,
				Exact:             true,
			},
		},
		{
			name:    "a PodDisruptionBudget that allows a disruption: one executor reclaimed for",
			cluster: cluster(node("n1")).farms(farm("alice").min(1), farm("bob")).running("bob", "n1", 4).budgets(pdb("bob", "executors", 1)),
			req:     ask(1, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1,
				Reclaims: []Reclaim{bobOnN1(1)}, EvictionsForAsked: 1, Exact: true,
			},
		},
		{
			name:    "a PodDisruptionBudget that allows one disruption: one executor placed, not the other",
			cluster: cluster(node("n1")).farms(farm("alice").min(2), farm("bob")).running("bob", "n1", 4).budgets(pdb("bob", "executors", 1)),
			req:     ask(2, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 2, Asked: 2, Guaranteed: 2, Placed: 1,
				Reclaims: []Reclaim{bobOnN1(1)}, Unplaced: []string{notEnough}, EvictionsForAsked: 1, Exact: true,
			},
		},
		{
			name: "PodDisruptionBudgets that allow no disruption: nothing placed, the borrowers passed over",
			cluster: cluster(node("n1"), node("n2")).farms(farm("alice").min(2), farm("bob"), farm("dave")).
				running("bob", "n1", 4).running("dave", "n2", 4).
				budgets(pdb("dave", "executors", 0), pdb("bob", "executors", 0)),
			req: ask(2, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 2, Asked: 2, Guaranteed: 2,
				Unplaced:   []string{noVictim},
				PassedOver: []string{bobsBudget, "farm dave/f: PodDisruptionBudget dave/executors allows no disruption"},
				Exact:      true,
			},
		},
		{
			name: "a borrower above a lowered ceiling loses only what the ceiling lets it borrow",
			// bob holds 4, is guaranteed 1 and may hold 2: a reclaim takes 1, its scale-down the rest.
			cluster: cluster(node("n1")).farms(farm("alice").min(2), farm("bob").min(1).max(2)).running("bob", "n1", 4),
			req:     ask(2, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 2, Asked: 2, Guaranteed: 2, Placed: 1,
				Reclaims: []Reclaim{bobOnN1(1)}, Unplaced: []string{notEnough}, EvictionsForAsked: 1, Exact: true,
			},
		},
		{
			name:    "no node pool: both borrowers lose",
			cluster: pools(node("n1").label("pool", "cpu"), node("n2").label("pool", "gpu")),
			req:     ask(2, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 2, Asked: 2, Guaranteed: 2, Placed: 2,
				Reclaims: []Reclaim{
					bobOnN1(1),
					{Farm: "dave/f", Executors: 1, Share: 1, Nodes: []NodeEvictions{{Node: "n2", Executors: 1}}, TriggersNeeded: 1},
				},
				EvictionsForAsked: 2,
				Exact:             true,
			},
		},
		{
			name:    "a node pool: only the borrower on the pool's nodes loses",
			cluster: pools(node("n1").label("pool", "cpu"), node("n2").label("pool", "gpu")),
			req:     ask(2, template().nodeSelector("pool", "gpu")),
			want: &Result{
				Farm: "alice/f", Minimum: 2, Asked: 2, Guaranteed: 2, Placed: 2,
				Reclaims:          []Reclaim{{Farm: "dave/f", Executors: 2, Share: 2, Nodes: []NodeEvictions{{Node: "n2", Executors: 2}}, TriggersNeeded: 1}},
				EvictionsForAsked: 2,
				Exact:             true,
			},
		},
		{
			name:    "cordoned nodes: neither their free room nor their borrowers count",
			cluster: pools(node("n1").cordoned(), node("n2"), node("n3").cordoned()),
			req:     ask(2, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 2, Asked: 2, Guaranteed: 2, Placed: 2,
				Reclaims:          []Reclaim{{Farm: "dave/f", Executors: 2, Share: 2, Nodes: []NodeEvictions{{Node: "n2", Executors: 2}}, TriggersNeeded: 1}},
				EvictionsForAsked: 2,
				Exact:             true,
			},
		},
		{
			name:    "nobody of the type waits: the free room is the farm's",
			cluster: oneFree(),
			req:     ask(1, template()),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
		{
			name:    "an executor of the type already waits: served first, it takes the free room",
			cluster: oneFree().pods(executor("carol", "c1")),
			req:     ask(1, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1,
				Reclaims:          []Reclaim{{Farm: "bob/f", Executors: 1, Share: 1, Nodes: []NodeEvictions{{Node: "n2", Executors: 1}}, TriggersNeeded: 1}},
				EvictionsForAsked: 1,
				WaitingBefore:     1, Exact: true,
			},
		},
		{
			name:    "an executor of the type waits that fits nowhere: why is not the farm's to say",
			cluster: oneFree().pods(executor("carol", "c1").nodeSelector("pool", "none")),
			req:     ask(1, template()),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, WaitingBefore: 1, Exact: true},
		},
		{
			name:    "evictions for an executor already waiting are shown, not counted for the ask",
			cluster: oneFree().pods(executor("carol", "c1").nodeSelector(corev1.LabelHostname, "n2")),
			req:     ask(1, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1,
				Reclaims:      []Reclaim{{Farm: "bob/f", Executors: 1, Share: 1, Nodes: []NodeEvictions{{Node: "n2", Executors: 1}}, TriggersNeeded: 1}},
				WaitingBefore: 1, Exact: true,
			},
		},
		{
			name:    "no minimum runtime: the youngest borrowed executor goes",
			cluster: aged(),
			req:     ask(1, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1,
				Reclaims:          []Reclaim{{Farm: "bob/f", Executors: 1, Share: 1, Nodes: []NodeEvictions{{Node: "n2", Executors: 1}}, TriggersNeeded: 1}},
				EvictionsForAsked: 1,
				Exact:             true,
			},
		},
		{
			name:           "a minimum runtime spares the young executor when an old one does as well",
			cluster:        aged(),
			req:            ask(1, template()),
			minimumRuntime: 30 * time.Minute,
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1,
				Reclaims:          []Reclaim{bobOnN1(1)},
				EvictionsForAsked: 1,
				Exact:             true,
			},
		},
		{
			name: "a minimum runtime, only young executors: they go all the same",
			cluster: cluster(node("n2").cpu("1")).farms(farm("alice").min(1), farm("bob")).
				pods(executor("bob", "young").on("n2").startedBefore(5 * time.Minute)),
			req:            ask(1, template()),
			minimumRuntime: 30 * time.Minute,
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1,
				Reclaims:          []Reclaim{{Farm: "bob/f", Executors: 1, Share: 1, Nodes: []NodeEvictions{{Node: "n2", Executors: 1}}, TriggersNeeded: 1}},
				EvictionsForAsked: 1,
				Exact:             true,
			},
		},
		{
			name:    "nothing nominated: the free room is the farm's",
			cluster: halfFree(),
			req:     ask(1, template()),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
		{
			name:    "a pod of no farm nominated to the node holds its room",
			cluster: halfFree(driver("alice", "driver").cpu("2").nominatedTo("n1")),
			req:     ask(1, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1,
				Reclaims: []Reclaim{bobOnN1(1)}, EvictionsForAsked: 1, Exact: true,
			},
		},
		{
			name:    "a nominated pod of no farm of lower priority holds none",
			cluster: halfFree(driver("alice", "driver").cpu("2").priority(-1).nominatedTo("n1")),
			req:     ask(1, template()),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
		{
			name:    "a nominated executor of another farm type, below its minimum, holds its room",
			cluster: halfFree(worker("condor", "w1").cpu("2").nominatedTo("n1")).farms(workers("condor").min(1)),
			req:     ask(1, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1,
				Reclaims: []Reclaim{bobOnN1(1)}, EvictionsForAsked: 1, Exact: true,
			},
		},
		{
			name:    "a nominated executor of another farm type, at its minimum, holds none",
			cluster: halfFree(worker("condor", "w1").cpu("2").nominatedTo("n1")).farms(workers("condor")),
			req:     ask(1, template()),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
		{
			name:    "a nominated executor of a farm no longer below its minimum holds none",
			cluster: halfFree(executor("dave", "d1").cpu("2").nominatedTo("n1")),
			req:     ask(1, template()),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
		{
			name:    "a nominated executor of a farm below its minimum waits first, on the room made for it",
			cluster: halfFree(executor("carol", "c1").cpu("2").nominatedTo("n1")),
			req:     ask(1, template()),
			want: &Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1,
				Reclaims: []Reclaim{bobOnN1(1)}, WaitingBefore: 1, Exact: true,
				EvictionsForAsked: 1,
			},
		},
		{
			name:    "a nominated executor of a farm below its minimum waits: the room it holds is not counted twice",
			cluster: halfFree(executor("carol", "c1").nominatedTo("n1")),
			req:     ask(1, template()),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, WaitingBefore: 1, Exact: true},
		},
		{
			name:    "a template's scheduling gates are not its executors'",
			cluster: halfFree(),
			req:     ask(1, template().gated("example.com/quota")),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
		{
			name:    "the template's namespace, farm label, scheduler and node are the farm's",
			cluster: halfFree(),
			req:     ask(1, executor("elsewhere", "x").label("spark-role", "driver").schedulerName("default-scheduler").on("n9")),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
		{
			name:    "a template taken from an executor Spark decommissions: its executors still wait",
			cluster: halfFree(),
			req:     ask(1, template().label(quota.DecommissioningLabel, "")),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
		{
			name:    "a template taken from an executor Spark is done with: its executors still wait",
			cluster: halfFree(),
			req:     ask(1, template().label(quota.SparkInactiveLabel, "true")),
			want:    &Result{Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1, Exact: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cluster.obj()
			before := tc.req.Executor.DeepCopy()
			got, err := Plan(c, tc.req, Options{SchedulerName: quota.SchedulerName, MinimumRuntime: tc.minimumRuntime, Now: now})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Plan error = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Plan (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.req.Executor); diff != "" {
				t.Errorf("Plan changed the template (-before +after):\n%s", diff)
			}
		})
	}
}

func TestTriggersToGo(t *testing.T) {
	tests := []struct {
		name            string
		counted, needed int32
		want            int32
	}{
		{name: "no hysteresis: the next trigger", counted: 0, needed: 1, want: 1},
		{name: "one of three counted: two to go", counted: 1, needed: 3, want: 2},
		{name: "none of three counted: three to go", counted: 0, needed: 3, want: 3},
		{name: "all counted: the next trigger", counted: 3, needed: 3, want: 1},
		{name: "more counted than needed (the threshold was lowered): the next trigger", counted: 5, needed: 3, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Reclaim{TriggersCounted: tc.counted, TriggersNeeded: tc.needed}
			if got := r.TriggersToGo(); got != tc.want {
				t.Errorf("TriggersToGo = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	bob := Reclaim{Farm: "bob/f", Executors: 2, Share: 2, TriggersCounted: 1, TriggersNeeded: 3}
	dave := Reclaim{Farm: "dave/f", Executors: 1, Share: 1, TriggersNeeded: 1}
	tests := []struct {
		name   string
		result Result
		want   string
	}{
		{
			name:   "nothing asked, nothing found",
			result: Result{Farm: "alice/f"},
			want:   "nothing to do",
		},
		{
			name:   "at its minimum: all would borrow",
			result: Result{Farm: "alice/f", Minimum: 2, Executors: 2, Asked: 3},
			want:   "3 of 3 would borrow",
		},
		{
			name:   "free room for the guaranteed ones, the rest would borrow",
			result: Result{Farm: "alice/f", Minimum: 3, Executors: 1, Asked: 4, Guaranteed: 2, Placed: 2, FreeRoom: 2},
			want:   "2 of 4 would borrow, free room suffices, nothing is reclaimed",
		},
		{
			name: "reclaims, each when its hysteresis lets it",
			result: Result{
				Farm: "alice/f", Minimum: 5, Executors: 2, Asked: 3, Guaranteed: 3, Placed: 3,
				Reclaims: []Reclaim{bob, dave}, EvictionsForAsked: 3,
			},
			want: "bob/f loses 2 at trigger 2 from now, dave/f loses 1 at the next trigger",
		},
		{
			name: "evictions for the executors already waiting are told apart",
			result: Result{
				Farm: "alice/f", Minimum: 1, Asked: 1, Guaranteed: 1, Placed: 1, FreeRoom: 1,
				Reclaims: []Reclaim{dave}, WaitingBefore: 1,
			},
			want: "dave/f loses 1 at the next trigger, 1 of them for the 1 guaranteed executors already waiting",
		},
		{
			name: "executors that would not run, and why",
			result: Result{
				Farm: "alice/f", Minimum: 2, Asked: 2, Guaranteed: 2, Placed: 1,
				Reclaims: []Reclaim{dave}, EvictionsForAsked: 1, Unplaced: []string{notEnough}, PassedOver: []string{bobsBudget},
			},
			want: "dave/f loses 1 at the next trigger, 1 would not run: " + notEnough + "; " + bobsBudget,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.result.Summary(); got != tc.want {
				t.Errorf("Summary =\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}
