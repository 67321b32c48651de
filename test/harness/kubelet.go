package harness

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Kubelet plays the kubelet of every simulated node: a bound pod becomes Running, and a pod being
// deleted goes away when its grace period ends (as a container that exits on its deadline). Pods
// never fail on their own; tests that need a Failed pod set it.
type Kubelet struct {
	client kubernetes.Interface
	pods   corelisters.PodLister
	queue  workqueue.TypedRateLimitingInterface[cache.ObjectName]
	synced cache.InformerSynced
}

// StartKubelet runs the kubelet stand-in until ctx ends.
func StartKubelet(ctx context.Context, client kubernetes.Interface) (*Kubelet, error) {
	factory := informers.NewSharedInformerFactory(client, 0)
	podInformer := factory.Core().V1().Pods()
	k := &Kubelet{
		client: client,
		pods:   podInformer.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName](),
			workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{Name: "kubelet-stand-in"}),
		synced: podInformer.Informer().HasSynced,
	}
	enqueue := func(obj any) {
		if name, err := cache.DeletionHandlingObjectToName(obj); err == nil {
			k.queue.Add(name)
		}
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return nil, err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), k.synced) {
		return nil, fmt.Errorf("kubelet stand-in: pod informer did not sync")
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
	running := pod.DeepCopy()
	now := metav1.Now()
	running.Status.Phase = corev1.PodRunning
	running.Status.StartTime = &now
	running.Status.HostIP = "10.0.0.1"
	running.Status.PodIP = "10.244.0.1"
	for _, t := range []corev1.PodConditionType{corev1.PodInitialized, corev1.PodReadyToStartContainers, corev1.ContainersReady, corev1.PodReady} {
		setPodCondition(running, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	running.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		running.Status.ContainerStatuses = append(running.Status.ContainerStatuses, corev1.ContainerStatus{
			Name:    c.Name,
			Image:   c.Image,
			Ready:   true,
			Started: ptr.To(true),
			State:   corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	_, err = k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, running, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// Gone, or changed under us: the informer brings the newer object back here.
		return 0, nil
	}
	return 0, err
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
