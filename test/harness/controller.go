package harness

import (
	"context"
	"fmt"

	"github.com/toinfn/farm/pkg/controller"
)

// StartControllerBinary runs the built farm-controller against this control plane, without
// its serving endpoints unless extraArgs set them.
func (cp *ControlPlane) StartControllerBinary(tb TB, extraArgs ...string) *ChildProcess {
	tb.Helper()
	args := append([]string{
		"--kubeconfig=" + cp.Kubeconfig,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=0",
		"-v=2",
	}, extraArgs...)
	return StartProcess(tb, Binary(tb, "farm-controller"), args...)
}

// StartController runs farm-controller's manager in this process until ctx ends. The returned
// channel receives the manager's error if it stops before ctx ends.
func (cp *ControlPlane) StartController(ctx context.Context, opts controller.Options) (<-chan error, error) {
	if opts.MetricsBindAddress == "" {
		opts.MetricsBindAddress = "0"
	}
	if opts.HealthProbeBindAddress == "" {
		opts.HealthProbeBindAddress = "0"
	}
	mgr, err := controller.NewManager(cp.Config, opts)
	if err != nil {
		return nil, err
	}
	errs := make(chan error, 1)
	go func() {
		if err := mgr.Start(ctx); err != nil && ctx.Err() == nil {
			errs <- fmt.Errorf("farm-controller stopped: %w", err)
		}
		close(errs)
	}()
	return errs, nil
}
