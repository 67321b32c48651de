package quota

import (
	corev1 "k8s.io/api/core/v1"
)

// Usage counts one farm's executors by state. It is additive: Add and Remove let a cache keep it
// up to date pod event by pod event (Remove the old object, Add the new one) instead of
// recounting every pod.
type Usage struct {
	// All counts every executor, in any phase.
	All int32
	// Assigned counts executors bound to a node, not terminating and not finished.
	Assigned int32
	// Running counts executors in phase Running that are not terminating.
	Running int32
	// Pending counts executors not yet bound to a node (and not terminating or finished).
	Pending int32
	// Schedulable counts pending executors addressed to the farm scheduler and not gated:
	// the pending executors that can make guaranteed demand.
	Schedulable int32
	// Error counts executors in phase Failed.
	Error int32
	// Terminating counts executors on their way out, not yet finished: deleted, or marked by Spark
	// as decommissioning or inactive (IsTerminating).
	Terminating int32
}

// Add counts pod into u. schedulerName decides which pending pods are Schedulable.
func (u *Usage) Add(pod *corev1.Pod, schedulerName string) {
	u.account(pod, schedulerName, 1)
}

// Remove takes pod, as it was last counted, out of u.
func (u *Usage) Remove(pod *corev1.Pod, schedulerName string) {
	u.account(pod, schedulerName, -1)
}

func (u *Usage) account(pod *corev1.Pod, schedulerName string, d int32) {
	u.All += d
	if IsAssigned(pod) {
		u.Assigned += d
	}
	if IsRunning(pod) {
		u.Running += d
	}
	if IsPending(pod) {
		u.Pending += d
	}
	if IsSchedulable(pod, schedulerName) {
		u.Schedulable += d
	}
	if IsError(pod) {
		u.Error += d
	}
	if IsTerminating(pod) && !IsFinished(pod) {
		u.Terminating += d
	}
}

// Tally counts pods, all of them executors of one farm.
func Tally(pods []*corev1.Pod, schedulerName string) Usage {
	var u Usage
	for _, p := range pods {
		u.Add(p, schedulerName)
	}
	return u
}

// Limits are a farm's guarantee and ceiling, from its spec.
type Limits struct {
	// Min is the guaranteed number of executors.
	Min int32
	// Max is the ceiling; 0 means none.
	Max int32
}

// State is one farm's usage against its limits: everything the rules below need.
type State struct {
	Limits
	Usage
}

// Overquota is how many assigned executors the farm holds beyond its minimum: what it borrows,
// and the most a reclaim may take from it.
func (s State) Overquota() int32 {
	return max(0, s.Assigned-s.Min)
}

// Reclaimable is how many executors a reclaim may take from the farm: its overquota, but never
// more than maxExecutors - minExecutors when it has a ceiling. Executors above a lowered ceiling
// are farm-controller's scale-down to remove; leaving them out of the reclaim means the two,
// deciding from their own caches at the same moment, still never take the farm below its
// minimum together: at most (assigned - max) + (max - min).
func (s State) Reclaimable() int32 {
	r := s.Overquota()
	if s.Max > 0 {
		r = min(r, max(0, s.Max-s.Min))
	}
	return r
}

// Underquota is how far the farm's assigned executors fall short of its minimum.
func (s State) Underquota() int32 {
	return max(0, s.Min-s.Assigned)
}

// GuaranteedDemand is how many of the farm's waiting executors its guarantee covers: the smaller
// of its shortfall and its schedulable pending executors. Only guaranteed demand may reclaim.
func (s State) GuaranteedDemand() int32 {
	return min(s.Underquota(), s.Schedulable)
}

// BelowMin reports whether the farm holds fewer executors than it is guaranteed.
func (s State) BelowMin() bool {
	return s.Assigned < s.Min
}

// Borrowing reports whether the farm holds executors beyond its guarantee.
func (s State) Borrowing() bool {
	return s.Assigned > s.Min
}

// Headroom is how many more executors the farm may be assigned before reaching its ceiling, or -1
// when it has none.
func (s State) Headroom() int32 {
	if s.Max == 0 {
		return -1
	}
	return max(0, s.Max-s.Assigned)
}
