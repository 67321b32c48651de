package main

import (
	"fmt"

	"github.com/spf13/cobra"
	cliflag "k8s.io/component-base/cli/flag"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/term"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/toinfn/farm/pkg/buildinfo"
	"github.com/toinfn/farm/pkg/controller"
)

// name is the program's name in --version and --help.
const name = "farm-controller"

// newCommand is farm-controller's command, built as kube-scheduler's is (component-base flags and
// logging, run by cli.Run), so both components take the same logging flags.
func newCommand() *cobra.Command {
	opts, err := newOptions()
	if err != nil {
		// Only a programming error (a feature gate registered twice) gets here.
		panic(err)
	}
	return command(opts, run)
}

// command parses flags into opts and hands them to start; tests pass a start of their own.
func command(opts *options, start func(*options) error) *cobra.Command {
	cmd := &cobra.Command{
		Use: name,
		Long: `farm-controller keeps the status of Farms and FarmManagers true, deletes Failed executors
after a retention, and evicts the newest executors of a farm above a lowered maxExecutors.
Run two replicas with --leader-elect.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if done, err := buildinfo.PrintVersionIfRequested(cmd.OutOrStdout(), buildinfo.Line(name), cmd.Flags()); done || err != nil {
				return err
			}
			return start(opts)
		},
	}
	nfs := opts.flags(cmd.Name())
	fs := cmd.Flags()
	for _, f := range nfs.FlagSets {
		fs.AddFlagSet(f)
	}
	cols, _, _ := term.TerminalSize(cmd.OutOrStdout())
	cliflag.SetUsageAndHelpFunc(cmd, nfs, cols)
	return cmd
}

// run starts the manager and blocks until a signal stops it.
func run(opts *options) error {
	// Logging first, so that everything after is logged as configured.
	if err := logsapi.ValidateAndApply(opts.logs, opts.featureGate); err != nil {
		return err
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
	mgr, err := controller.NewManager(cfg, opts.manager)
	if err != nil {
		return err
	}
	m := opts.manager
	logger.Info("Starting farm-controller", "version", buildinfo.Version(), "leaderElection", m.LeaderElection, "metrics", m.MetricsBindAddress, "healthProbe", m.HealthProbeBindAddress)
	return mgr.Start(ctrl.SetupSignalHandler())
}
