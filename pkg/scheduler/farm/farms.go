package farm

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// farmsResource is the Farm API resource the plugin watches.
var farmsResource = farmv1alpha1.GroupVersion.WithResource("farms")

// newFarmInformer returns an informer for Farms in every namespace, holding typed objects.
//
// It is a dynamic informer whose transform turns each object into the typed Farm once, on
// arrival, so nothing on the scheduling path converts. That spares the project a generated
// clientset for two types.
func newFarmInformer(client dynamic.Interface) cache.SharedIndexInformer {
	factory := dynamicinformer.NewDynamicSharedInformerFactory(client, 0)
	informer := factory.ForResource(farmsResource).Informer()
	// SetTransform only fails once the informer has started; this one has not.
	_ = informer.SetTransform(toTypedFarm)
	return informer
}

// toTypedFarm converts an unstructured Farm to *Farm; other objects (tombstones) pass through.
func toTypedFarm(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	f := &farmv1alpha1.Farm{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, f); err != nil {
		return nil, fmt.Errorf("decoding Farm %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return f, nil
}

// startAndSync runs the informer until ctx ends and waits for its first list.
func startAndSync(ctx context.Context, informer cache.SharedIndexInformer) error {
	go informer.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		return fmt.Errorf("waiting for the Farm informer to sync: %w", context.Cause(ctx))
	}
	return nil
}
