package farm

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// farmLabels name a farm in every per-farm metric: its namespace and its name apart, as in
// farm-controller's metrics, so that queries select a namespace and join on (namespace, farm).
var farmLabels = []string{"namespace", "farm"}

// The plugin's metrics, served with kube-scheduler's on /metrics.
var (
	reclaimAttempts = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      "farm",
		Name:           "reclaim_attempts_total",
		Help:           "Times a pod of a farm below its minimum fit nowhere and the scheduler tried to reclaim borrowed executors for it, by the farm that guarantees the waiting pod (a driver's: the farm it starts).",
		StabilityLevel: metrics.ALPHA,
	}, farmLabels)
	evictionsTotal = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      "farm",
		Name:           "reclaim_evictions_total",
		Help:           "Borrowed executors evicted by reclaim, by the farm they belonged to (not the farm they were reclaimed for).",
		StabilityLevel: metrics.ALPHA,
	}, farmLabels)
	roomTakenTotal = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      "farm",
		Name:           "reclaim_room_taken_total",
		Help:           "Times room a reclaim made for a waiting pod was taken by another pod (another scheduler's, or one of higher priority) before the waiting pod landed, by the farm that guarantees the waiting pod.",
		StabilityLevel: metrics.ALPHA,
	}, farmLabels)
	guaranteedSchedulingSeconds = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Subsystem:      "farm",
		Name:           "guaranteed_pod_scheduling_duration_seconds",
		Help:           "Time from a guaranteed executor's creation (its farm below its minimum) to its binding, by farm.",
		Buckets:        metrics.ExponentialBuckets(0.1, 2, 14),
		StabilityLevel: metrics.ALPHA,
	}, farmLabels)
	farmThrashing = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem:      "farm",
		Name:           "thrashing",
		Help:           "1 while the farm's Thrashing condition is True: its borrowed executors were reclaimed in more separate reclaims within the window than the scheduler's thrashingReclaims; else 0.",
		StabilityLevel: metrics.ALPHA,
	}, farmLabels)

	registerMetrics sync.Once
)

func init() {
	registerMetrics.Do(func() {
		legacyregistry.MustRegister(reclaimAttempts, evictionsTotal, roomTakenTotal, guaranteedSchedulingSeconds, farmThrashing)
	})
}
