package farm

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// FieldManager owns the status fields farm-scheduler writes: scaledownTriggered,
// lastReclaimedFrom, lastReclaimedFor and the Thrashing condition, by server-side apply, all in each apply (a field its
// manager leaves out of an apply is removed). farm-controller applies the other status fields
// with its own field manager, so neither overwrites the other.
const FieldManager = "farm-scheduler"

// schedulerStatus is the part of a Farm's status farm-scheduler owns.
type schedulerStatus struct {
	triggered        int32
	from, reclaimFor *farmv1alpha1.ReclaimRecord
	// thrashing is the Thrashing condition; nil while thrashing detection is off.
	thrashing *metav1.Condition
}

func schedulerStatusOf(f *farmv1alpha1.Farm) schedulerStatus {
	return schedulerStatus{triggered: f.Status.ScaledownTriggered, from: f.Status.LastReclaimedFrom, reclaimFor: f.Status.LastReclaimedFor,
		thrashing: apimeta.FindStatusCondition(f.Status.Conditions, farmv1alpha1.FarmThrashing)}
}

func (s schedulerStatus) equal(o schedulerStatus) bool {
	return s.triggered == o.triggered && equality.Semantic.DeepEqual(s.from, o.from) && equality.Semantic.DeepEqual(s.reclaimFor, o.reclaimFor) &&
		equality.Semantic.DeepEqual(s.thrashing, o.thrashing)
}

// runHysteresis, once per interval, forgets evictions done and claims of pods that landed, resets
// the trigger count of farms nobody needs executors from any more, tells the interval's reclaims
// on the Farms (events and status records), and publishes every change of what farm-scheduler
// owns in a Farm's status: status follows the hysteresis without a write per scheduling attempt.
// It runs only on the leader (startHysteresis).
func (p *Plugin) runHysteresis(ctx context.Context, client dynamic.Interface) {
	logger := klog.FromContext(ctx)
	// desired is what each Farm's status should say, published what it was last written as;
	// both start from what the API shows, as a new leader must.
	desired := map[types.NamespacedName]schedulerStatus{}
	published := map[types.NamespacedName]schedulerStatus{}
	thrash := p.thrash
	if thrash != nil {
		thrash.lead(time.Now())
	}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		p.evictions.prune()
		p.claims.prune()
		p.triggers.expire(func(key types.NamespacedName) bool {
			f, ok := p.farms.Get(key)
			return ok && f.State.Borrowing()
		})
		now := metav1.Now()
		from, reclaimFor := reclaimRecords(p.reports.flush(), now)
		for key, r := range from {
			p.farmEvent(key, corev1.EventTypeNormal, EventExecutorsReclaimed, "Reclaimed "+r.Summary)
			if thrash != nil {
				thrash.reclaimed(key, now.Time)
			}
		}
		for key, r := range reclaimFor {
			p.farmEvent(key, corev1.EventTypeNormal, EventReclaimedForGuarantee, "Reclaimed "+r.Summary)
		}
		counts := p.triggers.counts()
		live := map[types.NamespacedName]bool{}
		for _, f := range p.farms.All() {
			key := quota.Key(f.Farm)
			live[key] = true
			want, ok := desired[key]
			if !ok {
				want = schedulerStatusOf(f.Farm)
				published[key] = want
			}
			want.triggered = counts[key]
			if r := from[key]; r != nil {
				want.from = r
			}
			if r := reclaimFor[key]; r != nil {
				want.reclaimFor = r
			}
			// Off: a condition an earlier configuration set is no longer published.
			prev := want.thrashing
			want.thrashing = nil
			if thrash != nil {
				want.thrashing = thrash.condition(key, now.Time, prev)
				want.thrashing.ObservedGeneration = f.Farm.Generation
				if want.thrashing.Status == metav1.ConditionTrue {
					farmThrashing.WithLabelValues(key.Namespace, key.Name).Set(1)
				} else {
					farmThrashing.WithLabelValues(key.Namespace, key.Name).Set(0)
				}
			}
			desired[key] = want
			if want.equal(published[key]) {
				continue
			}
			if err := applySchedulerStatus(ctx, client, f.Farm, want); err != nil {
				logger.V(2).Info("Could not publish the Farm's reclaim status", "farm", key, "scaledownTriggered", want.triggered, "err", err)
				continue
			}
			published[key] = want
		}
		for key := range desired {
			if !live[key] {
				delete(desired, key)
				delete(published, key)
				farmThrashing.DeleteLabelValues(key.Namespace, key.Name)
				if thrash != nil {
					thrash.forget(key)
				}
			}
		}
	}, p.args.TriggerInterval.Duration)
}

// restoreTriggers takes up the counts the Farms' status shows, as a new leader must before its
// first reclaim: what the API shows, not an empty memory.
func (p *Plugin) restoreTriggers() {
	counts := map[types.NamespacedName]int32{}
	for _, f := range p.farms.All() {
		counts[quota.Key(f.Farm)] = f.Farm.Status.ScaledownTriggered
	}
	p.triggers.restore(counts)
}

// applySchedulerStatus sets what farm-scheduler owns in the Farm's status, by server-side apply.
func applySchedulerStatus(ctx context.Context, client dynamic.Interface, farm *farmv1alpha1.Farm, st schedulerStatus) error {
	status := map[string]any{"scaledownTriggered": int64(st.triggered)}
	for field, r := range map[string]*farmv1alpha1.ReclaimRecord{"lastReclaimedFrom": st.from, "lastReclaimedFor": st.reclaimFor} {
		if r == nil {
			continue
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r)
		if err != nil {
			return err
		}
		status[field] = u
	}
	if st.thrashing != nil {
		c, err := runtime.DefaultUnstructuredConverter.ToUnstructured(st.thrashing)
		if err != nil {
			return err
		}
		status["conditions"] = []any{c}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": farmv1alpha1.GroupVersion.String(),
		"kind":       "Farm",
		"metadata":   map[string]any{"name": farm.Name, "namespace": farm.Namespace},
		"status":     status,
	}}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := client.Resource(farmsResource).Namespace(farm.Namespace).ApplyStatus(ctx, farm.Name, obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	return err
}
