package harness

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Kubelet plays the kubelet of every simulated node. It admits a bound pod as a kubelet does:
// the pod starts Running if its requests fit in the node's allocatable beside the pods the node
// already runs, and is otherwise rejected, Failed with the kubelet's OutOf<resource> reason. A pod
// being deleted goes away when its grace period ends (as a container that exits on its deadline)
// and holds its node's resources until then. Admitted pods never fail on their own; tests that
// need a Failed pod set it.
type Kubelet struct {
	client kubernetes.Interface
	pods   corelisters.PodLister
	nodes  corelisters.NodeLister
	queue  workqueue.TypedRateLimitingInterface[cache.ObjectName]

	// mu makes admission one decision at a time, so that two pods bound to a node at once cannot
	// both take its last room.
	mu sync.Mutex
	// admitted holds, by node name, the pods each node runs: admitted here or seen running.
	admitted map[string]map[types.UID]*corev1.Pod
}

// StartKubelet runs the kubelet stand-in until ctx ends.
func StartKubelet(ctx context.Context, client kubernetes.Interface) (*Kubelet, error) {
	factory := informers.NewSharedInformerFactory(client, 0)
	podInformer := factory.Core().V1().Pods()
	nodeInformer := factory.Core().V1().Nodes()
	k := &Kubelet{
		client: client,
		pods:   podInformer.Lister(),
		nodes:  nodeInformer.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName](),
			workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{Name: "kubelet-stand-in"}),
		admitted: map[string]map[types.UID]*corev1.Pod{},
	}
	// The handlers keep the admitted pods in step with the API (they run in event order), and
	// queue the pod for its next step.
	observe := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok {
			k.observe(pod)
		}
		if name, err := cache.ObjectToName(obj); err == nil {
			k.queue.Add(name)
		}
	}
	handler, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
		DeleteFunc: func(obj any) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				k.release(pod)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	factory.Start(ctx.Done())
	// The handler's sync, not only the informer's, so that the pods already running are counted
	// before the first admission.
	if !cache.WaitForCacheSync(ctx.Done(), handler.HasSynced, nodeInformer.Informer().HasSynced) {
		return nil, fmt.Errorf("kubelet stand-in: informers did not sync")
	}
	const workers = 4
	for range workers {
		go wait.UntilWithContext(ctx, k.work, time.Second)
	}
	go func() {
		<-ctx.Done()
		k.queue.ShutDown()
	}()
	return k, nil
}

func (k *Kubelet) work(ctx context.Context) {
	for {
		name, shutdown := k.queue.Get()
		if shutdown {
			return
		}
		retryAfter, err := k.sync(ctx, name)
		switch {
		case err != nil:
			klog.FromContext(ctx).V(2).Info("Kubelet stand-in will retry", "pod", name, "err", err)
			k.queue.AddRateLimited(name)
		case retryAfter > 0:
			k.queue.Forget(name)
			k.queue.AddAfter(name, retryAfter)
		default:
			k.queue.Forget(name)
		}
		k.queue.Done(name)
	}
}

// sync moves one pod along its lifecycle; it returns when to look again if the pod is waiting
// out its grace period.
func (k *Kubelet) sync(ctx context.Context, name cache.ObjectName) (time.Duration, error) {
	pod, err := k.pods.Pods(name.Namespace).Get(name.Name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if pod.Spec.NodeName == "" {
		return 0, nil
	}
	if ended(pod) {
		// Also here, for a pod that ended while it was being admitted: the handler's release came first.
		k.release(pod)
	}
	if pod.DeletionTimestamp != nil {
		if left := time.Until(pod.DeletionTimestamp.Time); left > 0 {
			return left, nil
		}
		zero := int64(0)
		err := k.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: &zero,
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return 0, nil
		}
		return 0, err
	}
	if pod.Status.Phase != corev1.PodPending {
		return 0, nil
	}
	admitted, reason, message, err := k.admit(pod)
	if err != nil {
		return 0, err
	}
	status := pod.DeepCopy()
	if admitted {
		markRunning(status)
	} else {
		// As the kubelet's rejectPod: the pod fails for good, the scheduler does not get it back.
		status.Status.Phase = corev1.PodFailed
		status.Status.Reason = reason
		status.Status.Message = "Pod was rejected: " + message
	}
	_, err = k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, status, metav1.UpdateOptions{})
	switch {
	case apierrors.IsNotFound(err):
		// Gone before it started: its deletion may have been seen before it was admitted.
		k.release(pod)
		return 0, nil
	case apierrors.IsConflict(err):
		// Changed under us: the informer brings the newer object back here, still admitted.
		return 0, nil
	}
	return 0, err
}

// admit decides whether a pending pod may start on its node and, if so, counts it there; a pod
// admitted before (its status update lost to a conflict) stays admitted.
func (k *Kubelet) admit(pod *corev1.Pod) (ok bool, reason, message string, err error) {
	node, err := k.nodes.Get(pod.Spec.NodeName)
	if err != nil {
		// No node, no kubelet to start the pod: retry, the node may just not be seen yet.
		return false, "", "", fmt.Errorf("node of the pod: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	onNode := k.admitted[node.Name]
	if _, ok := onNode[pod.UID]; ok {
		return true, "", "", nil
	}
	ok, reason, message = admitPod(pod, node.Status.Allocatable, slices.Collect(maps.Values(onNode)))
	if ok {
		k.addLocked(pod)
	}
	return ok, reason, message, nil
}

// observe follows a pod's phase: a bound pod seen running counts on its node (one admitted
// before this stand-in started, or by another hand), one that has ended frees its resources.
func (k *Kubelet) observe(pod *corev1.Pod) {
	switch {
	case pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodPending:
	case ended(pod):
		k.release(pod)
	default:
		k.mu.Lock()
		defer k.mu.Unlock()
		k.addLocked(pod)
	}
}

func (k *Kubelet) addLocked(pod *corev1.Pod) {
	if k.admitted[pod.Spec.NodeName] == nil {
		k.admitted[pod.Spec.NodeName] = map[types.UID]*corev1.Pod{}
	}
	k.admitted[pod.Spec.NodeName][pod.UID] = pod
}

// release frees a pod's resources on its node, once it has ended or is gone from the API.
func (k *Kubelet) release(pod *corev1.Pod) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.admitted[pod.Spec.NodeName], pod.UID)
}

// markRunning sets the status a kubelet reports once all of a pod's containers have started.
func markRunning(pod *corev1.Pod) {
	now := metav1.Now()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.StartTime = &now
	pod.Status.HostIP = "10.0.0.1"
	pod.Status.PodIP = "10.244.0.1"
	for _, t := range []corev1.PodConditionType{corev1.PodInitialized, corev1.PodReadyToStartContainers, corev1.ContainersReady, corev1.PodReady} {
		setPodCondition(pod, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name:    c.Name,
			Image:   c.Image,
			Ready:   true,
			Started: ptr.To(true),
			State:   corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
}

func setPodCondition(pod *corev1.Pod, c corev1.PodCondition) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == c.Type {
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}
