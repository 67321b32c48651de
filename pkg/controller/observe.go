package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// observation is what the controller sees of one Farm: its counts and its executors.
type observation struct {
	farm  *farmv1alpha1.Farm
	state quota.State
	// owned are the executors the Farm owns.
	owned []*corev1.Pod
	// conflictWith is the older Farm that owns pods this one selects, if any.
	conflictWith string
	// reclaiming counts executors being reclaimed; lastReclaim is the latest reclaim mark.
	reclaiming  int32
	lastReclaim *metav1.Time
	// stages counts the owned executors by stage, each once, for the metrics.
	stages map[quota.Stage]int32
}

// observe counts a Farm's executors with the shared rules: ownership among the Farms of its
// namespace, then quota's counts. It costs O(pods the Farm selects).
func observe(ctx context.Context, c client.Reader, farm *farmv1alpha1.Farm) (*observation, error) {
	farms, err := farmsIn(ctx, c, farm.Namespace)
	if err != nil {
		return nil, err
	}
	pods, err := selectedPods(ctx, c, farm)
	if err != nil {
		return nil, err
	}
	key := quota.Key(farm)
	// The Farm from the list, so that Owner compares like with like.
	for _, f := range farms {
		if quota.Key(f) == key {
			farm = f
		}
	}
	snap := quota.NewSnapshot(farms, pods, quota.SchedulerName)
	st, _ := snap.State(key)
	o := &observation{farm: farm, state: st, stages: map[quota.Stage]int32{}}
	if owner, ok := snap.ConflictsWith(key); ok {
		o.conflictWith = owner.String()
	}
	for _, p := range pods {
		if owner := quota.Owner(farms, p); owner == nil || quota.Key(owner) != key {
			continue
		}
		o.owned = append(o.owned, p)
		o.stages[quota.StageOf(p)]++
		if quota.IsBeingReclaimed(p) {
			o.reclaiming++
		}
		if c := quota.EvictionCondition(p); c != nil && c.Reason == quota.ReasonReclaimed && (o.lastReclaim == nil || o.lastReclaim.Before(&c.LastTransitionTime)) {
			t := c.LastTransitionTime
			o.lastReclaim = &t
		}
	}
	return o, nil
}
