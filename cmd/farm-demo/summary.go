package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/workload"
)

// summary is what the run showed, tenant by tenant and for the cluster.
type summary struct {
	elapsed     time.Duration
	slots       int32
	nodes       int
	tenants     []tenantSummary
	utilization workload.Utilization
	// thrashing names the farms whose Thrashing condition was True at the end.
	thrashing []string
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
	// previewed is how many executors the preview taken at submission said its minimum would
	// reclaim, when it has one.
	previewed    int32
	hasPreview   bool
	driverPod    bool
	driverWaited time.Duration
}

// summarize gathers the drivers' and the observer's records after elapsed of workload.
func summarize(elapsed time.Duration, slots int32, nodes int, drivers []*workload.Driver, obs *workload.Observer, previews *previews) *summary {
	results, utilization := obs.Results()
	byName := map[string]workload.TenantResult{}
	for _, r := range results {
		byName[r.Name] = r
	}
	s := &summary{elapsed: elapsed, slots: slots, nodes: nodes, utilization: utilization}
	for _, d := range drivers {
		t, job := d.Tenant(), d.Status()
		r := byName[t.Name]
		ts := tenantSummary{name: t.Name, min: t.Min, arrived: job.Phase != workload.Waiting, suffered: r.Suffered, caused: r.Caused, driverPod: t.Driver}
		ts.previewed, ts.hasPreview = previews.evictions(t.Name)
		if !job.DriverStarted.IsZero() {
			ts.driverWaited = job.DriverStarted.Sub(job.Submitted)
		}
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
	fmt.Fprintln(w, "TENANT\tMIN\tARRIVED\tDRIVER RUNNING AFTER\tMIN RUNNING AFTER\tEXECUTORS RECLAIMED FROM IT\tRECLAIMED FOR IT\tPREVIEWED")
	for _, t := range s.tenants {
		arrival, driver, toMin := "-", "-", "did not arrive"
		if t.arrived {
			arrival, toMin = t.arrival.String(), "not reached"
			if t.reachedMin {
				toMin = t.timeToMin.Round(10 * time.Millisecond).String()
			}
			if t.driverPod {
				driver = "not running"
				if t.driverWaited > 0 {
					driver = t.driverWaited.Round(10 * time.Millisecond).String()
				}
			}
		}
		previewed := "-"
		if t.hasPreview {
			previewed = fmt.Sprint(t.previewed)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\n", t.name, t.min, arrival, driver, toMin, t.suffered, t.caused, previewed)
	}
	_ = w.Flush()
	u := s.utilization
	pct := 0.0
	if s.slots > 0 {
		pct = 100 * u.Average / float64(s.slots)
	}
	fmt.Fprintf(out, "Cluster utilization: %.0f%% on average (%.1f of %d executor slots in use, peak %d; %d samples, one a second).\n",
		pct, u.Average, s.slots, u.Peak, u.Samples)
	fmt.Fprintln(out, "MIN RUNNING AFTER counts from the job's submission, its driver's start included. PREVIEWED is what\n"+
		"kubectl farm what-if said, at submission, the minimum's executors would reclaim; RECLAIMED FOR IT\n"+
		"also counts the room taken for its driver.")
	if len(s.thrashing) == 0 {
		fmt.Fprintln(out, "Thrashing: no farm (no Farm's Thrashing condition is True at the end).")
	} else {
		fmt.Fprintf(out, "Thrashing: %s.\n", strings.Join(s.thrashing, ", "))
	}
}

// thrashingFarms names the tenants' farms whose Thrashing condition is True.
func thrashingFarms(ctx context.Context, c client.Client, tenants []workload.Tenant) []string {
	var out []string
	for _, t := range tenants {
		f := &farmv1alpha1.Farm{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: t.Name, Name: t.FarmName()}, f); err != nil {
			continue
		}
		if meta.IsStatusConditionTrue(f.Status.Conditions, farmv1alpha1.FarmThrashing) {
			out = append(out, t.Name+"/"+t.FarmName())
		}
	}
	return out
}
