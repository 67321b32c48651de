package input

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// GuaranteedPods returns the pending pods of a farm below its minimum that its guarantee covers:
// demand of them, in the order ServedBefore gives.
func GuaranteedPods(self *corev1.Pod, pending []*corev1.Pod, demand int32, nominatedTo func(*corev1.Pod) string) []*corev1.Pod {
	sortServed(self, pending, nominatedTo)
	return pending[:min(len(pending), int(demand))]
}

func sortServed(self *corev1.Pod, pods []*corev1.Pod, nominatedTo func(*corev1.Pod) string) {
	sort.Slice(pods, func(i, j int) bool { return ServedBefore(self, pods[i], pods[j], nominatedTo) })
}

// ServedBefore orders waiting pods: those nominated by an earlier reclaim first (room is being
// made for them: a later pod must not take their place in the guarantee, or it would be made
// twice), then self (the pod of the scheduling cycle; nil for none), then in queue order
// (priority, then age, then namespace, then name).
func ServedBefore(self, a, b *corev1.Pod, nominatedTo func(*corev1.Pod) string) bool {
	if na, nb := nominatedTo(a) != "", nominatedTo(b) != ""; na != nb {
		return na
	}
	if self != nil && (a.UID == self.UID) != (b.UID == self.UID) {
		return a.UID == self.UID
	}
	if pa, pb := corev1helpers.PodPriority(a), corev1helpers.PodPriority(b); pa != pb {
		return pa > pb
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}
