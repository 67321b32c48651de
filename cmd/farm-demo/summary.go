package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/toinfn/farm/test/workload"
)

// summary is what the run showed, tenant by tenant and for the cluster.
type summary struct {
	elapsed     time.Duration
	slots       int32
	nodes       int
	tenants     []tenantSummary
	utilization workload.Utilization
}

// tenantSummary is what one tenant lived through.
type tenantSummary struct {
	name    string
	min     int32
	arrived bool
	// arrival is when the job was submitted, from the start of the workload.
	arrival time.Duration
	// timeToMin is from the job's submission to its farm first running min executors.
	reachedMin bool
	timeToMin  time.Duration
	// suffered counts the tenant's executors reclaimed for others; caused counts executors
	// reclaimed for the tenant.
	suffered, caused int
}

// summarize gathers the drivers' and the observer's records after elapsed of workload.
func summarize(elapsed time.Duration, slots int32, nodes int, drivers []*workload.Driver, obs *workload.Observer) *summary {
	results, utilization := obs.Results()
	byName := map[string]workload.TenantResult{}
	for _, r := range results {
		byName[r.Name] = r
	}
	s := &summary{elapsed: elapsed, slots: slots, nodes: nodes, utilization: utilization}
	for _, d := range drivers {
		t, job := d.Tenant(), d.Status()
		r := byName[t.Name]
		ts := tenantSummary{name: t.Name, min: t.Min, arrived: job.Phase != workload.Waiting, suffered: r.Suffered, caused: r.Caused}
		if ts.arrived {
			ts.arrival = t.Arrival
			switch {
			case t.Min == 0:
				ts.reachedMin = true
			case !r.ReachedMin.IsZero():
				ts.reachedMin, ts.timeToMin = true, max(0, r.ReachedMin.Sub(job.Submitted))
			}
		}
		s.tenants = append(s.tenants, ts)
	}
	return s
}

func (s *summary) print(out io.Writer) {
	fmt.Fprintf(out, "\nSummary after %s, %d executor slots on %d nodes:\n", s.elapsed.Round(time.Second), s.slots, s.nodes)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TENANT\tMIN\tARRIVED\tMIN RUNNING AFTER\tEXECUTORS RECLAIMED FROM IT\tRECLAIMED FOR IT")
	for _, t := range s.tenants {
		arrival, toMin := "-", "did not arrive"
		if t.arrived {
			arrival, toMin = t.arrival.String(), "not reached"
			if t.reachedMin {
				toMin = t.timeToMin.Round(10 * time.Millisecond).String()
			}
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%d\t%d\n", t.name, t.min, arrival, toMin, t.suffered, t.caused)
	}
	_ = w.Flush()
	u := s.utilization
	pct := 0.0
	if s.slots > 0 {
		pct = 100 * u.Average / float64(s.slots)
	}
	fmt.Fprintf(out, "Cluster utilization: %.0f%% on average (%.1f of %d executor slots in use, peak %d; %d samples, one a second).\n",
		pct, u.Average, s.slots, u.Peak, u.Samples)
}
