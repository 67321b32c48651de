package farm

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// FieldManager owns the status fields farm-scheduler writes. The scheduler writes only
// status.scaledownTriggered, by server-side apply; farm-controller applies the other status
// fields with its own field manager, so neither overwrites the other.
const FieldManager = "farm-scheduler"

// runHysteresis, once per interval, forgets evictions done and claims of pods that landed, resets the trigger count of farms
// nobody needs executors from any more, and publishes every count change to the Farm's
// status.scaledownTriggered: status follows the hysteresis without a write per scheduling attempt.
// It runs only on the leader (startHysteresis).
func (p *Plugin) runHysteresis(ctx context.Context, client dynamic.Interface) {
	published := map[types.NamespacedName]int32{}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		p.evictions.prune()
		p.claims.prune()
		p.triggers.expire(func(key types.NamespacedName) bool {
			f, ok := p.farms.Get(key)
			return ok && f.State.Borrowing()
		})
		farms := p.farms.All()
		counts := p.triggers.counts()
		for _, f := range farms {
			key := quota.Key(f.Farm)
			want := counts[key]
			last, ok := published[key]
			if !ok {
				last = f.Farm.Status.ScaledownTriggered
			}
			if want == last {
				published[key] = last
				continue
			}
			if err := applyScaledownTriggered(ctx, client, f.Farm, want); err != nil {
				klog.FromContext(ctx).V(2).Info("Could not publish scaledownTriggered", "farm", key, "count", want, "err", err)
				continue
			}
			published[key] = want
		}
		for key := range published {
			if _, ok := p.farms.Get(key); !ok {
				delete(published, key)
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

// applyScaledownTriggered sets status.scaledownTriggered by server-side apply.
func applyScaledownTriggered(ctx context.Context, client dynamic.Interface, farm *farmv1alpha1.Farm, count int32) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": farmv1alpha1.GroupVersion.String(),
		"kind":       "Farm",
		"metadata":   map[string]any{"name": farm.Name, "namespace": farm.Namespace},
		"status":     map[string]any{"scaledownTriggered": int64(count)},
	}}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := client.Resource(farmsResource).Namespace(farm.Namespace).ApplyStatus(ctx, farm.Name, obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	return err
}
