package workload

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPlan(t *testing.T) {
	tests := []planCase{
		{name: "default demo", seed: 1, tenants: 4, slots: 16, span: time.Minute},
		{name: "another seed", seed: 42, tenants: 4, slots: 16, span: time.Minute},
		{name: "two tenants on two nodes, short", seed: 7, tenants: 2, slots: 8, span: 10 * time.Second},
		{name: "many tenants", seed: 3, tenants: 12, slots: 40, span: 5 * time.Minute},
		{name: "as many tenants as slots", seed: 5, tenants: 8, slots: 8, span: time.Minute},
		{name: "one tenant", seed: 9, tenants: 1, slots: 4, span: time.Minute},
		{name: "a span too short for the jobs", seed: 11, tenants: 3, slots: 12, span: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testPlan(t, tc, Plan, false)
		})
		if tc.slots >= 2*int32(tc.tenants) { // a driver and at least one executor each
			t.Run("with drivers, "+tc.name, func(t *testing.T) {
				testPlan(t, tc, PlanWithDrivers, true)
			})
		}
	}
}

// planCase is a case of TestPlan.
type planCase struct {
	name    string
	seed    int64
	tenants int
	slots   int32
	span    time.Duration
}

// testPlan checks a plan: the same seed gives the same plan; the minimums fit in the slots the
// drivers leave; the first tenant fills the cluster; the others arrive once it is full.
func testPlan(t *testing.T, tc planCase, planner func(int64, int, int32, time.Duration) []Tenant, drivers bool) {
	var held int32 // slots the drivers hold
	if drivers {
		held = int32(tc.tenants)
	}
	plan := planner(tc.seed, tc.tenants, tc.slots, tc.span)
	if diff := cmp.Diff(plan, planner(tc.seed, tc.tenants, tc.slots, tc.span)); diff != "" {
		t.Fatalf("same seed, different plans (-first +second):\n%s", diff)
	}
	if len(plan) != tc.tenants {
		t.Fatalf("%d tenants, want %d", len(plan), tc.tenants)
	}
	names := map[string]bool{}
	var mins int32
	for i, tenant := range plan {
		if names[tenant.Name] {
			t.Errorf("tenant %d: name %s used twice", i, tenant.Name)
		}
		names[tenant.Name] = true
		mins += tenant.Min
		if tenant.Driver != drivers {
			t.Errorf("%s: driver pod %t, want %t", tenant.Name, tenant.Driver, drivers)
		}
		if tenant.Min < 1 {
			t.Errorf("%s: min %d, want at least 1 when there are as many slots as tenants", tenant.Name, tenant.Min)
		}
		if tenant.Executors < tenant.Min || tenant.Initial > tenant.Executors || tenant.Initial < 1 {
			t.Errorf("%s: min %d, initial %d, executors %d; want 1 <= initial <= executors and min <= executors", tenant.Name, tenant.Min, tenant.Initial, tenant.Executors)
		}
		if tenant.JobLength < minJobLength {
			t.Errorf("%s: job length %s, shorter than %s", tenant.Name, tenant.JobLength, minJobLength)
		}
	}
	if mins+held > tc.slots {
		t.Errorf("minimums add up to %d, more than the %d slots the drivers leave", mins, tc.slots-held)
	}

	// The first tenant borrows the whole cluster; the others come once it is full.
	first := plan[0]
	if fill := tc.slots - min(held, 1); first.Arrival != 0 || first.Executors != fill {
		t.Errorf("first tenant arrives at %s asking for %d executors; want 0s and the %d slots its driver leaves", first.Arrival, first.Executors, fill)
	}
	full := RampInterval * time.Duration(rampRounds(first.Initial, first.Executors))
	for i := 1; i < len(plan); i++ {
		if plan[i].Arrival <= full {
			t.Errorf("%s arrives at %s, before the first tenant's request has filled the cluster (%s)", plan[i].Name, plan[i].Arrival, full)
		}
		if plan[i].Arrival < plan[i-1].Arrival {
			t.Errorf("%s arrives at %s, before %s (%s)", plan[i].Name, plan[i].Arrival, plan[i-1].Name, plan[i-1].Arrival)
		}
	}
}

func TestPlanDependsOnTheSeed(t *testing.T) {
	if diff := cmp.Diff(Plan(1, 4, 16, time.Minute), Plan(2, 4, 16, time.Minute)); diff == "" {
		t.Error("seeds 1 and 2 give the same plan")
	}
}

func TestRampRounds(t *testing.T) {
	tests := []struct {
		initial, executors int32
		want               int
	}{
		{initial: 1, executors: 1, want: 0},
		{initial: 4, executors: 2, want: 0},
		{initial: 1, executors: 2, want: 1},
		{initial: 2, executors: 8, want: 2},
		{initial: 3, executors: 16, want: 3},
		{initial: 0, executors: 16, want: 0},
	}
	for _, tc := range tests {
		if got := rampRounds(tc.initial, tc.executors); got != tc.want {
			t.Errorf("rampRounds(%d, %d) = %d, want %d", tc.initial, tc.executors, got, tc.want)
		}
	}
}
