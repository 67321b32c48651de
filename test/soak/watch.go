package soak

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Watch feeds the checker from the API server until ctx ends, and ticks it every tick.
func (c *Checker) Watch(ctx context.Context, cs kubernetes.Interface, farms ctrlcache.Cache, tick time.Duration) error {
	factory := informers.NewSharedInformerFactory(cs, 0)
	handlers := []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}{
		{factory.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.PodChanged(nil, obj.(*corev1.Pod), time.Now()) },
			UpdateFunc: func(old, obj any) { c.PodChanged(old.(*corev1.Pod), obj.(*corev1.Pod), time.Now()) },
			DeleteFunc: func(obj any) {
				if p, ok := tombstoned[*corev1.Pod](obj); ok {
					c.PodDeleted(p, time.Now())
				}
			},
		}},
		{factory.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.NodeChanged(obj.(*corev1.Node)) },
			UpdateFunc: func(_, obj any) { c.NodeChanged(obj.(*corev1.Node)) },
		}},
		{factory.Policy().V1().PodDisruptionBudgets().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.BudgetChanged(obj.(*policyv1.PodDisruptionBudget), false) },
			UpdateFunc: func(_, obj any) { c.BudgetChanged(obj.(*policyv1.PodDisruptionBudget), false) },
			DeleteFunc: func(obj any) {
				if b, ok := tombstoned[*policyv1.PodDisruptionBudget](obj); ok {
					c.BudgetChanged(b, true)
				}
			},
		}},
	}
	for _, h := range handlers {
		if _, err := h.informer.AddEventHandler(h.handler); err != nil {
			return err
		}
	}
	farmInformer, err := farms.GetInformer(ctx, &farmv1alpha1.Farm{})
	if err != nil {
		return fmt.Errorf("Farm informer: %w", err)
	}
	if _, err := farmInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.FarmChanged(obj.(*farmv1alpha1.Farm), false) },
		UpdateFunc: func(_, obj any) { c.FarmChanged(obj.(*farmv1alpha1.Farm), false) },
		DeleteFunc: func(obj any) {
			if f, ok := tombstoned[*farmv1alpha1.Farm](obj); ok {
				c.FarmChanged(f, true)
			}
		},
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	go func() { _ = farms.Start(ctx) }()
	factory.WaitForCacheSync(ctx.Done())
	if !farms.WaitForCacheSync(ctx) {
		return fmt.Errorf("Farm cache never synced")
	}
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				c.Tick(now)
			}
		}
	}()
	return nil
}

// tombstoned returns the object of a delete notification, whether final or a tombstone.
func tombstoned[T client.Object](obj any) (T, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	t, ok := obj.(T)
	return t, ok
}
