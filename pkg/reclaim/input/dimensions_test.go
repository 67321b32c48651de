package input

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/toinfn/farm/pkg/reclaim"
)

const (
	gpu  corev1.ResourceName = "nvidia.com/gpu"
	fpga corev1.ResourceName = "example.com/fpga"
)

func TestDimensions(t *testing.T) {
	// The node has 4 CPU, 8Gi, 32 pods, 100Gi of ephemeral storage, 4 GPUs and 2 FPGAs; one pod
	// on it requests 1 CPU, 1Gi, 10Gi of ephemeral storage and a GPU.
	n := node("n1").capacity(corev1.ResourceEphemeralStorage, "100Gi").capacity(gpu, "4").capacity(fpga, "2").obj()
	onNode := executor("alice", "a1").on("n1").requests(map[corev1.ResourceName]string{
		corev1.ResourceCPU: "1", corev1.ResourceMemory: "1Gi", corev1.ResourceEphemeralStorage: "10Gi", gpu: "1",
	}).obj()
	ni := nodeInfo(n, onNode)

	tests := []struct {
		name string
		// requests are the waiting pods'.
		requests  []map[corev1.ResourceName]string
		wantNames []string
		// wantOf measures each request, wantFree the node.
		wantOf   []reclaim.Resources
		wantFree reclaim.Resources
	}{
		{
			name:      "CPU, memory and a pod slot always",
			requests:  []map[corev1.ResourceName]string{{corev1.ResourceCPU: "2"}},
			wantNames: []string{"cpu", "memory", "pods"},
			wantOf:    []reclaim.Resources{{2000, 0, 1}},
			wantFree:  reclaim.Resources{3000, 7 * gi, 31},
		},
		{
			name:      "no request at all: still CPU, memory and a pod slot",
			wantNames: []string{"cpu", "memory", "pods"},
			wantFree:  reclaim.Resources{3000, 7 * gi, 31},
		},
		{
			name: "ephemeral storage once a waiting pod requests it",
			requests: []map[corev1.ResourceName]string{
				{corev1.ResourceCPU: "1", corev1.ResourceEphemeralStorage: "5Gi"},
				{corev1.ResourceCPU: "1"},
			},
			wantNames: []string{"cpu", "memory", "pods", "ephemeral-storage"},
			wantOf:    []reclaim.Resources{{1000, 0, 1, 5 * gi}, {1000, 0, 1, 0}},
			wantFree:  reclaim.Resources{3000, 7 * gi, 31, 90 * gi},
		},
		{
			name: "extended resources once a waiting pod requests them, by name, each once",
			requests: []map[corev1.ResourceName]string{
				{corev1.ResourceCPU: "1", gpu: "1"},
				{corev1.ResourceMemory: "2Gi", gpu: "2", fpga: "1"},
			},
			wantNames: []string{"cpu", "memory", "pods", "example.com/fpga", "nvidia.com/gpu"},
			wantOf:    []reclaim.Resources{{1000, 0, 1, 0, 1}, {0, 2 * gi, 1, 1, 2}},
			wantFree:  reclaim.Resources{3000, 7 * gi, 31, 2, 3},
		},
		{
			name:      "an extended resource requested as zero is no dimension",
			requests:  []map[corev1.ResourceName]string{{corev1.ResourceCPU: "1", gpu: "0"}},
			wantNames: []string{"cpu", "memory", "pods"},
			wantOf:    []reclaim.Resources{{1000, 0, 1}},
			wantFree:  reclaim.Resources{3000, 7 * gi, 31},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requests := make([]fwk.Resource, len(tc.requests))
			for i, r := range tc.requests {
				requests[i] = resources(r)
			}
			d := DimensionsOf(requests)
			if diff := cmp.Diff(tc.wantNames, d.Names()); diff != "" {
				t.Errorf("Names (-want +got):\n%s", diff)
			}
			var of []reclaim.Resources
			for _, r := range requests {
				of = append(of, d.Of(r))
			}
			if diff := cmp.Diff(tc.wantOf, of); diff != "" {
				t.Errorf("Of (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantFree, d.Free(ni)); diff != "" {
				t.Errorf("Free (-want +got):\n%s", diff)
			}
		})
	}
}

// resources is a request as the scheduler computes it.
func resources(r map[corev1.ResourceName]string) fwk.Resource {
	rl := corev1.ResourceList{}
	for name, q := range r {
		rl[name] = resource.MustParse(q)
	}
	return framework.NewResource(rl)
}
