package input

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/toinfn/farm/pkg/reclaim"
)

// Dimensions are the resources a reclaim measures room in: CPU, memory and a pod slot always,
// ephemeral storage and extended resources when a waiting pod requests them. Resources no
// waiting pod requests cannot keep it from fitting.
type Dimensions struct {
	ephemeralStorage bool
	scalars          []corev1.ResourceName
}

// DimensionsOf returns the dimensions the given requests need.
func DimensionsOf(requests []fwk.Resource) Dimensions {
	var d Dimensions
	seen := map[corev1.ResourceName]bool{}
	for _, r := range requests {
		d.ephemeralStorage = d.ephemeralStorage || r.GetEphemeralStorage() > 0
		for name, q := range r.GetScalarResources() {
			if q > 0 && !seen[name] {
				seen[name] = true
				d.scalars = append(d.scalars, name)
			}
		}
	}
	sort.Slice(d.scalars, func(i, j int) bool { return d.scalars[i] < d.scalars[j] })
	return d
}

// Names lists the dimensions in the order of their Resources (reclaim.Problem.Dimensions).
func (d Dimensions) Names() []string {
	out := []string{string(corev1.ResourceCPU), string(corev1.ResourceMemory), string(corev1.ResourcePods)}
	if d.ephemeralStorage {
		out = append(out, string(corev1.ResourceEphemeralStorage))
	}
	for _, s := range d.scalars {
		out = append(out, string(s))
	}
	return out
}

// Of measures one pod's request.
func (d Dimensions) Of(r fwk.Resource) reclaim.Resources {
	out := reclaim.Resources{r.GetMilliCPU(), r.GetMemory(), 1}
	if d.ephemeralStorage {
		out = append(out, r.GetEphemeralStorage())
	}
	for _, s := range d.scalars {
		out = append(out, r.GetScalarResources()[s])
	}
	return out
}

// Free measures what a node has left: allocatable less what its pods request.
func (d Dimensions) Free(nodeInfo fwk.NodeInfo) reclaim.Resources {
	alloc, used := nodeInfo.GetAllocatable(), nodeInfo.GetRequested()
	out := reclaim.Resources{
		alloc.GetMilliCPU() - used.GetMilliCPU(),
		alloc.GetMemory() - used.GetMemory(),
		int64(alloc.GetAllowedPodNumber() - len(nodeInfo.GetPods())),
	}
	if d.ephemeralStorage {
		out = append(out, alloc.GetEphemeralStorage()-used.GetEphemeralStorage())
	}
	for _, s := range d.scalars {
		out = append(out, alloc.GetScalarResources()[s]-used.GetScalarResources()[s])
	}
	return out
}
