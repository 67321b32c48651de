package harness

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAdmission(t *testing.T) {
	requests := func(cpu, memory string) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
	}
	pod := func(r corev1.ResourceList, mutate ...func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: r}}}}}
		for _, m := range mutate {
			m(p)
		}
		return p
	}
	pods := func(n int, r corev1.ResourceList) []*corev1.Pod {
		var ps []*corev1.Pod
		for range n {
			ps = append(ps, pod(r))
		}
		return ps
	}
	executor := requests("1", "4Gi")
	node := NewNode("n", DefaultNodeShape).Status.Allocatable // 4 cpu, 16Gi, 110 pods
	withGPUs := node.DeepCopy()
	withGPUs["example.com/gpu"] = resource.MustParse("2")
	terminating := func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} }
	failed := func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }
	initContainer := func(cpu string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Requests: requests(cpu, "0")}}}
		}
	}
	gpus := func(n string) corev1.ResourceList {
		r := requests("0", "0")
		r["example.com/gpu"] = resource.MustParse(n)
		return r
	}

	tests := []struct {
		name        string
		pod         *corev1.Pod
		allocatable corev1.ResourceList
		running     []*corev1.Pod
		// wantReason is empty for an admitted pod.
		wantReason, wantMessage string
	}{{
		name:        "fits exactly",
		pod:         pod(executor),
		allocatable: node,
		running:     pods(3, executor),
	}, {
		name:        "cpu short",
		pod:         pod(requests("2", "1Gi")),
		allocatable: node,
		running:     pods(3, executor),
		wantReason:  "OutOfcpu",
		wantMessage: "Node didn't have enough resource: cpu, requested: 2000, used: 3000, capacity: 4000",
	}, {
		name:        "memory short",
		pod:         pod(requests("100m", "8Gi")),
		allocatable: node,
		running:     pods(3, executor),
		wantReason:  "OutOfmemory",
		wantMessage: "Node didn't have enough resource: memory, requested: 8589934592, used: 12884901888, capacity: 17179869184",
	}, {
		name:        "pod count short",
		pod:         pod(nil),
		allocatable: NewNode("n", NodeShape{CPU: "4", Memory: "16Gi", Pods: 2}).Status.Allocatable,
		running:     pods(2, nil),
		wantReason:  "OutOfpods",
		wantMessage: "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
	}, {
		name:        "init container larger than the containers counted",
		pod:         pod(executor, initContainer("2")),
		allocatable: node,
		running:     pods(3, executor),
		wantReason:  "OutOfcpu",
		wantMessage: "Node didn't have enough resource: cpu, requested: 2000, used: 3000, capacity: 4000",
	}, {
		name:        "terminating pods still count",
		pod:         pod(executor),
		allocatable: node,
		running:     append(pods(3, executor), pod(executor, terminating)),
		wantReason:  "OutOfcpu",
		wantMessage: "Node didn't have enough resource: cpu, requested: 1000, used: 4000, capacity: 4000",
	}, {
		name:        "a failed pod does not count",
		pod:         pod(executor),
		allocatable: node,
		running:     append(pods(3, executor), pod(executor, failed)),
	}, {
		name:        "extended resource short",
		pod:         pod(gpus("2")),
		allocatable: withGPUs,
		running:     []*corev1.Pod{pod(gpus("1"))},
		wantReason:  "OutOfexample.com/gpu",
		wantMessage: "Node didn't have enough resource: example.com/gpu, requested: 2, used: 1, capacity: 2",
	}, {
		name:        "extended resource the node does not list is left to others",
		pod:         pod(gpus("2")),
		allocatable: node,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason, message := admitPod(tt.pod, tt.allocatable, tt.running)
			if ok != (tt.wantReason == "") || reason != tt.wantReason || message != tt.wantMessage {
				t.Errorf("admitPod = %v, %q, %q; want %v, %q, %q", ok, reason, message, tt.wantReason == "", tt.wantReason, tt.wantMessage)
			}
		})
	}
}
