package workload

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/toinfn/farm/pkg/quota"
)

func TestDriver(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	job := Tenant{Name: "alice", Min: 2, Initial: 2, Executors: 8, Arrival: 10 * time.Second, JobLength: time.Minute}
	at := func(d time.Duration) time.Time { return start.Add(job.Arrival + d) }
	running := func(name string) *corev1.Pod {
		p := job.Executor(Spark, 0)
		p.Name, p.Spec.NodeName, p.Status.Phase = name, "node-0", corev1.PodRunning
		return p
	}
	reclaimed := func(name string) *corev1.Pod {
		p := running(name)
		p.DeletionTimestamp = &metav1.Time{Time: start}
		p.Status.Conditions = []corev1.PodCondition{{Type: quota.EvictedCondition, Status: corev1.ConditionTrue, Reason: quota.ReasonReclaimed}}
		return p
	}
	withDriver := job
	withDriver.Driver = true
	driverRunning := func() *corev1.Pod {
		p := withDriver.DriverPod()
		p.Spec.NodeName, p.Status.Phase = "node-0", corev1.PodRunning
		return p
	}
	failed := func(name string) *corev1.Pod {
		p := running(name)
		p.Status.Phase = corev1.PodFailed
		return p
	}

	tests := []struct {
		name     string
		tenant   Tenant
		existing []*corev1.Pod
		steps    []time.Time
		want     JobStatus
		// wantKept are the names of the executors the job keeps (not leaving, not failed).
		wantKept []string
	}{{
		name:   "does nothing before the tenant arrives",
		tenant: job,
		steps:  []time.Time{start, at(-time.Second)},
		want:   JobStatus{Phase: Waiting},
	}, {
		name:     "asks for its initial executors on arrival",
		tenant:   job,
		steps:    []time.Time{at(0)},
		want:     JobStatus{Phase: Running, Submitted: at(0), Asked: 2},
		wantKept: []string{"alice-exec-1", "alice-exec-2"},
	}, {
		name:   "doubles its request every ramp interval, up to the job's executors",
		tenant: job,
		steps:  []time.Time{at(0), at(time.Second), at(1500 * time.Millisecond), at(2 * time.Second), at(3 * time.Second)},
		want:   JobStatus{Phase: Running, Submitted: at(0), Asked: 8},
		wantKept: []string{"alice-exec-1", "alice-exec-2", "alice-exec-3", "alice-exec-4",
			"alice-exec-5", "alice-exec-6", "alice-exec-7", "alice-exec-8"},
	}, {
		name:     "does not double between ramp intervals",
		tenant:   job,
		steps:    []time.Time{at(0), at(500 * time.Millisecond)},
		want:     JobStatus{Phase: Running, Submitted: at(0), Asked: 2},
		wantKept: []string{"alice-exec-1", "alice-exec-2"},
	}, {
		name:     "replaces executors it lost to a reclaim or a failure, with new ids",
		tenant:   Tenant{Name: "alice", Initial: 3, Executors: 3, JobLength: time.Minute},
		existing: []*corev1.Pod{running("alice-exec-1"), reclaimed("alice-exec-2"), failed("alice-exec-3")},
		steps:    []time.Time{start},
		want:     JobStatus{Phase: Running, Submitted: start, Asked: 3},
		wantKept: []string{"alice-exec-1", "alice-exec-4", "alice-exec-5"},
	}, {
		name:     "deletes its executors when the job has run its length",
		tenant:   job,
		existing: []*corev1.Pod{reclaimed("alice-exec-0")},
		steps:    []time.Time{at(0), at(time.Second), at(job.JobLength), at(job.JobLength + time.Second)},
		want:     JobStatus{Phase: Finished, Submitted: at(0), Finished: at(job.JobLength)},
	}, {
		name:     "with a driver pod, asks for no executor until the driver runs",
		tenant:   withDriver,
		steps:    []time.Time{at(0), at(time.Second), at(2 * time.Second)},
		want:     JobStatus{Phase: Starting, Submitted: at(0)},
		wantKept: []string{"alice-driver"},
	}, {
		name:     "with a driver pod, asks for its initial executors once the driver runs",
		tenant:   withDriver,
		existing: []*corev1.Pod{driverRunning()},
		steps:    []time.Time{at(0)},
		want:     JobStatus{Phase: Running, Submitted: at(0), DriverStarted: at(0), Asked: 2},
		wantKept: []string{"alice-driver", "alice-exec-1", "alice-exec-2"},
	}, {
		name:     "with a driver pod, deletes the driver with the executors at the end",
		tenant:   withDriver,
		existing: []*corev1.Pod{driverRunning()},
		steps:    []time.Time{at(0), at(job.JobLength)},
		want:     JobStatus{Phase: Finished, Submitted: at(0), DriverStarted: at(0), Finished: at(job.JobLength)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			client := fake.NewClientset()
			for _, p := range tc.existing {
				if _, err := client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			d := NewDriver(client, Spark, tc.tenant, start)
			for _, now := range tc.steps {
				if err := d.Step(ctx, now); err != nil {
					t.Fatalf("step at %s: %v", now.Sub(start), err)
				}
			}
			if diff := cmp.Diff(tc.want, d.Status()); diff != "" {
				t.Errorf("job status (-want +got):\n%s", diff)
			}
			pods, err := client.CoreV1().Pods(tc.tenant.Name).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, p := range pods.Items {
				if !quota.IsPending(&p) && !quota.IsAssigned(&p) {
					continue
				}
				kept = append(kept, p.Name)
				role := Spark.LabelValue
				if p.Name == tc.tenant.DriverPod().Name {
					role = DriverLabelValue
				}
				if p.Labels[Spark.LabelKey] != role || p.Spec.SchedulerName != quota.SchedulerName {
					t.Errorf("pod %s: labels %v, scheduler %q; want %s=%s for %s", p.Name, p.Labels, p.Spec.SchedulerName, Spark.LabelKey, role, quota.SchedulerName)
				}
			}
			slices.Sort(kept)
			want := slices.Clone(tc.wantKept)
			slices.Sort(want)
			if diff := cmp.Diff(want, kept); diff != "" {
				t.Errorf("executors kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriverTakesTheNextFreeExecutorName(t *testing.T) {
	ctx := context.Background()
	tenant := Tenant{Name: "bob", Initial: 2, Executors: 2, JobLength: time.Minute}
	// An executor left failed by an earlier run holds the first name.
	old := tenant.Executor(Spark, 1)
	old.Status.Phase = corev1.PodFailed
	client := fake.NewClientset(old)
	d := NewDriver(client, Spark, tenant, time.Now())
	if err := d.Step(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bob-exec-2", "bob-exec-3"} {
		p, err := client.CoreV1().Pods("bob").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("executor %s: %v", name, err)
		}
		if !quota.IsPending(p) {
			t.Errorf("executor %s is not pending: phase %s, node %q", name, p.Status.Phase, p.Spec.NodeName)
		}
	}
}
