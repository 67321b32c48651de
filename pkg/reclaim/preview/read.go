package preview

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Read lists what a preview plans on: every node, pod, PodDisruptionBudget and Farm.
func Read(ctx context.Context, core kubernetes.Interface, dyn dynamic.Interface) (Cluster, error) {
	var c Cluster
	nodes, err := core.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return c, fmt.Errorf("listing nodes: %w", err)
	}
	for i := range nodes.Items {
		c.Nodes = append(c.Nodes, &nodes.Items[i])
	}
	pods, err := core.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return c, fmt.Errorf("listing pods: %w", err)
	}
	for i := range pods.Items {
		c.Pods = append(c.Pods, &pods.Items[i])
	}
	pdbs, err := core.PolicyV1().PodDisruptionBudgets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return c, fmt.Errorf("listing PodDisruptionBudgets: %w", err)
	}
	for i := range pdbs.Items {
		c.Budgets = append(c.Budgets, &pdbs.Items[i])
	}
	farms, err := dyn.Resource(farmv1alpha1.GroupVersion.WithResource("farms")).List(ctx, metav1.ListOptions{})
	if err != nil {
		return c, fmt.Errorf("listing farms: %w", err)
	}
	for _, u := range farms.Items {
		f := &farmv1alpha1.Farm{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, f); err != nil {
			return c, fmt.Errorf("reading farm %s/%s: %w", u.GetNamespace(), u.GetName(), err)
		}
		c.Farms = append(c.Farms, f)
	}
	return c, nil
}
