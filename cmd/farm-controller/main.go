// Command farm-controller keeps Farm and FarmManager status true. It is a controller-runtime
// manager; run two replicas with --leader-elect for availability.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/toinfn/farm/pkg/buildinfo"
	"github.com/toinfn/farm/pkg/controller"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "farm-controller: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var opts controller.Options
	fs := flag.CommandLine
	// --kubeconfig is registered by controller-runtime's config package.
	fs.StringVar(&opts.MetricsBindAddress, "metrics-bind-address", ":8443", `Address the Prometheus metrics endpoint (HTTPS; callers need a token allowed to get /metrics) binds to; "0" disables it.`)
	fs.StringVar(&opts.MetricsCertDir, "metrics-cert-dir", "", "Directory with tls.crt and tls.key for the metrics endpoint; empty means a self-signed certificate.")
	fs.StringVar(&opts.HealthProbeBindAddress, "health-probe-bind-address", ":8081", `Address the /healthz and /readyz endpoints bind to; "0" disables them.`)
	fs.BoolVar(&opts.LeaderElection, "leader-elect", false, "Elect a leader so that only one replica acts at a time.")
	fs.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election lease; empty means the namespace the controller runs in.")
	fs.DurationVar(&opts.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "How long a standby waits before taking over a lease that was not renewed.")
	fs.DurationVar(&opts.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "How long the leader keeps retrying to renew before it gives up leadership.")
	fs.DurationVar(&opts.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "How often replicas try to acquire or renew the lease.")
	fs.DurationVar(&opts.FailedExecutorRetention, "failed-executor-retention", controller.DefaultFailedExecutorRetention, "How long a Failed executor is kept for inspection before it is deleted.")
	fs.DurationVar(&opts.ScaleDownTriggerInterval, "scale-down-trigger-interval", time.Second, "Spacing of the triggers a farm above its maxExecutors withstands (scaledownAfterNTriggers) before its newest executors are evicted.")
	klog.InitFlags(fs)
	flag.Parse()
	if args := flag.Args(); len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}

	if err := buildinfo.Register(ctrlmetrics.Registry); err != nil {
		return fmt.Errorf("registering the build info metric: %w", err)
	}
	logger := klog.Background()
	ctrl.SetLogger(logger)
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	mgr, err := controller.NewManager(cfg, opts)
	if err != nil {
		return err
	}
	logger.Info("Starting farm-controller", "leaderElection", opts.LeaderElection, "metrics", opts.MetricsBindAddress, "healthProbe", opts.HealthProbeBindAddress)
	return mgr.Start(ctrl.SetupSignalHandler())
}
