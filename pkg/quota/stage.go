package quota

import corev1 "k8s.io/api/core/v1"

// Stage is where an executor is in its life. Unlike Usage's counts, which overlap (an assigned
// executor may also be running), the stages partition the executors: each is in exactly one, so
// counts by stage add up to all of them.
type Stage string

// The stages, in the order an executor goes through them.
const (
	// StagePending: waiting for a node (Usage.Pending).
	StagePending Stage = "pending"
	// StageStarting: bound to a node, not yet running (or its phase is Unknown).
	StageStarting Stage = "starting"
	// StageRunning: bound and running. Starting and running are Usage.Assigned, what counts
	// against the minimum.
	StageRunning Stage = "running"
	// StageReclaiming: evicted by a reclaim and still terminating (IsBeingReclaimed).
	StageReclaiming Stage = "reclaiming"
	// StageTerminating: on its way out for any other reason. Reclaiming and terminating are
	// Usage.Terminating.
	StageTerminating Stage = "terminating"
	// StageFailed: in phase Failed (Usage.Error), whether or not it is being deleted.
	StageFailed Stage = "failed"
	// StageSucceeded: in phase Succeeded.
	StageSucceeded Stage = "succeeded"
)

// Stages lists every stage, so that a count by stage can report the empty ones too.
var Stages = []Stage{StagePending, StageStarting, StageRunning, StageReclaiming, StageTerminating, StageFailed, StageSucceeded}

// StageOf returns the one stage pod is in, by the same predicates Usage counts with.
func StageOf(pod *corev1.Pod) Stage {
	switch {
	case IsError(pod):
		return StageFailed
	case IsFinished(pod):
		return StageSucceeded
	case IsBeingReclaimed(pod):
		return StageReclaiming
	case IsTerminating(pod):
		return StageTerminating
	case IsPending(pod):
		return StagePending
	case IsRunning(pod):
		return StageRunning
	default:
		return StageStarting
	}
}
