package scheduler

import (
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler/farm"
)

// Name is the scheduler name pods opt in with (spec.schedulerName) and the profile's name in the
// shipped configuration.
const Name = quota.SchedulerName

// PluginOptions registers Farm's plugins in kube-scheduler's out-of-tree registry.
func PluginOptions() []app.Option {
	return []app.Option{app.WithPlugin(farm.Name, farm.New)}
}
