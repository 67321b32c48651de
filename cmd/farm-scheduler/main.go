// Command farm-scheduler is kube-scheduler with the Farm plugin registered. It runs as a second
// scheduler: pods opt in with spec.schedulerName: farm-scheduler.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/toinfn/farm/pkg/scheduler"
)

func main() {
	command := app.NewSchedulerCommand(scheduler.PluginOptions()...)
	os.Exit(cli.Run(command))
}
