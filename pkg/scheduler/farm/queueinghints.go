package farm

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// farmEventResource names Farms in cluster events, in the resource.version.group form the
// scheduler uses to watch custom resources.
var farmEventResource = fwk.EventResource(farmsResource.Resource + "." + farmsResource.Version + "." + farmsResource.Group)

// EventsToRegister lists the events that can make a pod rejected by this plugin schedulable:
// a Farm created or changed (a raised ceiling), and an executor of the pod's farm leaving.
//
// A new node is deliberately not here: the only rejection that is this plugin's own is the
// farm's ceiling, which no node can lift. A pod that waits for room was rejected by the resource
// filters, whose own hints requeue it when a node arrives; a pod waiting out a reclaim's
// hysteresis is reactivated by the plugin on the trigger cadence.
func (p *Plugin) EventsToRegister(context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: farmEventResource, ActionType: fwk.Add | fwk.Update}, QueueingHintFn: p.isSchedulableAfterFarmChange},
		{Event: fwk.ClusterEvent{Resource: fwk.AssignedPod, ActionType: fwk.Delete}, QueueingHintFn: p.isSchedulableAfterExecutorDeleted},
	}, nil
}

// isSchedulableAfterFarmChange requeues a pod when the Farm that changed selects it: its
// ceiling or its ownership may have moved.
func (p *Plugin) isSchedulableAfterFarmChange(logger klog.Logger, pod *corev1.Pod, _, newObj any) (fwk.QueueingHint, error) {
	farm, err := asFarm(newObj)
	if err != nil {
		return fwk.Queue, err
	}
	if !quota.Selects(farm, pod) {
		return fwk.QueueSkip, nil
	}
	logger.V(5).Info("Farm of a waiting pod changed", "pod", klog.KObj(pod), "farm", klog.KObj(farm))
	return fwk.Queue, nil
}

// isSchedulableAfterExecutorDeleted requeues a pod when an executor of its own farm went away,
// freeing room under the farm's ceiling.
func (p *Plugin) isSchedulableAfterExecutorDeleted(logger klog.Logger, pod *corev1.Pod, oldObj, _ any) (fwk.QueueingHint, error) {
	deleted, ok := objectOf[*corev1.Pod](oldObj)
	if !ok {
		return fwk.Queue, fmt.Errorf("unexpected object %T in a pod delete event", oldObj)
	}
	if deleted.Namespace != pod.Namespace {
		return fwk.QueueSkip, nil
	}
	owner, ok := p.farms.OwnerOf(pod)
	if !ok || !quota.Selects(owner.Farm, deleted) {
		return fwk.QueueSkip, nil
	}
	logger.V(5).Info("Executor of a waiting pod's farm left", "pod", klog.KObj(pod), "executor", klog.KObj(deleted), "farm", klog.KObj(owner.Farm))
	return fwk.Queue, nil
}

// asFarm converts a Farm from a cluster event: the scheduler's own informer delivers custom
// resources unstructured.
func asFarm(obj any) (*farmv1alpha1.Farm, error) {
	if f, ok := obj.(*farmv1alpha1.Farm); ok {
		return f, nil
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("unexpected object %T in a Farm event", obj)
	}
	f, err := toTypedFarm(u)
	if err != nil {
		return nil, err
	}
	return f.(*farmv1alpha1.Farm), nil
}
