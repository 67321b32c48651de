package quota

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// schedName is the farm scheduler's name in these tests.
const schedName = "farm-scheduler"

// baseTime is an arbitrary fixed instant, so that test objects never depend on the clock.
var baseTime = time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)

// podBuilder builds test pods. A new pod is unbound, in phase Pending, addressed to schedName.
type podBuilder struct {
	pod corev1.Pod
}

func makePod(namespace, name string) *podBuilder {
	return &podBuilder{pod: corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.PodSpec{SchedulerName: schedName},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}}
}

func (b *podBuilder) label(key, value string) *podBuilder {
	if b.pod.Labels == nil {
		b.pod.Labels = map[string]string{}
	}
	b.pod.Labels[key] = value
	return b
}

func (b *podBuilder) node(name string) *podBuilder {
	b.pod.Spec.NodeName = name
	return b
}

func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder {
	b.pod.Status.Phase = p
	return b
}

func (b *podBuilder) terminating() *podBuilder {
	t := metav1.NewTime(baseTime.Add(time.Hour))
	b.pod.DeletionTimestamp = &t
	return b
}

func (b *podBuilder) scheduler(name string) *podBuilder {
	b.pod.Spec.SchedulerName = name
	return b
}

func (b *podBuilder) gate(name string) *podBuilder {
	b.pod.Spec.SchedulingGates = append(b.pod.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: name})
	return b
}

func (b *podBuilder) obj() *corev1.Pod {
	return b.pod.DeepCopy()
}

// podStates is every predicate of pod.go for one pod, so a case states all of them at once.
type podStates struct {
	Terminating bool
	Finished    bool
	Assigned    bool
	Running     bool
	Pending     bool
	Error       bool
	Schedulable bool
}

func statesOf(pod *corev1.Pod, schedulerName string) podStates {
	return podStates{
		Terminating: IsTerminating(pod),
		Finished:    IsFinished(pod),
		Assigned:    IsAssigned(pod),
		Running:     IsRunning(pod),
		Pending:     IsPending(pod),
		Error:       IsError(pod),
		Schedulable: IsSchedulable(pod, schedulerName),
	}
}

func TestPodPredicates(t *testing.T) {
	p := func() *podBuilder { return makePod("team-a", "exec-1") }
	cases := []struct {
		name string
		pod  *corev1.Pod
		want podStates
	}{
		{
			name: "new pending pod for the farm scheduler",
			pod:  p().obj(),
			want: podStates{Pending: true, Schedulable: true},
		},
		{
			name: "pending pod with no phase yet",
			pod:  p().phase("").obj(),
			want: podStates{Pending: true, Schedulable: true},
		},
		{
			name: "pending pod for another scheduler",
			pod:  p().scheduler("default-scheduler").obj(),
			want: podStates{Pending: true},
		},
		{
			name: "pending pod with empty scheduler name",
			pod:  p().scheduler("").obj(),
			want: podStates{Pending: true},
		},
		{
			name: "gated pending pod",
			pod:  p().gate("example.com/wait").obj(),
			want: podStates{Pending: true},
		},
		{
			name: "gated pending pod for another scheduler",
			pod:  p().scheduler("default-scheduler").gate("example.com/wait").obj(),
			want: podStates{Pending: true},
		},
		{
			name: "pod with two gates",
			pod:  p().gate("a").gate("b").obj(),
			want: podStates{Pending: true},
		},
		{
			name: "bound pod not started yet",
			pod:  p().node("node-1").obj(),
			want: podStates{Assigned: true},
		},
		{
			name: "bound running pod",
			pod:  p().node("node-1").phase(corev1.PodRunning).obj(),
			want: podStates{Assigned: true, Running: true},
		},
		{
			name: "bound pod in phase Unknown",
			pod:  p().node("node-1").phase(corev1.PodUnknown).obj(),
			want: podStates{Assigned: true},
		},
		{
			name: "bound running pod for another scheduler is still assigned",
			pod:  p().scheduler("default-scheduler").node("node-1").phase(corev1.PodRunning).obj(),
			want: podStates{Assigned: true, Running: true},
		},
		{
			name: "terminating bound running pod",
			pod:  p().node("node-1").phase(corev1.PodRunning).terminating().obj(),
			want: podStates{Terminating: true},
		},
		{
			name: "terminating bound pod not started",
			pod:  p().node("node-1").terminating().obj(),
			want: podStates{Terminating: true},
		},
		{
			name: "running executor Spark decommissions (labelled, not deleted)",
			pod:  p().node("node-1").phase(corev1.PodRunning).label(DecommissioningLabel, "").obj(),
			want: podStates{Terminating: true},
		},
		{
			name: "running executor Spark marked inactive",
			pod:  p().node("node-1").phase(corev1.PodRunning).label(SparkInactiveLabel, "true").obj(),
			want: podStates{Terminating: true},
		},
		{
			name: "inactive label with another value: still running",
			pod:  p().node("node-1").phase(corev1.PodRunning).label(SparkInactiveLabel, "false").obj(),
			want: podStates{Assigned: true, Running: true},
		},
		{
			name: "terminating unbound pod",
			pod:  p().terminating().obj(),
			want: podStates{Terminating: true},
		},
		{
			name: "terminating gated pod",
			pod:  p().gate("example.com/wait").terminating().obj(),
			want: podStates{Terminating: true},
		},
		{
			name: "succeeded pod with node name",
			pod:  p().node("node-1").phase(corev1.PodSucceeded).obj(),
			want: podStates{Finished: true},
		},
		{
			name: "succeeded pod without node name",
			pod:  p().phase(corev1.PodSucceeded).obj(),
			want: podStates{Finished: true},
		},
		{
			name: "failed pod with node name",
			pod:  p().node("node-1").phase(corev1.PodFailed).obj(),
			want: podStates{Finished: true, Error: true},
		},
		{
			name: "failed pod without node name",
			pod:  p().phase(corev1.PodFailed).obj(),
			want: podStates{Finished: true, Error: true},
		},
		{
			name: "terminating failed pod",
			pod:  p().node("node-1").phase(corev1.PodFailed).terminating().obj(),
			want: podStates{Terminating: true, Finished: true, Error: true},
		},
		{
			name: "terminating succeeded pod",
			pod:  p().node("node-1").phase(corev1.PodSucceeded).terminating().obj(),
			want: podStates{Terminating: true, Finished: true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, statesOf(tc.pod, schedName)); diff != "" {
				t.Errorf("pod states (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsSchedulableSchedulerName(t *testing.T) {
	cases := []struct {
		name          string
		podScheduler  string
		schedulerName string
		want          bool
	}{
		{name: "same name", podScheduler: "farm-scheduler", schedulerName: "farm-scheduler", want: true},
		{name: "different name", podScheduler: "default-scheduler", schedulerName: "farm-scheduler", want: false},
		{name: "case matters", podScheduler: "Farm-Scheduler", schedulerName: "farm-scheduler", want: false},
		{name: "prefix is not enough", podScheduler: "farm-scheduler-2", schedulerName: "farm-scheduler", want: false},
		{name: "pod without name, scheduler with name", podScheduler: "", schedulerName: "farm-scheduler", want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := makePod("team-a", "exec-1").scheduler(tc.podScheduler).obj()
			if diff := cmp.Diff(tc.want, IsSchedulable(pod, tc.schedulerName)); diff != "" {
				t.Errorf("IsSchedulable (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsLeaving(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	deadline := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
	tests := []struct {
		name     string
		deletion *metav1.Time
		labels   map[string]string
		want     bool
	}{
		{name: "not terminating", want: false},
		{name: "within its grace period", deletion: deadline(20 * time.Second), want: true},
		{name: "past its deadline, within the margin", deletion: deadline(-LeavingMargin + time.Second), want: true},
		{name: "past its deadline and the margin: stuck", deletion: deadline(-LeavingMargin - time.Second), want: false},
		// Terminating, but with no deadline: it holds its room until it exits.
		{name: "decommissioned by Spark, not deleted", labels: map[string]string{DecommissioningLabel: "true"}, want: false},
		{name: "decommissioned by Spark and deleted", labels: map[string]string{DecommissioningLabel: "true"}, deletion: deadline(20 * time.Second), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: tc.deletion, Labels: tc.labels}}
			if got := IsLeaving(p, now); got != tc.want {
				t.Errorf("IsLeaving = %v, want %v", got, tc.want)
			}
		})
	}
}
