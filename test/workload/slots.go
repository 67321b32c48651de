package workload

import (
	corev1 "k8s.io/api/core/v1"
)

// ExecutorSlots returns how many executors of the given request the nodes can hold: on each
// Ready, schedulable node, the executors its allocatable resources fit, ignoring other pods.
func ExecutorSlots(nodes []corev1.Node, request corev1.ResourceList) int32 {
	var slots int32
	for i := range nodes {
		n := &nodes[i]
		if n.Spec.Unschedulable || !ready(n) {
			continue
		}
		fit := int64(-1)
		for name, req := range request {
			if req.IsZero() {
				continue
			}
			alloc := n.Status.Allocatable[name]
			k := alloc.MilliValue() / req.MilliValue()
			if fit < 0 || k < fit {
				fit = k
			}
		}
		if fit > 0 {
			slots += int32(fit)
		}
	}
	return slots
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
