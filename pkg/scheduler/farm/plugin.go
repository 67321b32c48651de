package farm

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/toinfn/farm/pkg/apis/config"
	_ "github.com/toinfn/farm/pkg/apis/config/scheme" // FarmArgs decode from a KubeSchedulerConfiguration
	configv1 "github.com/toinfn/farm/pkg/apis/config/v1"
	"github.com/toinfn/farm/pkg/apis/config/validation"
	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Name is the plugin's name in a KubeSchedulerConfiguration.
const Name = "Farm"

// stateKey keys the plugin's per-cycle data in CycleState.
const stateKey fwk.StateKey = Name

var _ fwk.PreFilterPlugin = &Plugin{}

// Plugin applies Farm's rules to pods at the framework's extension points.
type Plugin struct {
	args  config.FarmArgs
	farms farmLister
}

// New builds the plugin from its arguments (FarmArgs, or nil for the defaults) and waits until it
// has seen every Farm, so the first scheduling cycle already knows which pods are executors.
func New(ctx context.Context, obj runtime.Object, handle fwk.Handle) (fwk.Plugin, error) {
	args, err := argsFrom(obj)
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(handle.KubeConfig())
	if err != nil {
		return nil, fmt.Errorf("building a client for Farms: %w", err)
	}
	informer := newFarmInformer(client)
	if err := startAndSync(ctx, informer); err != nil {
		return nil, err
	}
	return &Plugin{args: *args, farms: farmLister{indexer: informer.GetIndexer()}}, nil
}

// argsFrom checks the decoded arguments; a profile without pluginConfig for Farm gets the
// defaults.
func argsFrom(obj runtime.Object) (*config.FarmArgs, error) {
	if obj == nil {
		v1args := &configv1.FarmArgs{}
		configv1.SetDefaults_FarmArgs(v1args)
		args := &config.FarmArgs{}
		if err := configv1.Convert_v1_FarmArgs_To_config_FarmArgs(v1args, args, nil); err != nil {
			return nil, err
		}
		return args, nil
	}
	args, ok := obj.(*config.FarmArgs)
	if !ok {
		return nil, fmt.Errorf("want args to be of type FarmArgs, got %T", obj)
	}
	if err := validation.ValidateFarmArgs(nil, args); err != nil {
		return nil, fmt.Errorf("invalid FarmArgs: %w", err)
	}
	return args, nil
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return Name }

// cycleState is what PreFilter learns about the pod, for the later extension points of the same
// cycle.
type cycleState struct {
	// farm owns the pod; nil when the pod belongs to no Farm and is scheduled as the default
	// scheduler would.
	farm *farmv1alpha1.Farm
}

// Clone shares the Farm: it is read-only during a cycle.
func (s *cycleState) Clone() fwk.StateData { c := *s; return &c }

// PreFilter looks the pod's Farm up once per cycle.
func (p *Plugin) PreFilter(ctx context.Context, state fwk.CycleState, pod *corev1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	farm := p.farms.ownerOf(pod)
	state.Write(stateKey, &cycleState{farm: farm})
	if farm != nil {
		klog.FromContext(ctx).V(5).Info("Pod is a farm executor", "pod", klog.KObj(pod), "farm", klog.KObj(farm))
	}
	return nil, nil
}

// PreFilterExtensions returns nil: nothing PreFilter stores depends on other pods yet.
func (p *Plugin) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// farmOf returns the Farm PreFilter found for the pod of this cycle.
func farmOf(state fwk.CycleState) (*farmv1alpha1.Farm, error) {
	d, err := state.Read(stateKey)
	if err != nil {
		return nil, fmt.Errorf("reading %q from cycle state: %w", stateKey, err)
	}
	s, ok := d.(*cycleState)
	if !ok {
		return nil, fmt.Errorf("%+v cannot be converted to *farm.cycleState", d)
	}
	return s.farm, nil
}
