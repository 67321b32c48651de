package buildinfo

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/version"
)

// farm_build_info is always 1; its labels name the build serving the metrics, so a dashboard can
// tell replicas of different versions apart during an upgrade (as kubernetes_build_info does
// for Kubernetes' own version, which farm-scheduler also exports).
const (
	metricName = "farm_build_info"
	metricHelp = "Always 1; the labels name the build of Farm serving these metrics: Farm's version, the commit and the Go version."
)

var metricLabels = []string{"git_version", "git_commit", "go_version"}

func labelValues() []string {
	info := version.Get()
	return []string{Version(), info.GitCommit, info.GoVersion}
}

var registerLegacy sync.Once

// RegisterLegacy adds farm_build_info to component-base's legacy registry, the one
// kube-scheduler serves on /metrics. Calling it again does nothing.
func RegisterLegacy() {
	registerLegacy.Do(func() {
		g := metrics.NewGaugeVec(&metrics.GaugeOpts{
			Name:           metricName,
			Help:           metricHelp,
			StabilityLevel: metrics.ALPHA,
		}, metricLabels)
		legacyregistry.MustRegister(g)
		// A component-base metric records values only once registered.
		g.WithLabelValues(labelValues()...).Set(1)
	})
}

// Register adds farm_build_info to a Prometheus registry, such as controller-runtime's.
func Register(r prometheus.Registerer) error {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricName, Help: metricHelp}, metricLabels)
	if err := r.Register(g); err != nil {
		return err
	}
	g.WithLabelValues(labelValues()...).Set(1)
	return nil
}
