package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// minJobLength is the shortest job Plan makes.
const minJobLength = 10 * time.Second

// names are the tenants' names, in order of arrival; tenants beyond them are numbered.
var names = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}

// Plan returns n tenants for a cluster of slots executor slots, drawn from seed, whose arrivals
// and jobs fit in span. The same arguments always give the same tenants.
//
// The plan is built so that every mechanism of Farm shows: the first tenant arrives alone and
// asks for the whole cluster, borrowing everything beyond its minimum; every later tenant arrives
// once the cluster is full, below its minimum, so farm-scheduler reclaims borrowed executors for
// it; later tenants also ask for a little more than their minimum, and borrow it when jobs that
// end leave room. Minimums are at most an equal share of the slots each, so together they never
// exceed the cluster and every guarantee can be met.
func Plan(seed int64, n int, slots int32, span time.Duration) []Tenant {
	return plan(seed, n, slots, span, false)
}

// PlanWithDrivers is Plan for jobs that start with a driver pod (Tenant.Driver) as big as an
// executor: the minimums share the slots the drivers leave, and the first tenant's driver and
// executors fill the cluster, so every later tenant's driver must reclaim room to start.
func PlanWithDrivers(seed int64, n int, slots int32, span time.Duration) []Tenant {
	return plan(seed, n, slots, span, true)
}

func plan(seed int64, n int, slots int32, span time.Duration, drivers bool) []Tenant {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	executorSlots := slots
	if drivers {
		executorSlots -= int32(n)
	}
	share := executorSlots / int32(max(n, 1))
	between := func(lo, hi int32) int32 { return lo + rng.Int32N(hi-lo+1) }
	fraction := func(lo, hi float64) time.Duration {
		return time.Duration((lo + (hi-lo)*rng.Float64()) * float64(span)).Round(time.Second)
	}
	// A job shorter than this could end before its tenant's guarantee is met, which takes a
	// reclaim trigger and the victims' grace period.
	jobLength := func(lo, hi float64) time.Duration { return max(minJobLength, fraction(lo, hi)) }

	tenants := make([]Tenant, n)
	for i := range tenants {
		t := &tenants[i]
		t.Name = tenantName(i)
		if share > 0 {
			t.Min = between(max(1, share/2), share)
		}
		t.Initial = max(1, t.Min)
		t.Driver = drivers
	}
	if n == 0 {
		return tenants
	}

	first := &tenants[0]
	first.Executors = slots
	if drivers {
		first.Executors = slots - 1 // its driver holds the last slot
	}
	first.JobLength = jobLength(0.7, 0.9)
	// Later tenants come once the first one's requests, doubling every round, have filled the
	// cluster, with a few seconds for scheduling: arriving earlier, they would get their
	// minimum from free room and nothing would need to be reclaimed.
	full := RampInterval*time.Duration(rampRounds(first.Initial, first.Executors)) + 3*time.Second
	if drivers {
		full += time.Second // its driver starts first
	}

	arrivals := make([]time.Duration, n-1)
	for i := range arrivals {
		arrivals[i] = max(full, fraction(0.1, 0.5))
	}
	slices.Sort(arrivals)
	for i := 1; i < n; i++ {
		t := &tenants[i]
		t.Arrival = arrivals[i-1]
		t.Executors = t.Min + between(0, max(1, share/2))
		t.JobLength = jobLength(0.3, 0.5)
	}
	return tenants
}

// tenantName names the i-th tenant.
func tenantName(i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("tenant-%d", i+1)
}

// rampRounds is how many rounds a job needs to ask for all its executors, its request doubling
// every round from initial.
func rampRounds(initial, executors int32) int {
	if initial <= 0 || executors <= initial {
		return 0
	}
	return int(math.Ceil(math.Log2(float64(executors) / float64(initial))))
}
