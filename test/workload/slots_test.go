package workload

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/toinfn/farm/test/harness"
)

func TestExecutorSlots(t *testing.T) {
	node := func(cpu, memory string, mutate ...func(*corev1.Node)) corev1.Node {
		n := harness.NewNode("n", harness.NodeShape{CPU: cpu, Memory: memory, Pods: 110})
		for _, m := range mutate {
			m(n)
		}
		return *n
	}
	cordoned := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	notReady := func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }
	request := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("4Gi")}

	tests := []struct {
		name  string
		nodes []corev1.Node
		want  int32
	}{
		{name: "no nodes", want: 0},
		{name: "default simulated nodes hold four executors each", nodes: []corev1.Node{node("4", "16Gi"), node("4", "16Gi")}, want: 8},
		{name: "the scarcest resource decides", nodes: []corev1.Node{node("16", "8Gi"), node("2500m", "64Gi")}, want: 4},
		{name: "cordoned and not-ready nodes hold none", nodes: []corev1.Node{node("4", "16Gi", cordoned), node("4", "16Gi", notReady), node("4", "16Gi")}, want: 4},
		{name: "a node too small holds none", nodes: []corev1.Node{node("500m", "16Gi")}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExecutorSlots(tc.nodes, request); got != tc.want {
				t.Errorf("ExecutorSlots = %d, want %d", got, tc.want)
			}
		})
	}
}
