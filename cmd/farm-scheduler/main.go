// Command farm-scheduler is kube-scheduler with the Farm plugin registered. It runs as a second
// scheduler: pods opt in with spec.schedulerName: farm-scheduler.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"

	"github.com/toinfn/farm/pkg/buildinfo"
)

func main() {
	buildinfo.RegisterLegacy()
	os.Exit(cli.Run(newCommand()))
}
