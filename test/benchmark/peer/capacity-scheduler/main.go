// Command capacity-scheduler is kube-scheduler with scheduler-plugins' CapacityScheduling, the
// elastic quota peer that Farm is measured against in docs/benchmarks.md.
//
// It is a module of its own because scheduler-plugins' newest release is built on Kubernetes
// 1.35.4 and does not compile against the 1.37 libraries Farm uses. Against the 1.37
// kube-apiserver of the benchmarks it is outside Kubernetes' version skew policy (kube-scheduler
// may be at most one minor version older than kube-apiserver); the benchmarks say so next to its
// figures.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // REST client metrics, as upstream's binary
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	"sigs.k8s.io/scheduler-plugins/pkg/capacityscheduling"

	// CapacityScheduling's arguments decode from a KubeSchedulerConfiguration.
	_ "sigs.k8s.io/scheduler-plugins/apis/config/scheme"
)

func main() {
	os.Exit(cli.Run(app.NewSchedulerCommand(app.WithPlugin(capacityscheduling.Name, capacityscheduling.New))))
}
