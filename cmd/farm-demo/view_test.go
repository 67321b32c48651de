package main

import (
	"strings"
	"testing"
	"time"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/workload"
)

func TestRender(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	alice := workload.Tenant{Name: "alice", Min: 3, JobLength: time.Minute}
	bob := workload.Tenant{Name: "bob", Min: 2, Arrival: 20 * time.Second}

	tests := []struct {
		name string
		row  row
		// want is the row's line in the table, its columns separated by single spaces.
		want string
	}{{
		name: "a running job: the counts from the Farm's status, no ceiling shown as -",
		row: row{farm: "alice/jupyter-alice", tenant: alice, evictions: 4,
			status: &farmv1alpha1.FarmStatus{RunningExecutors: 10, PendingExecutors: 6, Overquota: 7, ReclaimingExecutors: 2},
			job:    workload.JobStatus{Phase: workload.Running, Submitted: now.Add(-15 * time.Second), Asked: 16}},
		want: "alice/jupyter-alice 3 - 10 6 7 2 4 asks 16, ends in 45s",
	}, {
		name: "a ceiling is shown",
		row: row{farm: "alice/jupyter-alice", tenant: alice, spec: farmv1alpha1.FarmSpec{MaxExecutors: 8},
			status: &farmv1alpha1.FarmStatus{RunningExecutors: 8},
			job:    workload.JobStatus{Phase: workload.Running, Submitted: now, Asked: 16}},
		want: "alice/jupyter-alice 3 8 8 0 0 0 0 asks 16, ends in 1m0s",
	}, {
		name: "a tenant yet to arrive, its Farm not read yet",
		row:  row{farm: "bob/jupyter-bob", tenant: bob},
		want: "bob/jupyter-bob 2 - - - - - 0 arrives in 8s",
	}, {
		name: "a job whose driver waits for a node",
		row: row{farm: "bob/jupyter-bob", tenant: bob, status: &farmv1alpha1.FarmStatus{},
			job: workload.JobStatus{Phase: workload.Starting, Submitted: now.Add(-3 * time.Second)}},
		want: "bob/jupyter-bob 2 - 0 0 0 0 0 driver pending 3s",
	}, {
		name: "a finished job",
		row:  row{farm: "bob/jupyter-bob", tenant: bob, status: &farmv1alpha1.FarmStatus{}, job: workload.JobStatus{Phase: workload.Finished}},
		want: "bob/jupyter-bob 2 - 0 0 0 0 0 finished",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := render(now, 12*time.Second, time.Minute, 6, 8, []row{tc.row}, nil)
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("want a title, a header and one row, got:\n%s", text)
			}
			if want := "farm-demo, 12s of 1m0s: 6 of 8 executor slots in use (75%)"; lines[0] != want {
				t.Errorf("title %q, want %q", lines[0], want)
			}
			if got := strings.Join(strings.Fields(lines[1]), " "); got != "FARM MIN MAX RUNNING PENDING BORROWED RECLAIMING EVICTED JOB" {
				t.Errorf("header %q", got)
			}
			if got := strings.Join(strings.Fields(lines[2]), " "); got != tc.want {
				t.Errorf("row %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSummaryPrint(t *testing.T) {
	s := &summary{
		elapsed: time.Minute, slots: 16, nodes: 4,
		tenants: []tenantSummary{
			{name: "alice", min: 3, arrived: true, reachedMin: true, timeToMin: 30 * time.Millisecond, suffered: 6, driverPod: true, driverWaited: 20 * time.Millisecond, hasPreview: true},
			{name: "bob", min: 2, arrived: true, arrival: 6 * time.Second, reachedMin: true, timeToMin: 2104 * time.Millisecond, caused: 6, driverPod: true, driverWaited: 1200 * time.Millisecond, previewed: 2, hasPreview: true},
			{name: "carol", min: 4, arrived: true, arrival: 50 * time.Second, driverPod: true},
			{name: "dave", min: 2},
		},
		utilization: workload.Utilization{Samples: 60, Average: 12.5, Peak: 16},
		thrashing:   []string{"alice/jupyter-alice"},
	}
	var b strings.Builder
	s.print(&b)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		got = append(got, strings.Join(strings.Fields(line), " "))
	}
	want := []string{
		"Summary after 1m0s, 16 executor slots on 4 nodes:",
		"TENANT MIN ARRIVED DRIVER RUNNING AFTER MIN RUNNING AFTER EXECUTORS RECLAIMED FROM IT RECLAIMED FOR IT PREVIEWED",
		"alice 3 0s 20ms 30ms 6 0 0",
		"bob 2 6s 1.2s 2.1s 0 6 2",
		"carol 4 50s not running not reached 0 0 -",
		"dave 2 - - did not arrive 0 0 -",
		"Cluster utilization: 78% on average (12.5 of 16 executor slots in use, peak 16; 60 samples, one a second).",
		"MIN RUNNING AFTER counts from the job's submission, its driver's start included. PREVIEWED is what",
		"kubectl farm what-if said, at submission, the minimum's executors would reclaim; RECLAIMED FOR IT",
		"also counts the room taken for its driver.",
		"Thrashing: alice/jupyter-alice.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("summary:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
