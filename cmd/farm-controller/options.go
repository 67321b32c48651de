package main

import (
	goflag "flag"
	"time"

	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/featuregate"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/version/verflag"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/toinfn/farm/pkg/controller"
)

// options are farm-controller's flags: the manager's settings, logging as every Kubernetes
// component configures it (--logging-format, -v, --vmodule), and the feature gates of logging.
type options struct {
	manager     controller.Options
	logs        *logsapi.LoggingConfiguration
	featureGate featuregate.MutableVersionedFeatureGate
}

func newOptions() (*options, error) {
	o := &options{
		manager: controller.Options{
			MetricsBindAddress:       ":8443",
			HealthProbeBindAddress:   ":8081",
			LeaseDuration:            15 * time.Second,
			RenewDeadline:            10 * time.Second,
			RetryPeriod:              2 * time.Second,
			FailedExecutorRetention:  controller.DefaultFailedExecutorRetention,
			ScaleDownTriggerInterval: time.Second,
		},
		logs:        logsapi.NewLoggingConfiguration(),
		featureGate: featuregate.NewFeatureGate(),
	}
	// The JSON format and split streams are behind logging's own feature gates, as in every
	// Kubernetes component.
	if err := logsapi.AddFeatureGates(o.featureGate); err != nil {
		return nil, err
	}
	return o, nil
}

// flags returns the flags by section, as kube-scheduler shows its own in --help.
func (o *options) flags(name string) cliflag.NamedFlagSets {
	var nfs cliflag.NamedFlagSets
	m := &o.manager

	fs := nfs.FlagSet("generic")
	// controller-runtime's --kubeconfig (registered on the standard flag set), which
	// ctrl.GetConfig reads; without it: $KUBECONFIG, the in-cluster config, ~/.kube/config.
	if f := goflag.CommandLine.Lookup(config.KubeconfigFlagName); f != nil {
		fs.AddGoFlag(f)
	}
	fs.DurationVar(&m.FailedExecutorRetention, "failed-executor-retention", m.FailedExecutorRetention, "How long a Failed executor is kept for inspection before it is deleted.")
	fs.DurationVar(&m.ScaleDownTriggerInterval, "scale-down-trigger-interval", m.ScaleDownTriggerInterval, "Spacing of the triggers a farm above its maxExecutors withstands (scaledownAfterNTriggers) before its newest executors are evicted.")

	fs = nfs.FlagSet("serving")
	fs.StringVar(&m.MetricsBindAddress, "metrics-bind-address", m.MetricsBindAddress, `Address the Prometheus metrics endpoint (HTTPS; callers need a token allowed to get /metrics) binds to; "0" disables it.`)
	fs.StringVar(&m.MetricsCertDir, "metrics-cert-dir", m.MetricsCertDir, "Directory with tls.crt and tls.key for the metrics endpoint; empty means a self-signed certificate.")
	fs.StringVar(&m.HealthProbeBindAddress, "health-probe-bind-address", m.HealthProbeBindAddress, `Address the /healthz and /readyz endpoints bind to; "0" disables them.`)

	fs = nfs.FlagSet("leader election")
	fs.BoolVar(&m.LeaderElection, "leader-elect", m.LeaderElection, "Elect a leader so that only one replica acts at a time.")
	fs.StringVar(&m.LeaderElectionNamespace, "leader-election-namespace", m.LeaderElectionNamespace, "Namespace of the leader election lease; empty means the namespace the controller runs in.")
	fs.DurationVar(&m.LeaseDuration, "leader-elect-lease-duration", m.LeaseDuration, "How long a standby waits before taking over a lease that was not renewed.")
	fs.DurationVar(&m.RenewDeadline, "leader-elect-renew-deadline", m.RenewDeadline, "How long the leader keeps retrying to renew before it gives up leadership.")
	fs.DurationVar(&m.RetryPeriod, "leader-elect-retry-period", m.RetryPeriod, "How often replicas try to acquire or renew the lease.")

	o.featureGate.AddFlag(nfs.FlagSet("feature gate"))
	logsapi.AddFlags(o.logs, nfs.FlagSet("logs"))

	global := nfs.FlagSet("global")
	verflag.AddFlags(global)
	globalflag.AddGlobalFlags(global, name, logs.SkipLoggingConfigurationFlags())
	return nfs
}
