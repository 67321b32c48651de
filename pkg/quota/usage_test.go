package quota

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// usageCases is one pod of every kind and what Add counts for it, alone, with schedName.
func usageCases() []struct {
	name string
	pod  *corev1.Pod
	want Usage
} {
	p := func() *podBuilder { return makePod("team-a", "exec-1").label("spark-role", "executor") }
	return []struct {
		name string
		pod  *corev1.Pod
		want Usage
	}{
		{name: "pending schedulable", pod: p().obj(), want: Usage{All: 1, Pending: 1, Schedulable: 1}},
		{name: "pending with no phase", pod: p().phase("").obj(), want: Usage{All: 1, Pending: 1, Schedulable: 1}},
		{name: "pending for another scheduler", pod: p().scheduler("default-scheduler").obj(), want: Usage{All: 1, Pending: 1}},
		{name: "pending gated", pod: p().gate("example.com/wait").obj(), want: Usage{All: 1, Pending: 1}},
		{name: "bound not started", pod: p().node("node-1").obj(), want: Usage{All: 1, Assigned: 1}},
		{name: "bound running", pod: p().node("node-1").phase(corev1.PodRunning).obj(), want: Usage{All: 1, Assigned: 1, Running: 1}},
		{name: "bound unknown", pod: p().node("node-1").phase(corev1.PodUnknown).obj(), want: Usage{All: 1, Assigned: 1}},
		{name: "terminating running", pod: p().node("node-1").phase(corev1.PodRunning).terminating().obj(), want: Usage{All: 1, Terminating: 1}},
		{name: "terminating unbound", pod: p().terminating().obj(), want: Usage{All: 1, Terminating: 1}},
		{name: "terminating gated", pod: p().gate("example.com/wait").terminating().obj(), want: Usage{All: 1, Terminating: 1}},
		{name: "succeeded", pod: p().node("node-1").phase(corev1.PodSucceeded).obj(), want: Usage{All: 1}},
		{name: "succeeded terminating", pod: p().node("node-1").phase(corev1.PodSucceeded).terminating().obj(), want: Usage{All: 1}},
		{name: "failed with node", pod: p().node("node-1").phase(corev1.PodFailed).obj(), want: Usage{All: 1, Error: 1}},
		{name: "failed without node", pod: p().phase(corev1.PodFailed).obj(), want: Usage{All: 1, Error: 1}},
		{name: "failed terminating", pod: p().node("node-1").phase(corev1.PodFailed).terminating().obj(), want: Usage{All: 1, Error: 1}},
	}
}

func TestUsageAdd(t *testing.T) {
	for _, tc := range usageCases() {
		t.Run(tc.name, func(t *testing.T) {
			var u Usage
			u.Add(tc.pod, schedName)
			if diff := cmp.Diff(tc.want, u); diff != "" {
				t.Errorf("Usage after Add (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUsageAddRemove checks, for every kind of pod, that Remove undoes Add exactly, both from
// zero and on top of other counts.
func TestUsageAddRemove(t *testing.T) {
	base := Usage{All: 20, Assigned: 7, Running: 5, Pending: 6, Schedulable: 4, Error: 3, Terminating: 2}
	for _, tc := range usageCases() {
		t.Run(tc.name, func(t *testing.T) {
			var u Usage
			u.Add(tc.pod, schedName)
			u.Remove(tc.pod, schedName)
			if diff := cmp.Diff(Usage{}, u); diff != "" {
				t.Errorf("Usage after Add and Remove from zero (-want +got):\n%s", diff)
			}

			u = base
			u.Add(tc.pod, schedName)
			u.Add(tc.pod, schedName)
			u.Remove(tc.pod, schedName)
			u.Remove(tc.pod, schedName)
			if diff := cmp.Diff(Usage{All: 20, Assigned: 7, Running: 5, Pending: 6, Schedulable: 4, Error: 3, Terminating: 2}, u); diff != "" {
				t.Errorf("Usage after two Adds and two Removes on a base (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUsageRemoveFromZeroGoesNegative checks that Remove is the exact inverse of Add, with no
// clamping: a cache that removes a pod it never added must see it.
func TestUsageRemoveFromZeroGoesNegative(t *testing.T) {
	p := func() *podBuilder { return makePod("team-a", "exec-1") }
	cases := []struct {
		name string
		pod  *corev1.Pod
		want Usage
	}{
		{name: "pending schedulable", pod: p().obj(), want: Usage{All: -1, Pending: -1, Schedulable: -1}},
		{name: "bound running", pod: p().node("node-1").phase(corev1.PodRunning).obj(), want: Usage{All: -1, Assigned: -1, Running: -1}},
		{name: "terminating", pod: p().node("node-1").phase(corev1.PodRunning).terminating().obj(), want: Usage{All: -1, Terminating: -1}},
		{name: "failed", pod: p().node("node-1").phase(corev1.PodFailed).obj(), want: Usage{All: -1, Error: -1}},
		{name: "succeeded", pod: p().node("node-1").phase(corev1.PodSucceeded).obj(), want: Usage{All: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var u Usage
			u.Remove(tc.pod, schedName)
			if diff := cmp.Diff(tc.want, u); diff != "" {
				t.Errorf("Usage after Remove from zero (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTally(t *testing.T) {
	p := func(name string) *podBuilder { return makePod("team-a", name).label("spark-role", "executor") }
	mixed := []*corev1.Pod{
		p("pending-1").obj(),
		p("pending-2").obj(),
		p("pending-other").scheduler("default-scheduler").obj(),
		p("pending-gated").gate("example.com/wait").obj(),
		p("bound").node("node-1").obj(),
		p("running-1").node("node-1").phase(corev1.PodRunning).obj(),
		p("running-2").node("node-2").phase(corev1.PodRunning).obj(),
		p("terminating").node("node-2").phase(corev1.PodRunning).terminating().obj(),
		p("succeeded").node("node-1").phase(corev1.PodSucceeded).obj(),
		p("failed").node("node-2").phase(corev1.PodFailed).obj(),
	}
	cases := []struct {
		name          string
		pods          []*corev1.Pod
		schedulerName string
		want          Usage
	}{
		{name: "no pods", schedulerName: schedName, want: Usage{}},
		{name: "one running pod", pods: mixed[5:6], schedulerName: schedName, want: Usage{All: 1, Assigned: 1, Running: 1}},
		{
			name:          "mixed pods",
			pods:          mixed,
			schedulerName: schedName,
			want:          Usage{All: 10, Assigned: 3, Running: 2, Pending: 4, Schedulable: 2, Error: 1, Terminating: 1},
		},
		{
			name:          "mixed pods, counted for the default scheduler",
			pods:          mixed,
			schedulerName: "default-scheduler",
			want:          Usage{All: 10, Assigned: 3, Running: 2, Pending: 4, Schedulable: 1, Error: 1, Terminating: 1},
		},
		{
			name:          "the same pod twice counts twice",
			pods:          []*corev1.Pod{mixed[0], mixed[0]},
			schedulerName: schedName,
			want:          Usage{All: 2, Pending: 2, Schedulable: 2},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Tally(tc.pods, tc.schedulerName)); diff != "" {
				t.Errorf("Tally (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUsageIncrementalUpdate follows one pod through its life the way a cache does (Remove the
// old object, Add the new one) on top of other pods, and checks the counts at each step.
func TestUsageIncrementalUpdate(t *testing.T) {
	p := func() *podBuilder { return makePod("team-a", "exec-1").label("spark-role", "executor") }
	others := []*corev1.Pod{
		makePod("team-a", "other-running").node("node-1").phase(corev1.PodRunning).obj(),
		makePod("team-a", "other-pending").obj(),
	}
	// Counts of others alone: All 2, Assigned 1, Running 1, Pending 1, Schedulable 1.
	cases := []struct {
		name     string
		old, new *corev1.Pod
		want     Usage
	}{
		{
			name: "created pending",
			new:  p().obj(),
			want: Usage{All: 3, Assigned: 1, Running: 1, Pending: 2, Schedulable: 2},
		},
		{
			name: "gate removed",
			old:  p().gate("example.com/wait").obj(),
			new:  p().obj(),
			want: Usage{All: 3, Assigned: 1, Running: 1, Pending: 2, Schedulable: 2},
		},
		{
			name: "bound",
			old:  p().obj(),
			new:  p().node("node-2").obj(),
			want: Usage{All: 3, Assigned: 2, Running: 1, Pending: 1, Schedulable: 1},
		},
		{
			name: "started",
			old:  p().node("node-2").obj(),
			new:  p().node("node-2").phase(corev1.PodRunning).obj(),
			want: Usage{All: 3, Assigned: 2, Running: 2, Pending: 1, Schedulable: 1},
		},
		{
			name: "deletion requested",
			old:  p().node("node-2").phase(corev1.PodRunning).obj(),
			new:  p().node("node-2").phase(corev1.PodRunning).terminating().obj(),
			want: Usage{All: 3, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1, Terminating: 1},
		},
		{
			name: "terminated with success",
			old:  p().node("node-2").phase(corev1.PodRunning).terminating().obj(),
			new:  p().node("node-2").phase(corev1.PodSucceeded).terminating().obj(),
			want: Usage{All: 3, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1},
		},
		{
			name: "failed while running",
			old:  p().node("node-2").phase(corev1.PodRunning).obj(),
			new:  p().node("node-2").phase(corev1.PodFailed).obj(),
			want: Usage{All: 3, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1, Error: 1},
		},
		{
			name: "deleted while running",
			old:  p().node("node-2").phase(corev1.PodRunning).obj(),
			want: Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1},
		},
		{
			name: "failed pod deleted",
			old:  p().node("node-2").phase(corev1.PodFailed).obj(),
			want: Usage{All: 2, Assigned: 1, Running: 1, Pending: 1, Schedulable: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pods := append([]*corev1.Pod(nil), others...)
			if tc.old != nil {
				pods = append(pods, tc.old)
			}
			u := Tally(pods, schedName)
			if tc.old != nil {
				u.Remove(tc.old, schedName)
			}
			if tc.new != nil {
				u.Add(tc.new, schedName)
			}
			if diff := cmp.Diff(tc.want, u); diff != "" {
				t.Errorf("Usage after update (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStateRules(t *testing.T) {
	type rules struct {
		Overquota        int32
		Reclaimable      int32
		Underquota       int32
		GuaranteedDemand int32
		BelowMin         bool
		Borrowing        bool
		Headroom         int32
	}
	cases := []struct {
		name  string
		state State
		want  rules
	}{
		{
			name:  "empty farm, no limits",
			state: State{},
			want:  rules{Headroom: -1},
		},
		{
			name:  "below min, more schedulable than the shortfall",
			state: State{Limits: Limits{Min: 3}, Usage: Usage{All: 6, Assigned: 1, Pending: 5, Schedulable: 5}},
			want:  rules{Underquota: 2, GuaranteedDemand: 2, BelowMin: true, Headroom: -1},
		},
		{
			name:  "below min, fewer schedulable than the shortfall",
			state: State{Limits: Limits{Min: 5}, Usage: Usage{All: 3, Assigned: 1, Pending: 2, Schedulable: 1}},
			want:  rules{Underquota: 4, GuaranteedDemand: 1, BelowMin: true, Headroom: -1},
		},
		{
			name:  "below min, pending but none schedulable",
			state: State{Limits: Limits{Min: 3}, Usage: Usage{All: 5, Assigned: 1, Pending: 4}},
			want:  rules{Underquota: 2, BelowMin: true, Headroom: -1},
		},
		{
			name:  "below min, nothing assigned, with a ceiling",
			state: State{Limits: Limits{Min: 2, Max: 4}, Usage: Usage{All: 3, Pending: 3, Schedulable: 3}},
			want:  rules{Underquota: 2, GuaranteedDemand: 2, BelowMin: true, Headroom: 4},
		},
		{
			name:  "terminating executors do not count as assigned",
			state: State{Limits: Limits{Min: 2}, Usage: Usage{All: 2, Terminating: 2}},
			want:  rules{Underquota: 2, BelowMin: true, Headroom: -1},
		},
		{
			name:  "exactly at min",
			state: State{Limits: Limits{Min: 2, Max: 5}, Usage: Usage{All: 3, Assigned: 2, Running: 2, Pending: 1, Schedulable: 1}},
			want:  rules{Headroom: 3},
		},
		{
			name:  "borrowing with schedulable pending has no guaranteed demand",
			state: State{Limits: Limits{Min: 4}, Usage: Usage{All: 9, Assigned: 6, Pending: 3, Schedulable: 3}},
			want:  rules{Overquota: 2, Reclaimable: 2, Borrowing: true, Headroom: -1},
		},
		{
			name:  "borrowing with min 0 and no ceiling",
			state: State{Usage: Usage{All: 3, Assigned: 3, Running: 3}},
			want:  rules{Overquota: 3, Reclaimable: 3, Borrowing: true, Headroom: -1},
		},
		{
			name:  "at the ceiling",
			state: State{Limits: Limits{Min: 0, Max: 3}, Usage: Usage{All: 3, Assigned: 3}},
			want:  rules{Overquota: 3, Reclaimable: 3, Borrowing: true, Headroom: 0},
		},
		{
			name:  "above the ceiling (max lowered): headroom 0, the scale-down's executors not reclaimable",
			state: State{Limits: Limits{Min: 2, Max: 4}, Usage: Usage{All: 5, Assigned: 5}},
			want:  rules{Overquota: 3, Reclaimable: 2, Borrowing: true, Headroom: 0},
		},
		{
			name:  "under the ceiling",
			state: State{Limits: Limits{Min: 1, Max: 10}, Usage: Usage{All: 4, Assigned: 4}},
			want:  rules{Overquota: 3, Reclaimable: 3, Borrowing: true, Headroom: 6},
		},
		{
			name:  "max equal to min",
			state: State{Limits: Limits{Min: 3, Max: 3}, Usage: Usage{All: 3, Assigned: 1, Pending: 2, Schedulable: 2}},
			want:  rules{Underquota: 2, GuaranteedDemand: 2, BelowMin: true, Headroom: 2},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rules{
				Overquota:        tc.state.Overquota(),
				Reclaimable:      tc.state.Reclaimable(),
				Underquota:       tc.state.Underquota(),
				GuaranteedDemand: tc.state.GuaranteedDemand(),
				BelowMin:         tc.state.BelowMin(),
				Borrowing:        tc.state.Borrowing(),
				Headroom:         tc.state.Headroom(),
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("State rules (-want +got):\n%s", diff)
			}
		})
	}
}

// fuzzPod decodes one byte into a pod state: bit 0 bound, bit 1 terminating, bits 2-4 phase,
// bit 5 addressed to another scheduler, bit 6 gated.
func fuzzPod(i int, b byte, schedulerName string) *corev1.Pod {
	phases := []corev1.PodPhase{"", corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown}
	pb := makePod("team-a", fmt.Sprintf("exec-%d", i)).
		label("spark-role", "executor").
		scheduler(schedulerName).
		phase(phases[int(b>>2&7)%len(phases)])
	if b&1 != 0 {
		pb.node("node-1")
	}
	if b&2 != 0 {
		pb.terminating()
	}
	if b&32 != 0 {
		pb.scheduler("other-" + schedulerName)
	}
	if b&64 != 0 {
		pb.gate("example.com/wait")
	}
	return pb.obj()
}

// checkUsage fails when a count is negative or the counts contradict each other.
func checkUsage(t *testing.T, step string, u Usage) {
	t.Helper()
	for name, n := range map[string]int32{
		"All": u.All, "Assigned": u.Assigned, "Running": u.Running, "Pending": u.Pending,
		"Schedulable": u.Schedulable, "Error": u.Error, "Terminating": u.Terminating,
	} {
		if n < 0 {
			t.Fatalf("%s: %s = %d < 0 in %+v", step, name, n, u)
		}
		if n > u.All {
			t.Fatalf("%s: %s = %d > All in %+v", step, name, n, u)
		}
	}
	// Assigned, pending and terminating-but-not-finished are disjoint.
	if u.Assigned+u.Pending+u.Terminating > u.All {
		t.Fatalf("%s: Assigned+Pending+Terminating > All in %+v", step, u)
	}
	if u.Schedulable > u.Pending {
		t.Fatalf("%s: Schedulable > Pending in %+v", step, u)
	}
}

// FuzzUsageAddRemove adds pods in arbitrary states, one per input byte, checking the counts stay
// sane and match Tally, then removes them in another order and checks the result is zero.
func FuzzUsageAddRemove(f *testing.F) {
	f.Add([]byte{}, schedName)
	f.Add([]byte{0, 1, 2, 3}, schedName)
	f.Add([]byte{0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x10, 0x11, 0x13, 0x14}, schedName)
	f.Add([]byte{0x20, 0x40, 0x60, 0x61, 0x7f, 0xff}, "default-scheduler")
	f.Add([]byte{0x00, 0x00, 0x00}, "")
	f.Fuzz(func(t *testing.T, states []byte, schedulerName string) {
		pods := make([]*corev1.Pod, len(states))
		for i, b := range states {
			pods[i] = fuzzPod(i, b, schedulerName)
		}
		var u Usage
		for i, p := range pods {
			u.Add(p, schedulerName)
			checkUsage(t, fmt.Sprintf("after adding pod %d", i), u)
		}
		if u.All != int32(len(pods)) {
			t.Fatalf("All = %d after adding %d pods", u.All, len(pods))
		}
		if diff := cmp.Diff(Tally(pods, schedulerName), u); diff != "" {
			t.Fatalf("incremental Add differs from Tally (-tally +incremental):\n%s", diff)
		}
		// Remove every other pod first, then the rest backwards.
		for i := 0; i < len(pods); i += 2 {
			u.Remove(pods[i], schedulerName)
			checkUsage(t, fmt.Sprintf("after removing pod %d", i), u)
		}
		for i := len(pods) - 1; i >= 0; i-- {
			if i%2 == 1 {
				u.Remove(pods[i], schedulerName)
				checkUsage(t, fmt.Sprintf("after removing pod %d", i), u)
			}
		}
		if diff := cmp.Diff(Usage{}, u); diff != "" {
			t.Fatalf("Usage after adding and removing all pods (-want +got):\n%s", diff)
		}
	})
}
