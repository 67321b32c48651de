package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/toinfn/farm/pkg/quota"
)

// farmLabels name a farm in every per-farm metric: its namespace and its name apart, so that
// queries select a tenant's namespace and join on (namespace, farm) with the scheduler's metrics.
var farmLabels = []string{"namespace", "farm"}

// Metrics served on the controller's /metrics endpoint (controller-runtime registry). No two
// series of one metric count the same executor, so any sum over their labels means something.
var (
	executorsByStage = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "farm_executors",
		Help: "Executors of a farm by state: pending (waiting for a node), starting (bound, not yet running), running, " +
			"reclaiming (evicted by reclaim, still terminating), terminating (on its way out otherwise), failed, succeeded. " +
			"Each executor is in one state: the sum over state is all of the farm's executors; starting plus running are " +
			"the assigned ones, which count against minExecutors.",
	}, []string{"namespace", "farm", "state"})
	minExecutors = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "farm_min_executors",
		Help: "A farm's minExecutors, the executors it is guaranteed.",
	}, farmLabels)
	maxExecutors = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "farm_max_executors",
		Help: "A farm's maxExecutors, 0 when it has no ceiling (so a sum is not the total ceiling when one is 0).",
	}, farmLabels)
	overquota = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "farm_overquota_executors",
		Help: "Assigned executors a farm holds beyond its minExecutors: what it borrows and a reclaim may take back.",
	}, farmLabels)
	underquota = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "farm_underquota_executors",
		Help: "Assigned executors a farm lacks to reach its minExecutors.",
	}, farmLabels)
	belowMinWaiting = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "farm_below_min_waiting_seconds_total",
		Help: "Time a farm spent below its minimum with executors waiting, accumulated between status observations.",
	}, farmLabels)
	scaleDownEvictions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "farm_scaledown_evictions_total",
		Help: "Executors evicted to enforce a lowered maxExecutors, by their farm.",
	}, farmLabels)
	failedCleaned = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "farm_failed_executors_deleted_total",
		Help: "Failed executors deleted after their retention, by their farm.",
	}, farmLabels)
)

func init() {
	metrics.Registry.MustRegister(executorsByStage, minExecutors, maxExecutors, overquota, underquota,
		belowMinWaiting, scaleDownEvictions, failedCleaned)
}

// observeMetrics publishes a farm's gauges.
func observeMetrics(o *observation) {
	ns, name := o.farm.Namespace, o.farm.Name
	for _, stage := range quota.Stages {
		executorsByStage.WithLabelValues(ns, name, string(stage)).Set(float64(o.stages[stage]))
	}
	st := o.state
	minExecutors.WithLabelValues(ns, name).Set(float64(st.Min))
	maxExecutors.WithLabelValues(ns, name).Set(float64(st.Max))
	overquota.WithLabelValues(ns, name).Set(float64(st.Overquota()))
	underquota.WithLabelValues(ns, name).Set(float64(st.Underquota()))
}

// forgetMetrics drops a deleted farm's gauges. Its counters stay, as counters do, so that the
// evictions and clean-ups of its last moments still show in a rate.
func forgetMetrics(key types.NamespacedName) {
	labels := prometheus.Labels{"namespace": key.Namespace, "farm": key.Name}
	executorsByStage.DeletePartialMatch(labels)
	for _, v := range []*prometheus.GaugeVec{minExecutors, maxExecutors, overquota, underquota} {
		v.Delete(labels)
	}
}
