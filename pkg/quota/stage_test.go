package quota

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestStageOf(t *testing.T) {
	reclaimed := corev1.PodCondition{Type: EvictedCondition, Status: corev1.ConditionTrue, Reason: ReasonReclaimed}
	p := func() *podBuilder { return makePod("team-a", "exec-1").label("spark-role", "executor") }
	withCondition := func(b *podBuilder, c corev1.PodCondition) *corev1.Pod {
		pod := b.obj()
		pod.Status.Conditions = append(pod.Status.Conditions, c)
		return pod
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want Stage
	}{
		{name: "pending", pod: p().obj(), want: StagePending},
		{name: "pending gated", pod: p().gate("example.com/wait").obj(), want: StagePending},
		{name: "bound not started", pod: p().node("node-1").obj(), want: StageStarting},
		{name: "bound unknown", pod: p().node("node-1").phase(corev1.PodUnknown).obj(), want: StageStarting},
		{name: "running", pod: p().node("node-1").phase(corev1.PodRunning).obj(), want: StageRunning},
		{name: "terminating running", pod: p().node("node-1").phase(corev1.PodRunning).terminating().obj(), want: StageTerminating},
		{name: "terminating unbound", pod: p().terminating().obj(), want: StageTerminating},
		{name: "reclaimed, terminating", pod: withCondition(p().node("node-1").phase(corev1.PodRunning).terminating(), reclaimed), want: StageReclaiming},
		{name: "reclaimed, not yet terminating", pod: withCondition(p().node("node-1").phase(corev1.PodRunning), reclaimed), want: StageRunning},
		{name: "reclaimed and failed", pod: withCondition(p().node("node-1").phase(corev1.PodFailed).terminating(), reclaimed), want: StageFailed},
		{name: "failed", pod: p().node("node-1").phase(corev1.PodFailed).obj(), want: StageFailed},
		{name: "failed terminating", pod: p().node("node-1").phase(corev1.PodFailed).terminating().obj(), want: StageFailed},
		{name: "succeeded", pod: p().node("node-1").phase(corev1.PodSucceeded).obj(), want: StageSucceeded},
		{name: "succeeded terminating", pod: p().node("node-1").phase(corev1.PodSucceeded).terminating().obj(), want: StageSucceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StageOf(tc.pod); got != tc.want {
				t.Errorf("StageOf = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzStagesPartitionUsage checks that counts by stage add up to All and agree with Usage's
// overlapping counts, so a metric by stage can be summed and compared with the status.
func FuzzStagesPartitionUsage(f *testing.F) {
	f.Add([]byte{}, schedName)
	f.Add([]byte{0, 1, 2, 3, 0x80, 0x83}, schedName)
	f.Add([]byte{0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x10, 0x11, 0x13, 0x14, 0x8a, 0x8b}, schedName)
	f.Fuzz(func(t *testing.T, states []byte, schedulerName string) {
		var pods []*corev1.Pod
		for i, b := range states {
			pod := fuzzPod(i, b, schedulerName)
			if b&0x80 != 0 {
				pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: EvictedCondition, Status: corev1.ConditionTrue, Reason: ReasonReclaimed})
			}
			pods = append(pods, pod)
		}
		u := Tally(pods, schedulerName)
		by := map[Stage]int32{}
		for _, p := range pods {
			s := StageOf(p)
			if !slices.Contains(Stages, s) {
				t.Fatalf("StageOf(%s) = %q, not one of %v", p.Name, s, Stages)
			}
			by[s]++
		}
		var sum int32
		for _, n := range by {
			sum += n
		}
		for _, c := range []struct {
			name      string
			got, want int32
		}{
			{"sum of stages vs All", sum, u.All},
			{"pending vs Pending", by[StagePending], u.Pending},
			{"starting+running vs Assigned", by[StageStarting] + by[StageRunning], u.Assigned},
			{"reclaiming+terminating vs Terminating", by[StageReclaiming] + by[StageTerminating], u.Terminating},
			{"failed vs Error", by[StageFailed], u.Error},
		} {
			if c.got != c.want {
				t.Fatalf("%s: %d, want %d (stages %v, usage %+v)", c.name, c.got, c.want, fmt.Sprint(by), u)
			}
		}
	})
}
