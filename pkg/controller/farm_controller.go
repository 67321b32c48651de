package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// FieldManager owns the Farm and FarmManager status fields the controller writes (everything
// but status.scaledownTriggered, which farm-scheduler applies with its own manager).
const FieldManager = "farm-controller"

// Condition types of a Farm, defined with the API.
const (
	ConditionGuaranteeMet = farmv1alpha1.FarmGuaranteeMet
	ConditionBorrowing    = farmv1alpha1.FarmBorrowing
	ConditionReclaiming   = farmv1alpha1.FarmReclaiming
	ConditionConflict     = farmv1alpha1.FarmConflict
)

// FarmReconciler keeps each Farm's status true: the original operator's counters, the reclaim
// view and conditions, written only when they change.
type FarmReconciler struct {
	client.Client
	// FailedRetention is how long a Failed executor is kept for inspection before it is deleted.
	FailedRetention time.Duration
	Recorder        events.EventRecorder
	// ScaleDown enforces a lowered maxExecutors.
	ScaleDown *scaleDown
	now       func() time.Time

	mu sync.Mutex
	// waitingSince is when each farm was last seen below its minimum with executors waiting.
	waitingSince map[string]time.Time
}

// SetupWithManager watches Farms and the pods they select.
func (r *FarmReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.now == nil {
		r.now = time.Now
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("farm").
		For(&farmv1alpha1.Farm{}).
		// Ownership of overlapping executors moves when a Farm of the namespace is created,
		// deleted or reselects: its neighbours' counts and Conflict conditions move with it.
		// Status writes do not move ownership: only creation, deletion and spec changes count.
		Watches(&farmv1alpha1.Farm{}, handler.EnqueueRequestsFromMapFunc(r.otherFarmsOfNamespace), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.farmsSelecting)).
		Complete(r)
}

// farmsSelecting maps a pod to every Farm of its namespace whose selector matches it: the owner
// and any younger Farm in conflict with it.
func (r *FarmReconciler) farmsSelecting(ctx context.Context, obj client.Object) []reconcile.Request {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	farms, err := farmsIn(ctx, r.Client, pod.Namespace)
	if err != nil {
		klog.FromContext(ctx).Error(err, "Listing Farms for a pod event", "pod", klog.KObj(pod))
		return nil
	}
	var reqs []reconcile.Request
	for _, f := range farms {
		if quota.Selects(f, pod) {
			reqs = append(reqs, reconcile.Request{NamespacedName: quota.Key(f)})
		}
	}
	return reqs
}

// otherFarmsOfNamespace maps a Farm to the other Farms of its namespace.
func (r *FarmReconciler) otherFarmsOfNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	farms, err := farmsIn(ctx, r.Client, obj.GetNamespace())
	if err != nil {
		klog.FromContext(ctx).Error(err, "Listing Farms for a Farm event", "farm", klog.KObj(obj))
		return nil
	}
	var reqs []reconcile.Request
	for _, f := range farms {
		if f.Name != obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: quota.Key(f)})
		}
	}
	return reqs
}

// Reconcile computes a Farm's status from its executors and applies it if it changed.
func (r *FarmReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	logger := klog.FromContext(ctx)
	farm := &farmv1alpha1.Farm{}
	if err := r.Get(ctx, req.NamespacedName, farm); err != nil {
		if apierrors.IsNotFound(err) {
			forgetMetrics(req.NamespacedName)
			r.forget(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	o, err := observe(ctx, r.Client, farm)
	if err != nil {
		return reconcile.Result{}, err
	}
	observeMetrics(o)
	r.observeWaiting(o)
	requeue, err := r.cleanUpFailed(ctx, o)
	if err != nil {
		return reconcile.Result{}, err
	}
	if r.ScaleDown != nil {
		again, err := r.ScaleDown.run(ctx, o)
		if err != nil {
			return reconcile.Result{}, err
		}
		if again > 0 && (requeue == 0 || again < requeue) {
			requeue = again
		}
	}

	want := desiredStatus(o, farm.Status, r.now())
	if apiequality.Semantic.DeepEqual(want, withoutSchedulerFields(farm.Status)) {
		return reconcile.Result{RequeueAfter: requeue}, nil
	}
	if err := r.applyStatus(ctx, farm, want); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("applying status of Farm %s: %w", req.NamespacedName, err)
	}
	logger.V(2).Info("Farm status updated", "farm", req.NamespacedName, "running", want.RunningExecutors, "pending", want.PendingExecutors, "overquota", want.Overquota)
	return reconcile.Result{RequeueAfter: requeue}, nil
}

// withoutSchedulerFields drops what farm-scheduler owns (scaledownTriggered, the reclaim records,
// the Thrashing condition), for comparison.
func withoutSchedulerFields(s farmv1alpha1.FarmStatus) farmv1alpha1.FarmStatus {
	s.ScaledownTriggered = 0
	s.LastReclaimedFrom, s.LastReclaimedFor = nil, nil
	s.Conditions = withoutSchedulerConditions(s.Conditions)
	return s
}

// withoutSchedulerConditions drops the conditions farm-scheduler owns: applying them would make
// the controller a co-owner that puts back a value the scheduler has since changed.
func withoutSchedulerConditions(cs []metav1.Condition) []metav1.Condition {
	var out []metav1.Condition
	for _, c := range cs {
		if c.Type != farmv1alpha1.FarmThrashing {
			out = append(out, c)
		}
	}
	return out
}

// desiredStatus is the status the controller owns, from an observation. Conditions keep their
// transition times when their status does not change.
func desiredStatus(o *observation, current farmv1alpha1.FarmStatus, now time.Time) farmv1alpha1.FarmStatus {
	st := o.state
	s := farmv1alpha1.FarmStatus{
		AllExecutors:        st.All,
		RunningExecutors:    st.Running,
		PendingExecutors:    st.Pending,
		ErrorExecutors:      st.Error,
		Overquota:           st.Overquota(),
		ReclaimingExecutors: o.reclaiming,
		LastReclaimTime:     current.LastReclaimTime,
		Selector:            labelIndexValue(o.farm.Spec.LabelKey, o.farm.Spec.LabelValue),
		ObservedGeneration:  o.farm.Generation,
		Conditions:          withoutSchedulerConditions(current.Conditions),
	}
	if o.lastReclaim != nil && (s.LastReclaimTime == nil || s.LastReclaimTime.Before(o.lastReclaim)) {
		s.LastReclaimTime = o.lastReclaim
	}
	gen := o.farm.Generation
	set := func(t string, status bool, reason, msg string) {
		c := metav1.Condition{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: gen, LastTransitionTime: metav1.NewTime(now)}
		if status {
			c.Status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&s.Conditions, c)
	}
	switch {
	case !st.BelowMin():
		set(ConditionGuaranteeMet, true, "AtOrAboveMinimum", fmt.Sprintf("%d executors assigned, minimum %d", st.Assigned, st.Min))
	case st.GuaranteedDemand() > 0:
		set(ConditionGuaranteeMet, false, "WaitingForExecutors", fmt.Sprintf("%d executors assigned, minimum %d, %d waiting", st.Assigned, st.Min, st.Schedulable))
	default:
		set(ConditionGuaranteeMet, true, "NotRequested", fmt.Sprintf("%d executors assigned, minimum %d, none waiting", st.Assigned, st.Min))
	}
	if st.Borrowing() {
		set(ConditionBorrowing, true, "AboveMinimum", fmt.Sprintf("%d executors borrowed beyond the minimum %d", st.Overquota(), st.Min))
	} else {
		set(ConditionBorrowing, false, "AtOrBelowMinimum", fmt.Sprintf("%d executors assigned, minimum %d", st.Assigned, st.Min))
	}
	if o.reclaiming > 0 {
		set(ConditionReclaiming, true, "ExecutorsEvicted", fmt.Sprintf("%d executors are being reclaimed for farms below their minimum", o.reclaiming))
	} else {
		set(ConditionReclaiming, false, "NoReclaim", "no executor is being reclaimed")
	}
	if o.conflictWith != "" {
		set(ConditionConflict, true, "SelectorOverlap", fmt.Sprintf("Farm %s is older and owns executors this Farm selects; they are counted there", o.conflictWith))
	} else {
		set(ConditionConflict, false, "NoOverlap", "no older Farm owns executors this Farm selects")
	}
	return s
}

// applyStatus writes the fields the controller owns by server-side apply.
func (r *FarmReconciler) applyStatus(ctx context.Context, farm *farmv1alpha1.Farm, s farmv1alpha1.FarmStatus) error {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&s)
	if err != nil {
		return err
	}
	// Never claim the scheduler's field.
	delete(content, "scaledownTriggered")
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": farmv1alpha1.GroupVersion.String(),
		"kind":       "Farm",
		"metadata":   map[string]any{"name": farm.Name, "namespace": farm.Namespace},
		"status":     content,
	}}
	return r.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
}

// cleanUpFailed deletes the farm's Failed executors older than the retention, with one event per
// batch, and returns when to look again for those still retained. An executor whose driver may
// still count it as a failure is left to the driver (ownerCounts).
func (r *FarmReconciler) cleanUpFailed(ctx context.Context, o *observation) (time.Duration, error) {
	now := r.now()
	var next time.Duration
	var deleted []string
	// One event for the batch, also when a delete fails part way through it.
	defer func() {
		if len(deleted) > 0 && r.Recorder != nil {
			r.Recorder.Eventf(o.farm, nil, corev1.EventTypeNormal, "FailedExecutorsCleaned", "Delete",
				"Deleted %d Failed executors after %s: %v", len(deleted), r.FailedRetention, deleted)
		}
	}()
	for _, p := range o.owned {
		if !quota.IsError(p) || p.DeletionTimestamp != nil {
			continue
		}
		age := now.Sub(failedAt(p))
		if age < r.FailedRetention {
			if left := r.FailedRetention - age; next == 0 || left < next {
				next = left
			}
			continue
		}
		awaiting, err := r.ownerCounts(ctx, p)
		if err != nil {
			return 0, err
		}
		if awaiting {
			// Look again after another retention: the driver's label or end triggers nothing here.
			if next == 0 || r.FailedRetention < next {
				next = r.FailedRetention
			}
			continue
		}
		err = r.Delete(ctx, p, client.Preconditions{UID: &p.UID})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return 0, fmt.Errorf("deleting Failed executor %s/%s: %w", p.Namespace, p.Name, err)
		}
		if err == nil {
			deleted = append(deleted, p.Name)
			failedCleaned.WithLabelValues(o.farm.Namespace, o.farm.Name).Inc()
		}
	}
	return next, nil
}

// failedAt is when an executor failed: its latest container finish, else its Ready condition's
// last transition, else its creation.
func failedAt(p *corev1.Pod) time.Time {
	var t time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if term := cs.State.Terminated; term != nil && term.FinishedAt.Time.After(t) {
			t = term.FinishedAt.Time
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime.Time
		}
	}
	return p.CreationTimestamp.Time
}

// forget drops what the reconciler remembers of a deleted Farm, so that a Farm created again
// under the same name starts afresh: no waiting time across the gap, no inherited triggers.
func (r *FarmReconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	delete(r.waitingSince, key.String())
	r.mu.Unlock()
	if r.ScaleDown != nil {
		r.ScaleDown.forget(key)
	}
}

// observeWaiting accumulates the time a farm spends below its minimum with executors waiting.
func (r *FarmReconciler) observeWaiting(o *observation) {
	key := quota.Key(o.farm).String()
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waitingSince == nil {
		r.waitingSince = map[string]time.Time{}
	}
	since, was := r.waitingSince[key]
	if was {
		belowMinWaiting.WithLabelValues(o.farm.Namespace, o.farm.Name).Add(now.Sub(since).Seconds())
	}
	if o.state.GuaranteedDemand() > 0 {
		r.waitingSince[key] = now
	} else {
		delete(r.waitingSince, key)
	}
}

// ownerCounts reports whether a Failed executor is still its driver's to count. Spark counts an
// executor whose pod it sees Failed towards spark.executor.maxNumFailures, but one deleted by
// someone else as "deleted", not failed: deleting it first would hide real failures from the
// application. So a Failed executor with a controller owner that is a pod (the Spark driver) is
// left alone while that driver runs, unless the driver has labelled it inactive. Spark's default
// is to delete failed executors itself; this cleanup is for the rest: executors of drivers that
// are gone or done, and pod farms without a driver.
func (r *FarmReconciler) ownerCounts(ctx context.Context, p *corev1.Pod) (bool, error) {
	if p.Labels[quota.SparkInactiveLabel] == "true" {
		return false, nil
	}
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.APIVersion != "v1" || ref.Kind != "Pod" {
		return false, nil
	}
	driver := &corev1.Pod{}
	err := r.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: ref.Name}, driver)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the driver of Failed executor %s/%s: %w", p.Namespace, p.Name, err)
	}
	running := driver.UID == ref.UID && driver.DeletionTimestamp == nil &&
		driver.Status.Phase != corev1.PodSucceeded && driver.Status.Phase != corev1.PodFailed
	return running, nil
}
