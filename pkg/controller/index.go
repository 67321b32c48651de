package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// podLabelIndex indexes pods by each "key=value" label they carry, so a Farm reaches its
// executors (namespace + label) in O(its pods), never by listing and filtering every pod or by
// parsing pod names.
const podLabelIndex = "farm.toinfn.it/label"

// labelIndexValue is the index value of one label.
func labelIndexValue(key, value string) string { return key + "=" + value }

func indexPodLabels(obj client.Object) []string {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(pod.Labels))
	for k, v := range pod.Labels {
		out = append(out, labelIndexValue(k, v))
	}
	return out
}

// addIndexes registers the controller's cache indexes.
func addIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &corev1.Pod{}, podLabelIndex, indexPodLabels)
}

// selectedPods lists the pods a Farm's selector matches (its candidates; ownership is decided
// among the Farms of the namespace).
func selectedPods(ctx context.Context, c client.Reader, farm *farmv1alpha1.Farm) ([]*corev1.Pod, error) {
	var list corev1.PodList
	if err := c.List(ctx, &list, client.InNamespace(farm.Namespace), client.MatchingFields{podLabelIndex: labelIndexValue(farm.Spec.LabelKey, farm.Spec.LabelValue)}); err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return pods, nil
}

// farmsIn lists the Farms of a namespace.
func farmsIn(ctx context.Context, c client.Reader, namespace string) ([]*farmv1alpha1.Farm, error) {
	var list farmv1alpha1.FarmList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	farms := make([]*farmv1alpha1.Farm, len(list.Items))
	for i := range list.Items {
		farms[i] = &list.Items[i]
	}
	return farms, nil
}
