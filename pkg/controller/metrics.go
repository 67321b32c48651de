package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics served on the controller's /metrics endpoint (controller-runtime registry).
var (
	executorsByState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "farm_executors",
		Help: "Executors of a farm by state (all, assigned, running, pending, error, reclaiming).",
	}, []string{"farm", "state"})
	farmLimits = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "farm_limit_executors",
		Help: "A farm's minExecutors (limit=min) and maxExecutors (limit=max, 0 = none).",
	}, []string{"farm", "limit"})
	farmQuota = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "farm_quota_executors",
		Help: "Executors a farm holds beyond its minimum (quota=over) or lacks below it (quota=under).",
	}, []string{"farm", "quota"})
	belowMinWaiting = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "farm_below_min_waiting_seconds_total",
		Help: "Time a farm spent below its minimum with executors waiting, accumulated between status observations.",
	}, []string{"farm"})
	scaleDownEvictions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "farm_scaledown_evictions_total",
		Help: "Executors evicted to enforce a lowered maxExecutors, by farm.",
	}, []string{"farm"})
	failedCleaned = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "farm_failed_executors_deleted_total",
		Help: "Failed executors deleted after their retention, by farm.",
	}, []string{"farm"})
)

func init() {
	metrics.Registry.MustRegister(executorsByState, farmLimits, farmQuota, belowMinWaiting, scaleDownEvictions, failedCleaned)
}

// observeMetrics publishes a farm's gauges.
func observeMetrics(o *observation) {
	key := o.farm.Namespace + "/" + o.farm.Name
	st := o.state
	for state, v := range map[string]int32{
		"all": st.All, "assigned": st.Assigned, "running": st.Running, "pending": st.Pending,
		"error": st.Error, "reclaiming": o.reclaiming,
	} {
		executorsByState.WithLabelValues(key, state).Set(float64(v))
	}
	farmLimits.WithLabelValues(key, "min").Set(float64(st.Min))
	farmLimits.WithLabelValues(key, "max").Set(float64(st.Max))
	farmQuota.WithLabelValues(key, "over").Set(float64(st.Overquota()))
	farmQuota.WithLabelValues(key, "under").Set(float64(st.Underquota()))
}

// forgetMetrics drops a deleted farm's series.
func forgetMetrics(namespace, name string) {
	key := namespace + "/" + name
	for _, v := range []*prometheus.GaugeVec{executorsByState, farmLimits, farmQuota} {
		v.DeletePartialMatch(prometheus.Labels{"farm": key})
	}
}
