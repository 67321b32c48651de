package input

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2/ktesting"
)

func TestAdmits(t *testing.T) {
	tests := []struct {
		name string
		node *nodeBuilder
		pod  *podBuilder
		want bool
	}{
		{
			name: "no selector, no taint",
			node: node("n1"), pod: executor("alice", "a1"),
			want: true,
		},
		{
			name: "node selector matching the node's labels",
			node: node("n1").label("pool", "gpu"), pod: executor("alice", "a1").nodeSelector("pool", "gpu"),
			want: true,
		},
		{
			name: "node selector of another pool",
			node: node("n1").label("pool", "cpu"), pod: executor("alice", "a1").nodeSelector("pool", "gpu"),
			want: false,
		},
		{
			name: "node selector on a label the node lacks",
			node: node("n1"), pod: executor("alice", "a1").nodeSelector("pool", "gpu"),
			want: false,
		},
		{
			name: "required node affinity the node meets",
			node: node("n1").label("zone", "b"), pod: executor("alice", "a1").requireNodeIn("zone", "a", "b"),
			want: true,
		},
		{
			name: "required node affinity the node does not meet",
			node: node("n1").label("zone", "c"), pod: executor("alice", "a1").requireNodeIn("zone", "a", "b"),
			want: false,
		},
		{
			name: "a NoSchedule taint not tolerated",
			node: node("n1").tainted("dedicated", corev1.TaintEffectNoSchedule), pod: executor("alice", "a1"),
			want: false,
		},
		{
			name: "a NoSchedule taint tolerated",
			node: node("n1").tainted("dedicated", corev1.TaintEffectNoSchedule),
			pod:  executor("alice", "a1").tolerating("dedicated", corev1.TaintEffectNoSchedule),
			want: true,
		},
		{
			name: "a NoExecute taint not tolerated",
			node: node("n1").tainted("dedicated", corev1.TaintEffectNoExecute), pod: executor("alice", "a1"),
			want: false,
		},
		{
			name: "a NoExecute taint tolerated",
			node: node("n1").tainted("dedicated", corev1.TaintEffectNoExecute),
			pod:  executor("alice", "a1").tolerating("dedicated", corev1.TaintEffectNoExecute),
			want: true,
		},
		{
			name: "a NoExecute taint, tolerated for NoSchedule only",
			node: node("n1").tainted("dedicated", corev1.TaintEffectNoExecute),
			pod:  executor("alice", "a1").tolerating("dedicated", corev1.TaintEffectNoSchedule),
			want: false,
		},
		{
			name: "a PreferNoSchedule taint keeps no pod off",
			node: node("n1").tainted("dedicated", corev1.TaintEffectPreferNoSchedule), pod: executor("alice", "a1"),
			want: true,
		},
		{
			name: "the selector matches, but a taint is not tolerated",
			node: node("n1").label("pool", "gpu").tainted("dedicated", corev1.TaintEffectNoSchedule),
			pod:  executor("alice", "a1").nodeSelector("pool", "gpu"),
			want: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logger, _ := ktesting.NewTestContext(t)
			pod := tc.pod.obj()
			if got := Admits(logger, tc.node.obj(), pod, nodeaffinity.GetRequiredNodeAffinity(pod)); got != tc.want {
				t.Errorf("Admits = %v, want %v", got, tc.want)
			}
		})
	}
}
