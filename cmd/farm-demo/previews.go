package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim/preview"
	"github.com/toinfn/farm/test/workload"
)

// previews holds what kubectl farm what-if said as each job was submitted: which farms would
// lose how many executors for the tenant's minimum. The demo shows them beside what then
// happened.
type previews struct {
	c *cluster

	mu       sync.Mutex
	byTenant map[string]tenantPreview
	order    []string
}

// tenantPreview is one tenant's preview, or why there is none.
type tenantPreview struct {
	executors int32
	result    *preview.Result
	err       error
}

func newPreviews(c *cluster) *previews {
	return &previews{c: c, byTenant: map[string]tenantPreview{}}
}

// take previews the reclaim the tenant's minimum of executors would cause, from the cluster as it
// is the moment its job is submitted: what `kubectl farm what-if NS/FARM --executors MIN` prints.
func (p *previews) take(ctx context.Context, t workload.Tenant) {
	if t.Min == 0 {
		return
	}
	tp := tenantPreview{executors: t.Min}
	objects, err := preview.Read(ctx, p.c.clientset, p.c.dynamic)
	if err == nil {
		tp.result, err = preview.Plan(objects,
			preview.Request{Farm: types.NamespacedName{Namespace: t.Name, Name: t.FarmName()}, Executors: t.Min, Executor: t.Executor(p.c.ft, 0)},
			preview.Options{SchedulerName: quota.SchedulerName, Now: time.Now()})
	}
	if err != nil {
		klog.FromContext(ctx).Error(err, "Reclaim preview failed", "tenant", t.Name)
		tp.err = err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, seen := p.byTenant[t.Name]; !seen {
		p.order = append(p.order, t.Name)
	}
	p.byTenant[t.Name] = tp
}

// lines renders the previews taken so far, in the order the jobs were submitted.
func (p *previews) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.order))
	for _, name := range p.order {
		tp := p.byTenant[name]
		what := ""
		if tp.err != nil {
			what = "no preview: " + tp.err.Error()
		} else {
			what = tp.result.Summary()
		}
		out = append(out, fmt.Sprintf("%s, %d executors: %s", name, tp.executors, what))
	}
	return out
}

// evictions is how many executors the tenant's preview said would be reclaimed for its minimum,
// and whether it has one.
func (p *previews) evictions(tenant string) (int32, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tp, ok := p.byTenant[tenant]
	if !ok || tp.err != nil {
		return 0, false
	}
	return tp.result.EvictionsForAsked, true
}
