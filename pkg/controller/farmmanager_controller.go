package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// FarmManagerReconciler keeps each FarmManager's status true: the original operator's maps, keyed
// namespace/name, over every Farm of its farm type, plus totals.
//
// FarmManagers are not created automatically: one per farm type is an admin's choice (its name,
// e.g. farmmanager-spark, is for people), and scheduling never depends on it.
type FarmManagerReconciler struct {
	client.Client
}

// SetupWithManager watches FarmManagers, and Farms and pods of their types.
func (r *FarmManagerReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("farmmanager").
		For(&farmv1alpha1.FarmManager{}).
		Watches(&farmv1alpha1.Farm{}, handler.EnqueueRequestsFromMapFunc(r.managersOfFarm)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.managersOfPod)).
		Complete(r)
}

// managersFor returns the FarmManagers whose type is t.
func (r *FarmManagerReconciler) managersFor(ctx context.Context, t quota.Type) []reconcile.Request {
	var list farmv1alpha1.FarmManagerList
	if err := r.List(ctx, &list); err != nil {
		klog.FromContext(ctx).Error(err, "Listing FarmManagers")
		return nil
	}
	var reqs []reconcile.Request
	for _, m := range list.Items {
		if m.Spec.LabelKey == t.LabelKey && m.Spec.LabelValue == t.LabelValue {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&m)})
		}
	}
	return reqs
}

func (r *FarmManagerReconciler) managersOfFarm(ctx context.Context, obj client.Object) []reconcile.Request {
	farm, ok := obj.(*farmv1alpha1.Farm)
	if !ok {
		return nil
	}
	return r.managersFor(ctx, quota.TypeOf(farm))
}

// managersOfPod maps an executor to the managers of the farm types that select it; pods no Farm
// selects cost one list of the namespace's Farms.
func (r *FarmManagerReconciler) managersOfPod(ctx context.Context, obj client.Object) []reconcile.Request {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	farms, err := farmsIn(ctx, r.Client, pod.Namespace)
	if err != nil {
		return nil
	}
	seen := map[quota.Type]bool{}
	var reqs []reconcile.Request
	for _, f := range farms {
		t := quota.TypeOf(f)
		if quota.Selects(f, pod) && !seen[t] {
			seen[t] = true
			reqs = append(reqs, r.managersFor(ctx, t)...)
		}
	}
	return reqs
}

// Reconcile recomputes a FarmManager's maps from every Farm of its type.
func (r *FarmManagerReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	m := &farmv1alpha1.FarmManager{}
	if err := r.Get(ctx, req.NamespacedName, m); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	var farms farmv1alpha1.FarmList
	if err := r.List(ctx, &farms); err != nil {
		return reconcile.Result{}, err
	}
	want := farmv1alpha1.FarmManagerStatus{
		Overquota:          map[string]int32{},
		Underquota:         map[string]int32{},
		Pending:            map[string]int32{},
		Tobescaledown:      map[string]int32{},
		ObservedGeneration: m.Generation,
		Conditions:         m.Status.Conditions,
	}
	for i := range farms.Items {
		f := &farms.Items[i]
		if f.Spec.LabelKey != m.Spec.LabelKey || f.Spec.LabelValue != m.Spec.LabelValue {
			continue
		}
		o, err := observe(ctx, r.Client, f)
		if err != nil {
			return reconcile.Result{}, err
		}
		key := quota.Key(f).String()
		want.Farms++
		want.Overquota[key] = o.state.Overquota()
		want.Underquota[key] = o.state.Underquota()
		want.Pending[key] = o.state.Pending
		want.Tobescaledown[key] = o.reclaiming
		want.TotalOverquota += o.state.Overquota()
		want.TotalUnderquota += o.state.Underquota()
		want.TotalPending += o.state.Pending
		want.TotalTobescaledown += o.reclaiming
	}
	if apiequality.Semantic.DeepEqual(normalized(want), normalized(m.Status)) {
		return reconcile.Result{}, nil
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&want)
	if err != nil {
		return reconcile.Result{}, err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": farmv1alpha1.GroupVersion.String(),
		"kind":       "FarmManager",
		"metadata":   map[string]any{"name": m.Name},
		"status":     content,
	}}
	if err := r.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("applying status of FarmManager %s: %w", m.Name, err)
	}
	klog.FromContext(ctx).V(2).Info("FarmManager status updated", "farmManager", m.Name, "farms", want.Farms, "underquota", want.TotalUnderquota, "overquota", want.TotalOverquota)
	return reconcile.Result{}, nil
}

// normalized treats empty and missing maps alike: the API server drops empty maps.
func normalized(s farmv1alpha1.FarmManagerStatus) farmv1alpha1.FarmManagerStatus {
	for _, m := range []*map[string]int32{&s.Overquota, &s.Underquota, &s.Pending, &s.Tobescaledown} {
		if len(*m) == 0 {
			*m = nil
		}
	}
	return s
}
