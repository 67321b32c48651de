package farm

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/dynamic"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"

	"github.com/toinfn/farm/pkg/apis/config"
	_ "github.com/toinfn/farm/pkg/apis/config/scheme" // FarmArgs decode from a KubeSchedulerConfiguration
	configv1 "github.com/toinfn/farm/pkg/apis/config/v1"
	"github.com/toinfn/farm/pkg/apis/config/validation"
	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// Name is the plugin's name in a KubeSchedulerConfiguration.
const Name = "Farm"

// SchedulerName is the scheduler name farm executors opt in with.
const SchedulerName = quota.SchedulerName

// stateKey keys the plugin's per-cycle data in CycleState.
const stateKey fwk.StateKey = Name

var (
	_ fwk.QueueSortPlugin   = &Plugin{}
	_ fwk.PreFilterPlugin   = &Plugin{}
	_ fwk.PostFilterPlugin  = &Plugin{}
	_ fwk.PreScorePlugin    = &Plugin{}
	_ fwk.ScorePlugin       = &Plugin{}
	_ fwk.SignPlugin        = &Plugin{}
	_ fwk.ReservePlugin     = &Plugin{}
	_ fwk.PostBindPlugin    = &Plugin{}
	_ fwk.EnqueueExtensions = &Plugin{}
	_ preemption.Interface  = &Plugin{}
)

// Plugin applies Farm's rules to pods at the framework's extension points.
type Plugin struct {
	args   config.FarmArgs
	handle fwk.Handle
	farms  *farmcache.Cache

	// evaluator is upstream's preemption evaluator, run with the plugin as its Interface and an
	// executor whose last step evicts instead of deleting.
	evaluator *preemption.Evaluator
	// pdbs lists the PodDisruptionBudgets a reclaim plan must respect.
	pdbs policylisters.PodDisruptionBudgetLister
	// pods lists the pods the scheduler's informer holds: drivers, which the farm cache does not
	// count, are found there.
	pods      corelisters.PodLister
	triggers  *triggers
	evictions *evictions
	claims    *claims
	reports   *reclaimReports
	// thrash watches for farms that borrow and lose their executors over and over; nil when
	// the Thrashing condition is off.
	thrash *thrashWatch
	// startHysteresis takes up the published trigger counts and starts their publisher, once,
	// from the first scheduling cycle: only the leader schedules, so a standby replica (the
	// chart runs two) never writes, and a new leader continues the hysteresis where it was.
	startHysteresis func()
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
	pods := handle.SharedInformerFactory().Core().V1().Pods()
	farmCache := farmcache.New(SchedulerName, pods.Lister())
	p := &Plugin{
		args:      *args,
		handle:    handle,
		farms:     farmCache,
		pdbs:      handle.SharedInformerFactory().Policy().V1().PodDisruptionBudgets().Lister(),
		triggers:  newTriggers(args.TriggerInterval.Duration),
		evictions: newEvictions(farmCache, args.TriggerInterval.Duration),
		pods:      pods.Lister(),
		reports:   newReclaimReports(),
	}
	p.claims = newClaims(p.podWaiting)
	if args.ThrashingReclaims > 0 {
		p.thrash = newThrashWatch(args.TriggerInterval.Duration, args.ThrashingWindow.Duration, args.ThrashingReclaims)
	}
	executor := preemption.NewExecutor(handle, feature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate))
	executor.PreemptPod = p.evictVictim
	p.evaluator = preemption.NewEvaluator(Name, handle, p, executor)

	// Pods are counted from the scheduler's own pod informer, which the scheduler starts.
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.farms.AddPod(obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj any) { p.farms.AddPod(obj.(*corev1.Pod)) },
		DeleteFunc: func(obj any) {
			if pod, ok := objectOf[*corev1.Pod](obj); ok {
				p.farms.DeletePod(pod)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("watching pods: %w", err)
	}

	farms := newFarmInformer(client)
	if _, err := farms.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.farms.AddFarm(obj.(*farmv1alpha1.Farm)) },
		UpdateFunc: func(_, obj any) { p.farms.AddFarm(obj.(*farmv1alpha1.Farm)) },
		DeleteFunc: func(obj any) {
			if f, ok := objectOf[*farmv1alpha1.Farm](obj); ok {
				p.farms.DeleteFarm(f)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("watching Farms: %w", err)
	}
	if err := startAndSync(ctx, farms); err != nil {
		return nil, err
	}
	p.startHysteresis = sync.OnceFunc(func() {
		// Before this cycle's PostFilter can fire a trigger.
		p.restoreTriggers()
		go p.runHysteresis(ctx, client)
	})
	return p, nil
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

// objectOf returns the object of an informer notification, unwrapping the last known state of
// one deleted while the watch was down; ok is false for any other type.
func objectOf[T any](obj any) (T, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	t, ok := obj.(T)
	return t, ok
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return Name }

// Less orders the scheduling queue: executors of a farm below its minimum (guaranteed pods)
// before all others, then higher priority, then first come, first served.
//
// Whether a farm is below its minimum changes as pods come and go, so the order is re-evaluated
// each time the queue compares two pods rather than fixed at enqueue time; a pod whose farm
// changed state meanwhile is at worst popped a little early or late, never lost.
func (p *Plugin) Less(a, b fwk.QueuedEntityInfo) bool {
	ga, gb := p.guaranteed(a), p.guaranteed(b)
	if ga != gb {
		return ga
	}
	pa, pb := a.GetPriority(), b.GetPriority()
	if pa != pb {
		return pa > pb
	}
	return a.GetTimestamp().Before(b.GetTimestamp())
}

// guaranteed reports whether a queued entity is a pod of a farm below its minimum.
func (p *Plugin) guaranteed(e fwk.QueuedEntityInfo) bool {
	withPod, ok := e.(interface{ GetPodInfo() fwk.PodInfo })
	if !ok || e.Type() != fwk.PodKeyType {
		return false
	}
	f, ok := p.farms.OwnerOf(withPod.GetPodInfo().GetPod())
	return ok && f.State.BelowMin()
}

// cycleState is what PreFilter learns about the pod, for the later extension points of the same
// cycle.
type cycleState struct {
	// farm owns the pod; nil when the pod belongs to no Farm and is scheduled as the default
	// scheduler would.
	farm *farmv1alpha1.Farm
	// state is the farm's usage when the cycle started.
	state quota.State
}

// Clone shares the Farm: it is read-only during a cycle.
func (s *cycleState) Clone() fwk.StateData { c := *s; return &c }

// PreFilter looks the pod's Farm up once per cycle and refuses a pod that would take its farm
// past maxExecutors, or borrow while its farm cools down from a reclaim (BorrowCooldown).
func (p *Plugin) PreFilter(ctx context.Context, state fwk.CycleState, pod *corev1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	if p.startHysteresis != nil {
		p.startHysteresis()
	}
	f, ok := p.farms.OwnerOf(pod)
	if !ok {
		state.Write(stateKey, &cycleState{})
		return nil, nil
	}
	state.Write(stateKey, &cycleState{farm: f.Farm, state: f.State})
	if !f.State.BelowMin() {
		if wait := p.coolingDown(quota.Key(f.Farm), f.Farm.Status.LastReclaimedFrom, time.Now()); wait > 0 {
			p.retryAfter(klog.FromContext(ctx), pod, wait)
			return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable,
				fmt.Sprintf("farm %s/%s lost borrowed executors to a reclaim: it borrows again in %s (the scheduler's borrowCooldown, %s)", f.Farm.Namespace, f.Farm.Name, wait.Round(time.Second), p.args.BorrowCooldown.Duration))
		}
	}
	if f.State.Headroom() == 0 {
		klog.FromContext(ctx).V(4).Info("Farm at its ceiling", "pod", klog.KObj(pod), "farm", klog.KObj(f.Farm), "maxExecutors", f.State.Max)
		// Preemption cannot help: a farm at its ceiling is at or above its minimum, and such a
		// farm never reclaims.
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable,
			fmt.Sprintf("farm %s/%s is at its maxExecutors (%d)", f.Farm.Namespace, f.Farm.Name, f.State.Max))
	}
	return nil, nil
}

// PreFilterExtensions returns nil: the ceiling is decided once per cycle in PreFilter, and no
// node-level check depends on which other pods a preemption dry run removes.
func (p *Plugin) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Reserve counts the pod as assigned from now on, so the next cycles see its farm's usage before
// the binding lands and concurrent bindings never overshoot maxExecutors.
func (p *Plugin) Reserve(_ context.Context, _ fwk.CycleState, pod *corev1.Pod, nodeName string) *fwk.Status {
	p.farms.Assume(pod, nodeName)
	return nil
}

// Unreserve undoes Reserve when the pod is not bound after all.
func (p *Plugin) Unreserve(_ context.Context, _ fwk.CycleState, pod *corev1.Pod, _ string) {
	p.farms.Forget(pod)
}

// cycleStateOf returns what PreFilter stored for the pod of this cycle.
func cycleStateOf(state fwk.CycleState) (*cycleState, error) {
	d, err := state.Read(stateKey)
	if err != nil {
		return nil, fmt.Errorf("reading %q from cycle state: %w", stateKey, err)
	}
	s, ok := d.(*cycleState)
	if !ok {
		return nil, fmt.Errorf("%+v cannot be converted to *farm.cycleState", d)
	}
	return s, nil
}

// PostBind records how long a guaranteed executor waited, from creation to binding.
func (p *Plugin) PostBind(_ context.Context, state fwk.CycleState, pod *corev1.Pod, _ string) {
	s, err := cycleStateOf(state)
	if err != nil || s.farm == nil {
		return
	}
	if !s.state.BelowMin() {
		if p.thrash != nil {
			p.thrash.borrowedAgain(quota.Key(s.farm))
		}
		return
	}
	guaranteedSchedulingSeconds.WithLabelValues(s.farm.Namespace, s.farm.Name).Observe(time.Since(pod.CreationTimestamp.Time).Seconds())
}

// retryOnCadence moves a guaranteed pod the plugin could not help yet back to the active queue
// after one trigger interval: what it waits for (a victim farm's hysteresis, executors still
// leaving) changes with time, not with a cluster event that would requeue it.
func (p *Plugin) retryOnCadence(logger klog.Logger, pod *corev1.Pod) {
	time.AfterFunc(p.args.TriggerInterval.Duration, func() {
		p.handle.Activate(logger, map[string]*corev1.Pod{pod.Namespace + "/" + pod.Name: pod})
	})
}

// event records a Normal event on the waiting pod.
func (p *Plugin) event(pod *corev1.Pod, reason, msg string) {
	p.handle.EventRecorder().Eventf(pod, nil, corev1.EventTypeNormal, reason, "Scheduling", msg)
}

// podInfo wraps a pod for framework helpers; a pod that cannot be parsed is wrapped bare.
func podInfo(pod *corev1.Pod) fwk.PodInfo {
	pi, err := framework.NewPodInfo(pod)
	if err != nil {
		return &framework.PodInfo{Pod: pod}
	}
	return pi
}
