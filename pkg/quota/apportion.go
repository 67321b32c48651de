package quota

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// Apportion splits need executors among victim farms in proportion to their overquota, by
// largest remainder: each farm first gets the whole part of need × overquota ÷ total, then the
// executors left over go one each to the largest fractional parts (ties: the larger overquota,
// then the earlier farm in the order given, so callers pass farms in a stable order).
//
// The result sums to min(need, total overquota); no farm gets more than its overquota, so no
// victim farm is pushed below its minimum; and each share is within one of its exact
// proportional share. need × overquota is computed in 64 bits, so no int32 input overflows.
func Apportion(need int32, overquota []int32) []int32 {
	shares := make([]int32, len(overquota))
	var total int64
	for _, o := range overquota {
		total += int64(max(0, o))
	}
	if need <= 0 || total == 0 {
		return shares
	}
	n := min(int64(need), total)
	remainders := make([]int64, len(overquota))
	var given int64
	for i, o := range overquota {
		if o <= 0 {
			continue
		}
		exact := n * int64(o)
		shares[i] = int32(exact / total)
		remainders[i] = exact % total
		given += int64(shares[i])
	}
	for ; given < n; given++ {
		best := -1
		for i, r := range remainders {
			if r == 0 {
				continue
			}
			if best < 0 || r > remainders[best] || (r == remainders[best] && overquota[i] > overquota[best]) {
				best = i
			}
		}
		shares[best]++
		// A farm gets at most one of the leftover executors.
		remainders[best] = 0
	}
	return shares
}

// VictimFirst orders executors of one farm for reclaim: lower priority first, then the youngest
// (least work lost), then by name so the order is total.
func VictimFirst(a, b *corev1.Pod) bool {
	pa, pb := corev1helpers.PodPriority(a), corev1helpers.PodPriority(b)
	if pa != pb {
		return pa < pb
	}
	sa, sb := StartTime(a), StartTime(b)
	if !sa.Equal(sb) {
		return sa.After(sb)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// StartTime is when the executor started working: its start time once the kubelet reports it,
// else its creation.
func StartTime(pod *corev1.Pod) time.Time {
	if pod.Status.StartTime != nil {
		return pod.Status.StartTime.Time
	}
	return pod.CreationTimestamp.Time
}
