package input

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim"
)

// NodeReader reads nodes into a reclaim.Problem: the room each has for the waiting pods and the
// admissible victims it holds.
type NodeReader struct {
	Dimensions Dimensions
	Budgets    *Budgets
	// Farms are the victim farms of the problem: only their executors are victims.
	Farms map[types.NamespacedName]reclaim.Farm
	// Owner returns the farm that counts a pod as its executor.
	Owner func(*corev1.Pod) (types.NamespacedName, bool)
	// Evicting reports pods whose eviction the reader requested and that may not show as
	// terminating yet (nil: none).
	Evicting func(types.UID) bool
	// Refused returns why a pod's recent eviction was refused (nil: none was).
	Refused func(types.UID) (string, bool)
	Now     time.Time
	// PassedOver collects, per farm, why executors that would otherwise be victims are not: a
	// PodDisruptionBudget that allows no disruption, or an eviction refused a moment ago.
	PassedOver map[types.NamespacedName]string
}

// Read returns a node's room (free, plus what pods already leaving it free) and its admissible
// victims with their pods, in the same order.
func (r *NodeReader) Read(nodeInfo fwk.NodeInfo) (reclaim.Node, []*corev1.Pod) {
	node := reclaim.Node{Name: nodeInfo.Node().Name}
	room := r.Dimensions.Free(nodeInfo)
	pods := nodeInfo.GetPods()
	node.Victims = make([]reclaim.Victim, 0, len(pods))
	victims := make([]*corev1.Pod, 0, len(pods))
	for _, pi := range pods {
		v := pi.GetPod()
		if r.Evicting != nil && r.Evicting(v.UID) || quota.IsLeaving(v, r.Now) {
			// Whatever it is (an executor of any farm, or a pod the reader's view already saw
			// go while the node's view still holds it), the room it frees is room.
			room.Add(r.Dimensions.Of(pi.CalculateResource().Resource))
			node.Leaving = true
			continue
		}
		if quota.IsTerminating(v) {
			// Stuck past its deadline, or decommissioned by Spark without a deadline: it holds
			// its room, and evicting it again would free nothing sooner.
			continue
		}
		owner, ok := r.Owner(v)
		if !ok {
			continue
		}
		if _, victimFarm := r.Farms[owner]; !victimFarm {
			continue // of another farm type, or of a farm not over its minimum
		}
		if r.Refused != nil {
			if why, refused := r.Refused(v.UID); refused {
				r.passOver(owner, why)
				continue
			}
		}
		covering, protectedBy := r.Budgets.Covering(v)
		if protectedBy != "" {
			r.passOver(owner, fmt.Sprintf("PodDisruptionBudget %s allows no disruption", protectedBy))
			continue
		}
		node.Victims = append(node.Victims, reclaim.Victim{
			ID:       string(v.UID), // unique, and free to make
			Farm:     owner,
			Request:  r.Dimensions.Of(pi.CalculateResource().Resource),
			Priority: corev1helpers.PodPriority(v),
			Started:  quota.StartTime(v),
			Budgets:  covering,
		})
		victims = append(victims, v)
	}
	node.Room = room
	return node, victims
}

func (r *NodeReader) passOver(farm types.NamespacedName, why string) {
	if r.PassedOver != nil {
		r.PassedOver[farm] = why
	}
}

// HoldsRoom reports whether a pod nominated to a node holds its room against a waiting pod of
// the given priority, as the filters count nominated pods: one of no lower priority does.
// Waiting pods of the problem and pods no guarantee covers any more are the caller's to sort
// out first.
func HoldsRoom(nominated *corev1.Pod, priority int32) bool {
	return corev1helpers.PodPriority(nominated) >= priority
}
