package main

import (
	"github.com/spf13/cobra"
	"k8s.io/component-base/version"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/toinfn/farm/pkg/buildinfo"
	"github.com/toinfn/farm/pkg/scheduler"
)

// name is the program's name in --version and --help.
const name = "farm-scheduler"

// newCommand is kube-scheduler's command with Farm's plugins, under Farm's name. --version
// prints Farm's version and the Kubernetes release the scheduler is built from (component-base's
// version, which kube-scheduler's own --version would print as Farm's).
func newCommand() *cobra.Command {
	cmd := app.NewSchedulerCommand(scheduler.PluginOptions()...)
	cmd.Use = name
	cmd.Long = `farm-scheduler is kube-scheduler with the Farm plugin: a second scheduler for the pods
that ask for it (spec.schedulerName: farm-scheduler), which guarantees each Farm its minimum of
executors and takes borrowed ones back for it. What follows is kube-scheduler's own description.

` + cmd.Long
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if done, err := buildinfo.PrintVersionIfRequested(cmd.OutOrStdout(), versionLine(), cmd.Flags()); done || err != nil {
			return err
		}
		return run(cmd, args)
	}
	return cmd
}

func versionLine() string {
	return buildinfo.Line(name) + " (Kubernetes " + version.Get().GitVersion + ")"
}
