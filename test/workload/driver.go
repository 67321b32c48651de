package workload

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/toinfn/farm/pkg/quota"
)

const (
	// RampInterval is how often a job doubles its request for executors while it wants more,
	// like Spark's dynamic allocation with its one-second backlog timeouts.
	RampInterval = time.Second
	// StepInterval is how often drivers look at their executors; a lost executor is replaced
	// within it.
	StepInterval = 500 * time.Millisecond
)

// Phase is where a tenant's job is.
type Phase int

const (
	// Waiting: the tenant has not arrived yet.
	Waiting Phase = iota
	// Starting: the job's driver pod waits for a node (a tenant with Tenant.Driver).
	Starting
	// Running: the job runs and its driver keeps its executors.
	Running
	// Finished: the job is over and its executors are deleted.
	Finished
)

func (p Phase) String() string {
	switch p {
	case Waiting:
		return "waiting"
	case Starting:
		return "starting"
	case Running:
		return "running"
	case Finished:
		return "finished"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// JobStatus is what a driver reports about its job.
type JobStatus struct {
	Phase Phase
	// Submitted is when the job was submitted: its driver pod created, or its first executors
	// asked for; zero while Waiting.
	Submitted time.Time
	// DriverStarted is when the job's driver pod was first seen running; zero without one.
	DriverStarted time.Time
	// Finished is when the job deleted its executors; zero until Finished.
	Finished time.Time
	// Asked is how many executors the job wants now: its request so far in the ramp.
	Asked int32
}

// Driver plays the Spark driver of one tenant's job: from its arrival it asks for executors,
// doubling its request every RampInterval up to the job's Executors; it replaces every executor
// it loses (evicted, deleted or failed), as Spark requests a new executor for a lost one; and
// when the job ends it deletes its executors.
type Driver struct {
	// OnSubmit, when set, is called once as the job is submitted, before any of its pods is
	// created.
	OnSubmit func(context.Context, Tenant)

	tenant Tenant
	ft     quota.Type
	client kubernetes.Interface
	// arrival is when the tenant submits, on the wall clock.
	arrival time.Time
	// selector selects the tenant's executors.
	selector string

	mu       sync.Mutex
	status   JobStatus
	lastRamp time.Time
	// nextID numbers executors as Spark does: never reusing an id within the application.
	nextID int
}

// NewDriver returns the driver of tenant's job, for executors of farm type ft; the tenant
// arrives tenant.Arrival after start.
func NewDriver(client kubernetes.Interface, ft quota.Type, tenant Tenant, start time.Time) *Driver {
	return &Driver{
		tenant:   tenant,
		ft:       ft,
		client:   client,
		arrival:  start.Add(tenant.Arrival),
		selector: labels.SelectorFromSet(labels.Set{ft.LabelKey: ft.LabelValue}).String(),
		nextID:   1,
	}
}

// Tenant returns the driver's tenant.
func (d *Driver) Tenant() Tenant { return d.tenant }

// Status returns the job's status.
func (d *Driver) Status() JobStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// Step does what the driver does at now: submit the job once the tenant has arrived (with a
// driver pod first, when the tenant has one, asking for executors only once it runs), ramp its
// request up, replace lost executors, or delete them all once the job has run its length. Steps
// are idempotent: after a failure, the next one picks up from what the API server holds.
func (d *Driver) Step(ctx context.Context, now time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	logger := klog.FromContext(ctx)
	switch d.status.Phase {
	case Finished:
		return nil
	case Waiting:
		if now.Before(d.arrival) {
			return nil
		}
		if d.OnSubmit != nil {
			d.OnSubmit(ctx, d.tenant)
		}
		d.status = JobStatus{Phase: Running, Submitted: now}
		if d.tenant.Driver {
			d.status.Phase = Starting
		}
		logger.V(2).Info("Job submitted", "tenant", d.tenant.Name, "driverPod", d.tenant.Driver)
	}
	if !now.Before(d.status.Submitted.Add(d.tenant.JobLength)) {
		if err := d.deleteExecutors(ctx); err != nil {
			return err
		}
		if err := d.deleteDriver(ctx); err != nil {
			return err
		}
		d.status.Phase, d.status.Finished, d.status.Asked = Finished, now, 0
		logger.V(2).Info("Job finished", "tenant", d.tenant.Name)
		return nil
	}
	if d.status.Phase == Starting {
		running, err := d.keepDriver(ctx)
		if err != nil || !running {
			return err
		}
		d.status.Phase, d.status.DriverStarted = Running, now
		logger.V(2).Info("Driver running", "tenant", d.tenant.Name)
	}
	if d.status.Asked == 0 {
		d.status.Asked = min(d.tenant.Initial, d.tenant.Executors)
		d.lastRamp = now
	} else if d.status.Asked < d.tenant.Executors && now.Sub(d.lastRamp) >= RampInterval {
		d.status.Asked = min(2*max(d.status.Asked, 1), d.tenant.Executors)
		d.lastRamp = now
	}
	return d.keepExecutors(ctx)
}

// keepDriver creates the job's driver pod unless it exists, and reports whether it runs.
func (d *Driver) keepDriver(ctx context.Context) (bool, error) {
	want := d.tenant.DriverPod()
	pod, err := d.client.CoreV1().Pods(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = d.client.CoreV1().Pods(want.Namespace).Create(ctx, want, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("creating driver %s/%s: %w", want.Namespace, want.Name, err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading driver %s/%s: %w", want.Namespace, want.Name, err)
	}
	return quota.IsRunning(pod), nil
}

// deleteDriver deletes the job's driver pod, if it has one.
func (d *Driver) deleteDriver(ctx context.Context) error {
	if !d.tenant.Driver {
		return nil
	}
	pod := d.tenant.DriverPod()
	err := d.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting driver %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// keepExecutors creates executors until the job has as many as it asked for.
func (d *Driver) keepExecutors(ctx context.Context) error {
	pods, err := d.executors(ctx)
	if err != nil {
		return err
	}
	// An executor the job still has is waiting for a node or holds one; one that is leaving
	// (evicted, deleted) or failed is lost and Spark asks for another in its place.
	u := quota.Tally(pods, quota.SchedulerName)
	for have := u.Pending + u.Assigned; have < d.status.Asked; {
		pod := d.tenant.Executor(d.ft, d.nextID)
		d.nextID++
		_, err := d.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// Left by an earlier run of this driver: take the next id.
			continue
		}
		if err != nil {
			return fmt.Errorf("creating executor %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		have++
	}
	return nil
}

// deleteExecutors deletes every executor of the job that is not already leaving, each with its
// own grace period, as Spark does when an application ends.
func (d *Driver) deleteExecutors(ctx context.Context) error {
	pods, err := d.executors(ctx)
	if err != nil {
		return err
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue // already deleted; one Spark only labels as leaving is still deleted here
		}
		err := d.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting executor %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	return nil
}

// executors lists the job's executors.
func (d *Driver) executors(ctx context.Context) ([]*corev1.Pod, error) {
	list, err := d.client.CoreV1().Pods(d.tenant.Name).List(ctx, metav1.ListOptions{LabelSelector: d.selector})
	if err != nil {
		return nil, fmt.Errorf("listing executors of %s: %w", d.tenant.Name, err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return pods, nil
}

// Run steps every driver each StepInterval until ctx ends. A failed step is logged and retried
// on the next one: a Spark driver keeps asking too.
func Run(ctx context.Context, drivers []*Driver) {
	logger := klog.FromContext(ctx)
	tick := time.NewTicker(StepInterval)
	defer tick.Stop()
	for {
		for _, d := range drivers {
			if err := d.Step(ctx, time.Now()); err != nil && ctx.Err() == nil {
				logger.Error(err, "Driver step failed; retrying", "tenant", d.tenant.Name)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
