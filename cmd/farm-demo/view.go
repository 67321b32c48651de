package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/workload"
)

// row is one farm in the live view.
type row struct {
	farm string
	spec farmv1alpha1.FarmSpec
	// status is what farm-controller last wrote; nil until the Farm can be read.
	status *farmv1alpha1.FarmStatus
	// evictions counts the farm's executors reclaimed so far.
	evictions int
	job       workload.JobStatus
	tenant    workload.Tenant
}

// dashboard is the live view's content: one row per tenant's farm, its counts as
// farm-controller reports them in the Farm's status.
type dashboard struct {
	client   client.Client
	drivers  []*workload.Driver
	obs      *workload.Observer
	previews *previews
	slots    int32
	duration time.Duration
}

// frame renders the dashboard at elapsed into the workload, with used executor slots.
func (d *dashboard) frame(ctx context.Context, elapsed time.Duration, used int32) string {
	rows := make([]row, len(d.drivers))
	for i, driver := range d.drivers {
		t := driver.Tenant()
		r := row{farm: t.Name + "/" + t.FarmName(), tenant: t, job: driver.Status(), evictions: d.obs.Evictions(t.Name)}
		farm := &farmv1alpha1.Farm{}
		if err := d.client.Get(ctx, client.ObjectKey{Namespace: t.Name, Name: t.FarmName()}, farm); err == nil {
			r.spec, r.status = farm.Spec, &farm.Status
		}
		rows[i] = r
	}
	return render(time.Now(), elapsed, d.duration, used, d.slots, rows, d.previews.lines())
}

// render lays the live view out as text.
func render(now time.Time, elapsed, duration time.Duration, used, slots int32, rows []row, previews []string) string {
	var b strings.Builder
	of := ""
	if duration > 0 {
		of = " of " + duration.String()
	}
	pct := int32(0)
	if slots > 0 {
		pct = 100 * used / slots
	}
	fmt.Fprintf(&b, "farm-demo, %s%s: %d of %d executor slots in use (%d%%)\n", elapsed.Truncate(time.Second), of, used, slots, pct)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "FARM\tMIN\tMAX\tRUNNING\tPENDING\tBORROWED\tRECLAIMING\tEVICTED\tJOB")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%d\t%s\t", r.farm, r.tenant.Min, ceiling(r.spec.MaxExecutors))
		if r.status != nil {
			fmt.Fprintf(w, "%d\t%d\t%d\t%d\t", r.status.RunningExecutors, r.status.PendingExecutors, r.status.Overquota, r.status.ReclaimingExecutors)
		} else {
			fmt.Fprint(w, "-\t-\t-\t-\t")
		}
		fmt.Fprintf(w, "%d\t%s\n", r.evictions, job(now, r.tenant, r.job, elapsed))
	}
	_ = w.Flush()
	if len(previews) > 0 {
		b.WriteString("Previews, as each job was submitted (kubectl farm what-if NAMESPACE/FARM --executors MIN):\n")
		for _, line := range previews {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	return b.String()
}

// ceiling shows a farm's maxExecutors, which 0 means it has none.
func ceiling(max int32) string {
	if max == 0 {
		return "-"
	}
	return fmt.Sprint(max)
}

// job tells where a tenant's job is.
func job(now time.Time, t workload.Tenant, s workload.JobStatus, elapsed time.Duration) string {
	switch s.Phase {
	case workload.Waiting:
		return fmt.Sprintf("arrives in %s", max(0, t.Arrival-elapsed).Round(time.Second))
	case workload.Starting:
		return fmt.Sprintf("driver pending %s", now.Sub(s.Submitted).Round(time.Second))
	case workload.Running:
		left := s.Submitted.Add(t.JobLength).Sub(now).Round(time.Second)
		return fmt.Sprintf("asks %d, ends in %s", s.Asked, max(0, left))
	default:
		return "finished"
	}
}

// liveView shows frames on out: on a terminal, each frame replaces the last one, drawn from the
// top of a cleared screen as watch(1) does, so that lines wrapped by a narrow terminal cannot
// leave pieces of old frames behind; elsewhere (a log, a pipe, a test) frames are appended.
type liveView struct {
	out  io.Writer
	ansi bool
	// legend explains the frames: under each one on a terminal, once before the first elsewhere.
	legend string
	drawn  bool
}

func newLiveView(out io.Writer, legend string) *liveView {
	return &liveView{out: out, ansi: isTerminal(out), legend: legend}
}

func (v *liveView) draw(frame string) {
	switch {
	case v.ansi:
		// Cursor home, then erase the screen (terminals keep what scrolls off in their history).
		fmt.Fprint(v.out, "\x1b[H\x1b[2J", frame, v.legend)
	case !v.drawn:
		fmt.Fprint(v.out, v.legend, "\n", frame)
	default:
		fmt.Fprint(v.out, "\n", frame)
	}
	v.drawn = true
}

// isTerminal reports whether out is a terminal that understands ANSI escapes.
func isTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
