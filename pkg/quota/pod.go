package quota

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// SchedulerName is the scheduler executors opt in with (spec.schedulerName). Only pending pods
// addressed to it make guaranteed demand: a pod another scheduler owns cannot be helped by a
// reclaim.
const SchedulerName = "farm-scheduler"

// SparkInactiveLabel is the label (value "true") Spark's driver puts on an executor pod it is
// done with, when it does not delete such pods itself (deleteOnTermination=false).
const SparkInactiveLabel = "spark-exec-inactive"

// DecommissioningLabel is the label Spark puts on an executor it decommissions (its dynamic
// allocation giving it back) when spark.kubernetes.executor.decommissionLabel names it, as the
// spark-defaults.conf of `kubectl farm tenant add` does. Any value.
const DecommissioningLabel = "farm.toinfn.it/decommissioning"

// IsTerminating reports whether the pod has been asked to go away: deleted (it may still be
// running its grace period, e.g. a Spark executor decommissioning), or marked by Spark as being
// decommissioned or done with. Such an executor no longer counts for its farm and is never a
// victim: it is already leaving.
func IsTerminating(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || pod.Labels[SparkInactiveLabel] == "true" {
		return true
	}
	_, decommissioning := pod.Labels[DecommissioningLabel]
	return decommissioning
}

// LeavingMargin is how long past its deletion deadline (the end of its grace period) a
// terminating pod is still expected to go: the kubelet's own cleanup takes seconds.
const LeavingMargin = 15 * time.Second

// IsLeaving reports whether a terminating pod is still expected to go and free its room: not past
// its deletion deadline by more than LeavingMargin. One still there after that is stuck (as on a
// node that went away) and holds its room.
//
// An executor Spark decommissions without deleting it has no deadline: it holds its room until
// it exits.
func IsLeaving(pod *corev1.Pod, now time.Time) bool {
	return pod.DeletionTimestamp != nil && now.Before(pod.DeletionTimestamp.Add(LeavingMargin))
}

// IsFinished reports whether the pod's containers have stopped for good.
func IsFinished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// IsAssigned reports whether the pod holds a place on a node that it will keep: bound, not
// terminating, not finished. A pod the scheduler has reserved a node for carries that node in
// spec.nodeName in the scheduler's own view, so the same rule covers it.
func IsAssigned(pod *corev1.Pod) bool {
	return pod.Spec.NodeName != "" && !IsTerminating(pod) && !IsFinished(pod)
}

// IsRunning reports whether the pod is running and not on its way out.
func IsRunning(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodRunning && !IsTerminating(pod)
}

// IsPending reports whether the pod waits for a node: not bound, not terminating, not finished.
func IsPending(pod *corev1.Pod) bool {
	return pod.Spec.NodeName == "" && !IsTerminating(pod) && !IsFinished(pod)
}

// IsError reports whether the pod failed. Failed executors count against Spark's
// maxNumFailures, which is why the controller cleans them up and the scheduler never makes one.
func IsError(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed
}

// IsSchedulable reports whether a pending pod is something schedulerName can act on now: addressed
// to it and not held back by scheduling gates. Only such pods make guaranteed demand.
func IsSchedulable(pod *corev1.Pod, schedulerName string) bool {
	return IsPending(pod) && pod.Spec.SchedulerName == schedulerName && len(pod.Spec.SchedulingGates) == 0
}

// EvictedCondition is the pod condition Farm sets on an executor it evicts, before the eviction:
// the Eviction API then sets DisruptionTarget with its own reason, so Farm's reason lives here.
const EvictedCondition corev1.PodConditionType = "farmcontroller.toinfn.it/Evicted"

// Reasons of EvictedCondition.
const (
	// ReasonReclaimed: farm-scheduler took a borrowed executor back for a farm below its minimum.
	ReasonReclaimed = "Reclaimed"
	// ReasonScaledDown: farm-controller enforced a lowered maxExecutors.
	ReasonScaledDown = "ScaledDown"
)

// EvictionCondition returns the condition Farm set on an executor it evicted, or nil.
func EvictionCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type == EvictedCondition && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// IsBeingReclaimed reports whether the executor was reclaimed and is still terminating.
func IsBeingReclaimed(pod *corev1.Pod) bool {
	c := EvictionCondition(pod)
	return IsTerminating(pod) && !IsFinished(pod) && c != nil && c.Reason == ReasonReclaimed
}
