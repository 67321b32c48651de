package controller

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Options configure the manager; cmd/farm-controller fills them from flags.
type Options struct {
	// MetricsBindAddress serves Prometheus metrics over HTTPS to callers the API server
	// authenticates and allows to get /metrics; "0" disables.
	MetricsBindAddress string
	// MetricsCertDir holds tls.crt and tls.key for the metrics endpoint; empty means a
	// self-signed certificate, as kube-scheduler's secure port has by default.
	MetricsCertDir string
	// HealthProbeBindAddress serves /healthz and /readyz; "0" disables.
	HealthProbeBindAddress string
	// LeaderElection makes only one replica act at a time.
	LeaderElection bool
	// LeaderElectionNamespace holds the lease; empty means the namespace the pod runs in.
	LeaderElectionNamespace string
	// LeaseDuration, RenewDeadline and RetryPeriod tune leader election.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// FailedExecutorRetention is how long a Failed executor is kept before it is deleted.
	FailedExecutorRetention time.Duration
	// ScaleDownTriggerInterval spaces the triggers a farm above its maxExecutors withstands
	// (scaledownAfterNTriggers) before it is scaled down.
	ScaleDownTriggerInterval time.Duration
}

// DefaultFailedExecutorRetention keeps a Failed executor long enough to read its logs and status,
// short enough that failures do not pile up (the original operator cleaned them at once).
const DefaultFailedExecutorRetention = time.Minute

// LeaderElectionID names the lease farm-controller replicas compete for.
const LeaderElectionID = "farm-controller.farmcontroller.toinfn.it"

// NewScheme returns a scheme with the built-in types and the Farm API.
func NewScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := farmv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return scheme, nil
}

// NewManager builds the farm-controller manager with its health checks.
func NewManager(cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	mgrOpts := ctrl.Options{
		Scheme: scheme,
		// As kube-scheduler serves its metrics: TLS, TokenReview and SubjectAccessReview. The
		// metrics name every tenant and farm, so they are not for anyone who reaches the port.
		Metrics: metricsserver.Options{
			BindAddress:    opts.MetricsBindAddress,
			SecureServing:  true,
			CertDir:        opts.MetricsCertDir,
			FilterProvider: filters.WithAuthenticationAndAuthorization,
		},
		HealthProbeBindAddress:  opts.HealthProbeBindAddress,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// The lease is released on a clean stop so a standby takes over at once.
		LeaderElectionReleaseOnCancel: true,
	}
	if opts.LeaseDuration > 0 {
		mgrOpts.LeaseDuration = &opts.LeaseDuration
	}
	if opts.RenewDeadline > 0 {
		mgrOpts.RenewDeadline = &opts.RenewDeadline
	}
	if opts.RetryPeriod > 0 {
		mgrOpts.RetryPeriod = &opts.RetryPeriod
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	ctx := context.Background()
	if err := addIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, fmt.Errorf("adding indexes: %w", err)
	}
	retention := opts.FailedExecutorRetention
	if retention <= 0 {
		retention = DefaultFailedExecutorRetention
	}
	interval := opts.ScaleDownTriggerInterval
	if interval <= 0 {
		interval = time.Second
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating clientset: %w", err)
	}
	farms := &FarmReconciler{
		Client:          mgr.GetClient(),
		FailedRetention: retention,
		Recorder:        mgr.GetEventRecorder("farm-controller"),
		ScaleDown:       &scaleDown{clientset: clientset, interval: interval, now: time.Now, triggers: map[types.NamespacedName]*scaleDownTrigger{}},
	}
	if err := farms.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the Farm controller: %w", err)
	}
	if err := (&FarmManagerReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the FarmManager controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding healthz check: %w", err)
	}
	// Ready once the cache has synced: before that, status written from it would be wrong.
	if err := mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return fmt.Errorf("informer caches not synced")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("adding readyz check: %w", err)
	}
	return mgr, nil
}
