package harness

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"
)

// admitPod decides, as the kubelet's predicate admit handler does, whether pod fits on a node of
// the given allocatable beside the pods the node already runs (the candidate is not among them).
// A rejection carries the kubelet's reason, OutOf<resource>, and its message.
func admitPod(pod *corev1.Pod, allocatable corev1.ResourceList, running []*corev1.Pod) (ok bool, reason, message string) {
	var count int64
	used := corev1.ResourceList{}
	for _, p := range running {
		// Terminal pods hold nothing; terminating ones still do until they are gone.
		if ended(p) {
			continue
		}
		count++
		for name, q := range resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}) {
			sum := used[name]
			sum.Add(q)
			used[name] = sum
		}
	}
	if capacity := allocatable.Pods().Value(); count+1 > capacity {
		return outOf(corev1.ResourcePods, 1, count, capacity)
	}

	// PodRequests counts init containers (the largest of them against the sum of the others) and
	// overhead, as the kubelet does. It checks the named resources first, then the rest in name order.
	requests := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	var others []corev1.ResourceName
	for name := range requests {
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		default:
			others = append(others, name)
		}
	}
	slices.Sort(others)
	for _, name := range append([]corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}, others...) {
		capacity, listed := allocatable[name]
		if !listed && v1helper.IsExtendedResourceName(name) {
			// The kubelet leaves extended resources its node does not list to cluster-level or DRA allocation.
			continue
		}
		req, inUse := value(name, requests[name]), value(name, used[name])
		if req > 0 && req > value(name, capacity)-inUse {
			return outOf(name, req, inUse, value(name, capacity))
		}
	}
	return true, "", ""
}

// value is a quantity in the kubelet's unit: millicores for cpu, plain units otherwise.
func value(name corev1.ResourceName, q resource.Quantity) int64 {
	if name == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// outOf rejects a pod for want of resource name, with the kubelet's reason and message.
func outOf(name corev1.ResourceName, requested, used, capacity int64) (ok bool, reason, message string) {
	return false, "OutOf" + string(name), fmt.Sprintf("Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d",
		name, requested, used, capacity)
}

// ended reports whether a pod has reached a terminal phase, after which it holds no resources.
func ended(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}
