package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// The executor type most tests use, and a second farm type.
const (
	sparkKey, sparkValue   = "spark-role", "executor"
	condorKey, condorValue = "htcondor-role", "worker"
)

// baseTime is the fixed origin of every timestamp in these tests; the clock is always injected.
var baseTime = time.Date(2025, time.March, 3, 10, 0, 0, 0, time.UTC)

// at is baseTime plus d, as the API would store it.
func at(d time.Duration) metav1.Time { return metav1.NewTime(baseTime.Add(d)) }

func ptrTo[T any](v T) *T { return &v }

// fakeClock is the injected clock of the reconcilers under test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock(d time.Duration) *fakeClock    { return &fakeClock{t: baseTime.Add(d)} }
func key(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}

// farmBuilder builds a Farm of the spark type, created at baseTime, generation 1.
type farmBuilder struct{ farm farmv1alpha1.Farm }

func makeFarm(namespace, name string) *farmBuilder {
	return &farmBuilder{farm: farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         namespace,
			Name:              name,
			Generation:        1,
			CreationTimestamp: at(0),
		},
		Spec: farmv1alpha1.FarmSpec{LabelKey: sparkKey, LabelValue: sparkValue},
	}}
}

func (b *farmBuilder) selector(k, v string) *farmBuilder {
	b.farm.Spec.LabelKey, b.farm.Spec.LabelValue = k, v
	return b
}

func (b *farmBuilder) limits(minExecutors, maxExecutors int32) *farmBuilder {
	b.farm.Spec.MinExecutors, b.farm.Spec.MaxExecutors = minExecutors, maxExecutors
	return b
}

func (b *farmBuilder) triggers(n int32) *farmBuilder {
	b.farm.Spec.ScaledownAfterNTriggers = n
	return b
}

func (b *farmBuilder) created(d time.Duration) *farmBuilder {
	b.farm.CreationTimestamp = at(d)
	return b
}

func (b *farmBuilder) generation(g int64) *farmBuilder {
	b.farm.Generation = g
	return b
}

func (b *farmBuilder) status(s farmv1alpha1.FarmStatus) *farmBuilder {
	b.farm.Status = s
	return b
}

func (b *farmBuilder) obj() *farmv1alpha1.Farm { return b.farm.DeepCopy() }

// podBuilder builds a pod addressed to farm-scheduler, pending, created at baseTime.
type podBuilder struct{ pod corev1.Pod }

func makePod(namespace, name string) *podBuilder {
	return &podBuilder{pod: corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         namespace,
			Name:              name,
			UID:               types.UID(namespace + "/" + name),
			CreationTimestamp: at(0),
		},
		Spec:   corev1.PodSpec{SchedulerName: quota.SchedulerName},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}}
}

// exec makes a spark executor (spark-role=executor).
func makeExec(namespace, name string) *podBuilder {
	return makePod(namespace, name).label(sparkKey, sparkValue)
}

func (b *podBuilder) label(k, v string) *podBuilder {
	if b.pod.Labels == nil {
		b.pod.Labels = map[string]string{}
	}
	b.pod.Labels[k] = v
	return b
}

// ownedBy makes the pod's controller the driver pod of that name, as Spark sets it on executors.
func (b *podBuilder) ownedBy(driver string) *podBuilder {
	b.pod.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "v1", Kind: "Pod", Name: driver,
		UID: types.UID(b.pod.Namespace + "/" + driver), Controller: ptr.To(true),
	}}
	return b
}

func (b *podBuilder) scheduler(name string) *podBuilder {
	b.pod.Spec.SchedulerName = name
	return b
}

func (b *podBuilder) gated() *podBuilder {
	b.pod.Spec.SchedulingGates = append(b.pod.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: "example.com/wait"})
	return b
}

func (b *podBuilder) priority(p int32) *podBuilder {
	b.pod.Spec.Priority = &p
	return b
}

func (b *podBuilder) created(d time.Duration) *podBuilder {
	b.pod.CreationTimestamp = at(d)
	return b
}

// running binds the pod to a node and starts it d after baseTime.
func (b *podBuilder) running(d time.Duration) *podBuilder {
	b.pod.Spec.NodeName = "node-1"
	b.pod.Status.Phase = corev1.PodRunning
	b.pod.Status.StartTime = ptrTo(at(d))
	return b
}

// bound binds the pod to a node whose kubelet has not started it yet.
func (b *podBuilder) bound() *podBuilder {
	b.pod.Spec.NodeName = "node-1"
	return b
}

// succeeded makes the pod Succeeded.
func (b *podBuilder) succeeded() *podBuilder {
	b.pod.Spec.NodeName = "node-1"
	b.pod.Status.Phase = corev1.PodSucceeded
	return b
}

// failed makes the pod Failed with no container status and no Ready condition.
func (b *podBuilder) failed() *podBuilder {
	b.pod.Spec.NodeName = "node-1"
	b.pod.Status.Phase = corev1.PodFailed
	return b
}

// finishedAt gives the pod a container terminated d after baseTime.
func (b *podBuilder) finishedAt(d time.Duration) *podBuilder {
	b.pod.Status.ContainerStatuses = append(b.pod.Status.ContainerStatuses, corev1.ContainerStatus{
		Name:  fmt.Sprintf("c%d", len(b.pod.Status.ContainerStatuses)),
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: at(d)}},
	})
	return b
}

// readyChangedAt gives the pod a Ready=False condition last changed d after baseTime.
func (b *podBuilder) readyChangedAt(d time.Duration) *podBuilder {
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: at(d),
	})
	return b
}

// terminating marks the pod as being deleted (a finalizer keeps the fake client honest).
func (b *podBuilder) terminating() *podBuilder {
	b.pod.DeletionTimestamp = ptrTo(at(0))
	b.pod.Finalizers = append(b.pod.Finalizers, "example.com/hold")
	return b
}

// evicted sets Farm's eviction mark with reason, d after baseTime.
func (b *podBuilder) evicted(reason string, d time.Duration) *podBuilder {
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{
		Type: quota.EvictedCondition, Status: corev1.ConditionTrue, Reason: reason, LastTransitionTime: at(d),
	})
	return b
}

func (b *podBuilder) obj() *corev1.Pod { return b.pod.DeepCopy() }

// builderIndexer registers indexes on a fake client builder through the same client.FieldIndexer
// interface the manager hands to addIndexes.
type builderIndexer struct{ b *fake.ClientBuilder }

func (i builderIndexer) IndexField(_ context.Context, obj client.Object, field string, f client.IndexerFunc) error {
	i.b.WithIndex(obj, field, f)
	return nil
}

// writeLog records every write a reconciler makes through the fake client, and lets a test make
// chosen writes fail.
type writeLog struct {
	mu     sync.Mutex
	writes []string
	// deleteErr, when set, answers a pod delete instead of the fake client (nil lets it through).
	deleteErr func(name string) error
	// applyErr, when set, answers every status apply instead of the fake client.
	applyErr error
	// applied are the status applies made, as sent.
	applied []statusApply
}

// statusApply is one server-side apply of a status, as the reconciler sent it.
type statusApply struct {
	body         map[string]any
	fieldManager string
	force        bool
}

func (w *writeLog) add(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, fmt.Sprintf(format, args...))
}

// take returns the writes made since the last call, and forgets them.
func (w *writeLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.writes
	w.writes = nil
	return out
}

func objName(obj client.Object) string {
	return fmt.Sprintf("%T %s", obj, client.ObjectKeyFromObject(obj))
}

func applyName(ac runtime.ApplyConfiguration) string {
	data, err := json.Marshal(ac)
	if err != nil {
		return fmt.Sprintf("unreadable apply configuration: %v", err)
	}
	var u struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &u); err != nil {
		return fmt.Sprintf("unreadable apply configuration: %v", err)
	}
	if u.Metadata.Namespace == "" {
		return fmt.Sprintf("%s %s", u.Kind, u.Metadata.Name)
	}
	return fmt.Sprintf("%s %s/%s", u.Kind, u.Metadata.Namespace, u.Metadata.Name)
}

// newFakeClient is a fake controller-runtime client with the package's scheme, its indexes
// registered by addIndexes, the CRDs' status subresources, and every write logged.
func newFakeClient(t *testing.T, objs ...client.Object) (client.WithWatch, *writeLog) {
	t.Helper()
	scheme, err := NewScheme()
	if err != nil {
		t.Fatalf("NewScheme() error = %v", err)
	}
	w := &writeLog{}
	b := fake.NewClientBuilder().
		WithScheme(scheme).
		WithStatusSubresource(&farmv1alpha1.Farm{}, &farmv1alpha1.FarmManager{}).
		WithObjects(objs...).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				w.add("create %s", objName(obj))
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				w.add("update %s", objName(obj))
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
				w.add("patch %s", objName(obj))
				return c.Patch(ctx, obj, p, opts...)
			},
			Apply: func(ctx context.Context, c client.WithWatch, ac runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				w.add("apply %s", applyName(ac))
				return c.Apply(ctx, ac, opts...)
			},
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				w.add("delete %s", objName(obj))
				if w.deleteErr != nil {
					if err := w.deleteErr(obj.GetName()); err != nil {
						return err
					}
				}
				return c.Delete(ctx, obj, opts...)
			},
			DeleteAllOf: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteAllOfOption) error {
				w.add("deleteAllOf %T", obj)
				return c.DeleteAllOf(ctx, obj, opts...)
			},
			SubResourceCreate: func(ctx context.Context, c client.Client, sub string, obj, subObj client.Object, opts ...client.SubResourceCreateOption) error {
				w.add("create %s %s", sub, objName(obj))
				return c.SubResource(sub).Create(ctx, obj, subObj, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				w.add("update %s %s", sub, objName(obj))
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				w.add("patch %s %s", sub, objName(obj))
				return c.SubResource(sub).Patch(ctx, obj, p, opts...)
			},
			SubResourceApply: func(ctx context.Context, c client.Client, sub string, ac runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
				w.add("apply %s %s", sub, applyName(ac))
				o := &client.SubResourceApplyOptions{}
				o.ApplyOpts(opts)
				a := statusApply{fieldManager: o.FieldManager, force: o.Force != nil && *o.Force}
				if data, err := json.Marshal(ac); err == nil {
					_ = json.Unmarshal(data, &a.body)
				}
				w.mu.Lock()
				w.applied = append(w.applied, a)
				w.mu.Unlock()
				if w.applyErr != nil {
					return w.applyErr
				}
				return c.SubResource(sub).Apply(ctx, ac, opts...)
			},
		})
	// The indexes, registered the way NewManager registers them on the manager's cache.
	if err := addIndexes(t.Context(), builderIndexer{b}); err != nil {
		t.Fatalf("addIndexes() error = %v", err)
	}
	return b.Build(), w
}

// podNames lists the pods left in a namespace, sorted.
func podNames(t *testing.T, c client.Reader, namespace string) []string {
	t.Helper()
	var list corev1.PodList
	if err := c.List(t.Context(), &list, client.InNamespace(namespace)); err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	names := []string{}
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

// getFarm reads a Farm back from the fake client.
func getFarm(t *testing.T, c client.Reader, k types.NamespacedName) *farmv1alpha1.Farm {
	t.Helper()
	f := &farmv1alpha1.Farm{}
	if err := c.Get(t.Context(), k, f); err != nil {
		t.Fatalf("getting Farm %s: %v", k, err)
	}
	return f
}
