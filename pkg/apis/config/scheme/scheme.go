// Package scheme registers the Farm plugin's arguments in kube-scheduler's configuration scheme.
// Import it (for its side effect) wherever a KubeSchedulerConfiguration with FarmArgs is loaded.
package scheme

import (
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	schedscheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"

	"github.com/toinfn/farm/pkg/apis/config"
	configv1 "github.com/toinfn/farm/pkg/apis/config/v1"
)

// kube-scheduler's scheme is built in its package's init, which may run before ours extended the
// builders it was built from; registering again here covers that order.
func init() {
	utilruntime.Must(config.AddToScheme(schedscheme.Scheme))
	utilruntime.Must(configv1.AddToScheme(schedscheme.Scheme))
}
