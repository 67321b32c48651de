package workload

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler/farm"
)

// Observer watches the tenants' executors and farm-scheduler's reclaim events, and records what
// each tenant lives through. It counts nothing itself: executors' states come from package quota.
type Observer struct {
	ft       quota.Type
	selector labels.Selector
	now      func() time.Time

	mu      sync.Mutex
	tenants map[string]*record // by namespace
	listers map[string]corelisters.PodLister
	usage   utilization
}

// record is what one tenant lived through.
type record struct {
	min        int32
	reachedMin time.Time
	// suffered are the tenant's executors seen being reclaimed; caused are the executors
	// reclaimed for the tenant's waiting executors. Both are sets, as an executor is seen many
	// times while it terminates.
	suffered sets.Set[types.UID]
	caused   sets.Set[types.UID]
}

// utilization accumulates samples of the executor slots in use.
type utilization struct {
	samples int
	sum     int64
	peak    int32
}

// NewObserver returns an observer of tenants, whose executors are of farm type ft.
func NewObserver(ft quota.Type, tenants []Tenant) *Observer {
	o := &Observer{
		ft:       ft,
		selector: labels.SelectorFromSet(labels.Set{ft.LabelKey: ft.LabelValue}),
		now:      time.Now,
		tenants:  map[string]*record{},
		listers:  map[string]corelisters.PodLister{},
	}
	for _, t := range tenants {
		o.tenants[t.Name] = &record{min: t.Min, suffered: sets.New[types.UID](), caused: sets.New[types.UID]()}
	}
	return o
}

// Start watches each tenant's namespace, its executors and its events, until ctx ends; it
// returns once the first lists are in. Watching namespace by namespace keeps the observer to
// what it needs on a shared cluster.
func (o *Observer) Start(ctx context.Context, client kubernetes.Interface) error {
	var synced []cache.InformerSynced
	for ns := range o.tenants {
		executors := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(opts *metav1.ListOptions) { opts.LabelSelector = o.selector.String() }))
		pods := executors.Core().V1().Pods()
		o.mu.Lock()
		o.listers[ns] = pods.Lister()
		o.mu.Unlock()
		onPod := func(obj any) {
			if pod, ok := podOf(obj); ok {
				o.podChanged(pod)
			}
		}
		if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    onPod,
			UpdateFunc: func(_, obj any) { onPod(obj) },
			DeleteFunc: onPod,
		}); err != nil {
			return err
		}

		all := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
		events := all.Events().V1().Events().Informer()
		if _, err := events.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    o.eventSeen,
			UpdateFunc: func(_, obj any) { o.eventSeen(obj) },
		}); err != nil {
			return err
		}
		synced = append(synced, pods.Informer().HasSynced, events.HasSynced)
		executors.Start(ctx.Done())
		all.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("watching the tenants' executors: %w", context.Cause(ctx))
	}
	return nil
}

// podChanged records what an executor's latest state tells: that it is being reclaimed, and
// whether its tenant now runs its minimum.
func (o *Observer) podChanged(pod *corev1.Pod) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.tenants[pod.Namespace]
	if r == nil {
		return
	}
	if quota.IsBeingReclaimed(pod) {
		r.suffered.Insert(pod.UID)
	}
	if r.reachedMin.IsZero() && r.min > 0 && o.usageOf(pod.Namespace).Running >= r.min {
		r.reachedMin = o.now()
	}
}

// eventSeen records a reclaim event: the executor it regards was reclaimed for its related pod.
func (o *Observer) eventSeen(obj any) {
	ev, ok := obj.(*eventsv1.Event)
	if !ok || ev.Reason != farm.EventReclaimed || ev.Regarding.Kind != "Pod" || ev.Related == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.tenants[ev.Related.Namespace]; r != nil {
		r.caused.Insert(ev.Regarding.UID)
	}
}

// usageOf counts a tenant's executors as the lister holds them. Callers hold o.mu.
func (o *Observer) usageOf(ns string) quota.Usage {
	lister := o.listers[ns]
	if lister == nil {
		return quota.Usage{}
	}
	pods, err := lister.Pods(ns).List(o.selector)
	if err != nil {
		return quota.Usage{}
	}
	return quota.Tally(pods, quota.SchedulerName)
}

// Sample records how many executor slots the tenants hold now, and returns it. Call it at a
// steady cadence: utilization is the average of the samples.
func (o *Observer) Sample() int32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var used int32
	for ns := range o.tenants {
		used += o.usageOf(ns).Assigned
	}
	o.usage.samples++
	o.usage.sum += int64(used)
	o.usage.peak = max(o.usage.peak, used)
	return used
}

// Evictions returns how many of the tenant's executors have been reclaimed so far.
func (o *Observer) Evictions(tenant string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.tenants[tenant]; r != nil {
		return r.suffered.Len()
	}
	return 0
}

// TenantResult is what one tenant lived through.
type TenantResult struct {
	Name string
	Min  int32
	// ReachedMin is when the tenant first ran Min executors; zero if it never did.
	ReachedMin time.Time
	// Suffered counts the tenant's executors reclaimed for others; Caused counts executors
	// reclaimed for the tenant.
	Suffered, Caused int
}

// Utilization is how many executor slots the tenants held, over the samples.
type Utilization struct {
	Samples int
	// Average and Peak are in executor slots.
	Average float64
	Peak    int32
}

// Results returns each tenant's record, by name, and the utilization so far.
func (o *Observer) Results() ([]TenantResult, Utilization) {
	o.mu.Lock()
	defer o.mu.Unlock()
	results := make([]TenantResult, 0, len(o.tenants))
	for name, r := range o.tenants {
		results = append(results, TenantResult{Name: name, Min: r.min, ReachedMin: r.reachedMin, Suffered: r.suffered.Len(), Caused: r.caused.Len()})
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	u := Utilization{Samples: o.usage.samples, Peak: o.usage.peak}
	if o.usage.samples > 0 {
		u.Average = float64(o.usage.sum) / float64(o.usage.samples)
	}
	return results, u
}

// podOf returns the pod of an informer notification, including the last state of a deleted one.
func podOf(obj any) (*corev1.Pod, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	return pod, ok
}
