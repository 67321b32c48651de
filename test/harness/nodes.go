package harness

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/toinfn/farm/pkg/quota"
)

// NodeShape is the allocatable size of a simulated node.
type NodeShape struct {
	CPU    string
	Memory string
	Pods   int64
}

// DefaultNodeShape fits four executors of DefaultExecutorResources, with room for nothing else.
var DefaultNodeShape = NodeShape{CPU: "4", Memory: "16Gi", Pods: 110}

// CreateNodes adds n Ready nodes named prefix-0 ... prefix-(n-1).
func (cp *ControlPlane) CreateNodes(ctx context.Context, prefix string, n int, shape NodeShape) ([]*corev1.Node, error) {
	nodes := make([]*corev1.Node, 0, n)
	for i := range n {
		node, err := cp.Clientset.CoreV1().Nodes().Create(ctx, NewNode(fmt.Sprintf("%s-%d", prefix, i), shape), metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("creating node: %w", err)
		}
		nodes = append(nodes, node)
	}
	return nodes, nil
}

// NewNode returns a Ready node of the given shape, as a kubelet would register it.
func NewNode(name string, shape NodeShape) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(shape.CPU),
		corev1.ResourceMemory: resource.MustParse(shape.Memory),
		corev1.ResourcePods:   *resource.NewQuantity(shape.Pods, resource.DecimalSI),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{corev1.LabelHostname: name, "farm.toinfn.it/simulated": "true"},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Conditions: []corev1.NodeCondition{{
				Type:               corev1.NodeReady,
				Status:             corev1.ConditionTrue,
				Reason:             "KubeletReady",
				LastHeartbeatTime:  metav1.Now(),
				LastTransitionTime: metav1.Now(),
			}},
			Phase: corev1.NodeRunning,
		},
	}
}

// DefaultExecutorResources is the request of one simulated executor: a quarter of a default node.
var DefaultExecutorResources = corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("1"),
	corev1.ResourceMemory: resource.MustParse("4Gi"),
}

// ExecutorGracePeriod is the simulated executors' termination grace period: long enough to see
// an executor decommission, short enough for tests.
const ExecutorGracePeriod = 2

// ExecutorPod returns a Spark-like executor pod for farm-scheduler, labelled labelKey=labelValue.
func ExecutorPod(namespace, name, labelKey, labelValue string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      name,
			Labels:    map[string]string{labelKey: labelValue},
		},
		Spec: corev1.PodSpec{
			SchedulerName:                 quota.SchedulerName,
			TerminationGracePeriodSeconds: ptr.To[int64](ExecutorGracePeriod),
			Containers: []corev1.Container{{
				Name:      "executor",
				Image:     "apache/spark:3.5.3",
				Resources: corev1.ResourceRequirements{Requests: DefaultExecutorResources, Limits: DefaultExecutorResources},
			}},
		},
	}
}

// CreateNamespace creates a namespace; one that already exists is fine.
func (cp *ControlPlane) CreateNamespace(ctx context.Context, name string) error {
	_, err := cp.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}
