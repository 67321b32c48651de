package soak

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// room is an amount of the two resources the soak's pods ask for.
type room struct{ cpu, memory int64 }

func (r room) add(o room) room   { return room{r.cpu + o.cpu, r.memory + o.memory} }
func (r room) sub(o room) room   { return room{r.cpu - o.cpu, r.memory - o.memory} }
func (r room) holds(o room) bool { return r.cpu >= o.cpu && r.memory >= o.memory }

// requestOf is a pod's request (the soak's pods have no init containers nor overhead).
func requestOf(p *corev1.Pod) room {
	var r room
	for _, c := range p.Spec.Containers {
		r.cpu += c.Resources.Requests.Cpu().MilliValue()
		r.memory += c.Resources.Requests.Memory().Value()
	}
	return r
}

// fitNode is a node as a placement sees it: its free room and the executors on it that may be
// taken for room, each of a farm (by namespace).
type fitNode struct {
	name    string
	labels  labels.Set
	free    room
	victims []fitVictim
}

type fitVictim struct {
	farm string
	size room
}

// place reports whether every pod fits: largest first, each on the first node its selector
// admits where the free room, with victims of farms that still have allowance taken on that node
// if need be, holds it. Success proves the pods fit; failure proves nothing (it is a heuristic),
// so the checker only ever flags what place proves.
func place(pods []*corev1.Pod, nodes []fitNode, allowance map[string]int) bool {
	nodes = slices.Clone(nodes)
	for i := range nodes {
		nodes[i].victims = slices.Clone(nodes[i].victims)
	}
	allowance = maps.Clone(allowance)
	pods = slices.Clone(pods)
	slices.SortFunc(pods, func(a, b *corev1.Pod) int { return int(requestOf(b).cpu - requestOf(a).cpu) })
	for _, p := range pods {
		if !placeOne(p, nodes, allowance) {
			return false
		}
	}
	return true
}

func placeOne(p *corev1.Pod, nodes []fitNode, allowance map[string]int) bool {
	need := requestOf(p)
	selector := labels.SelectorFromSet(p.Spec.NodeSelector)
	for i := range nodes {
		n := &nodes[i]
		if !selector.Matches(n.labels) {
			continue
		}
		free, taken := n.free, 0
		used := map[string]int{}
		for _, v := range n.victims {
			if free.holds(need) {
				break
			}
			if allowance[v.farm]-used[v.farm] > 0 {
				free = free.add(v.size)
				used[v.farm]++
				taken++
			}
		}
		if !free.holds(need) {
			continue
		}
		// Take the victims for real: the same ones, in the same order.
		kept := n.victims[:0]
		for _, v := range n.victims {
			if taken > 0 && allowance[v.farm] > 0 && used[v.farm] > 0 {
				allowance[v.farm]--
				used[v.farm]--
				taken--
				continue
			}
			kept = append(kept, v)
		}
		n.victims = kept
		n.free = free.sub(need)
		return true
	}
	return false
}
