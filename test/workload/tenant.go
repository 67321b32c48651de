package workload

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/harness"
)

// Spark is the farm type of Spark executors, as Spark on Kubernetes labels them.
var Spark = quota.Type{LabelKey: "spark-role", LabelValue: "executor"}

// ManagedByLabel marks the namespaces this package creates, so that cleanup deletes only those.
const ManagedByLabel = "farm.toinfn.it/workload"

// Tenant is one tenant of the workload: a namespace with one Farm, and one Spark-like job.
type Tenant struct {
	// Name is the tenant's namespace and the name of its application.
	Name string
	// Min is the Farm's minExecutors: the tenant's guarantee.
	Min int32
	// Max is the Farm's maxExecutors; 0 means no ceiling.
	Max int32
	// Executors is the most executors the job asks for (Spark's dynamicAllocation.maxExecutors).
	// Beyond Min, they are borrowed.
	Executors int32
	// Initial is how many executors the job asks for at submission (Spark's
	// dynamicAllocation.initialExecutors); the request doubles every round after that, as Spark's
	// does while tasks are backlogged, up to Executors.
	Initial int32
	// Arrival is when the tenant submits its job, counted from the start of the workload.
	Arrival time.Duration
	// JobLength is how long the job runs once submitted; then its driver deletes its executors.
	JobLength time.Duration
	// Cores is how many default executors' worth of resources each executor asks for; 0 is one.
	Cores int64
	// NodeSelector, when set, keeps the executors on a pool of nodes.
	NodeSelector map[string]string
	// Driver makes the job start as a Spark application in cluster mode does: a driver pod
	// (DriverPod) that must run before the job asks for executors.
	Driver bool
}

// FarmName is the name of the tenant's Farm, after the original JupyterHub deployment's
// jupyter-<user>.
func (t Tenant) FarmName() string { return "jupyter-" + t.Name }

// Farm returns the tenant's Farm for executors of farm type ft.
func (t Tenant) Farm(ft quota.Type) *farmv1alpha1.Farm {
	return &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: t.Name, Name: t.FarmName()},
		Spec: farmv1alpha1.FarmSpec{
			LabelKey:     ft.LabelKey,
			LabelValue:   ft.LabelValue,
			MinExecutors: t.Min,
			MaxExecutors: t.Max,
		},
	}
}

// Executor returns the pod of the tenant's executor number id, of farm type ft: a
// harness.ExecutorPod (farm-scheduler, a quarter of a simulated node, a grace period to
// decommission in) named as Spark names its executors.
func (t Tenant) Executor(ft quota.Type, id int) *corev1.Pod {
	pod := harness.ExecutorPod(t.Name, fmt.Sprintf("%s-exec-%d", t.Name, id), ft.LabelKey, ft.LabelValue)
	// The pause image: on a real cluster the executor must run until it is deleted, and pulling
	// a Spark image would only slow the demo down. Simulated nodes run nothing either way.
	pod.Spec.Containers[0].Image = "registry.k8s.io/pause:3.10"
	if t.Cores > 1 {
		requests := corev1.ResourceList{}
		for name, q := range harness.DefaultExecutorResources {
			q.Mul(t.Cores)
			requests[name] = q
		}
		pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: requests, Limits: requests}
	}
	pod.Spec.NodeSelector = t.NodeSelector
	return pod
}

// DriverLabelValue is the value of the farm type's label key on a driver pod, as Spark labels
// its drivers spark-role=driver: farm-scheduler's default driver selector.
const DriverLabelValue = "driver"

// DriverPod returns the pod of the tenant's driver: addressed to farm-scheduler, of no Farm, as
// big as one executor.
func (t Tenant) DriverPod() *corev1.Pod {
	pod := t.Executor(Spark, 0)
	pod.Name = t.Name + "-driver"
	pod.Labels = map[string]string{Spark.LabelKey: DriverLabelValue}
	return pod
}

// CreateTenants creates each tenant's namespace and Farm. A namespace that already exists is
// refused rather than reused: cleanup deletes the namespaces, and must never delete someone
// else's.
func CreateTenants(ctx context.Context, c client.Client, ft quota.Type, tenants []Tenant) error {
	for _, t := range tenants {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.Name, Labels: map[string]string{ManagedByLabel: "true"}}}
		if err := c.Create(ctx, ns); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("namespace %s already exists: the workload creates its tenants' namespaces and deletes them at the end, so it uses no existing one", t.Name)
			}
			return fmt.Errorf("creating namespace %s: %w", t.Name, err)
		}
		if err := c.Create(ctx, t.Farm(ft)); err != nil {
			return fmt.Errorf("creating Farm %s/%s (are the Farm CRDs installed?): %w", t.Name, t.FarmName(), err)
		}
	}
	return nil
}

// DeleteTenants deletes the namespaces CreateTenants made, with their Farms and executors, and
// waits until they are gone or ctx ends.
func DeleteTenants(ctx context.Context, c client.Client, tenants []Tenant) error {
	for _, t := range tenants {
		ns, err := ownNamespace(ctx, c, t.Name)
		if err != nil {
			return err
		}
		if ns == nil {
			continue
		}
		if err := c.Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting namespace %s: %w", t.Name, err)
		}
	}
	return wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		for _, t := range tenants {
			if ns, err := ownNamespace(ctx, c, t.Name); err != nil || ns != nil {
				return false, err
			}
		}
		return true, nil
	})
}

// ownNamespace returns the namespace of that name if CreateTenants made it, and nil if it is gone
// or someone else's (CreateTenants refused it: cleanup leaves it alone).
func ownNamespace(ctx context.Context, c client.Client, name string) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{}
	err := c.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading namespace %s: %w", name, err)
	}
	if ns.Labels[ManagedByLabel] != "true" {
		return nil, nil
	}
	return ns, nil
}
