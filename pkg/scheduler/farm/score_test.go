package farm

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

func TestElasticQuotaScorer(t *testing.T) {
	// alice borrows (3 assigned, min 1); bob is at its minimum (1 of 1); carol is below (0 of 2);
	// condor is another farm type that borrows.
	farms := []*farmv1alpha1.Farm{
		newFarm("alice", "f", t0, "spark-role", "executor", 1, 0),
		newFarm("bob", "f", t0, "spark-role", "executor", 1, 0),
		newFarm("carol", "f", t0, "spark-role", "executor", 2, 0),
		newFarm("condor", "f", t0, "app", "worker", 0, 0),
		newFarm("dask", "f", t0, "app", "dask-worker", 0, 0),
	}
	worker := func(name, node string) *corev1.Pod {
		return st.MakePod().Namespace("condor").Name(name).UID("condor/"+name).Label("app", "worker").Node(node).Obj()
	}
	running := map[string][]*corev1.Pod{
		"n1": {executor("alice", "a1", "n1"), executor("alice", "a2", "n1")},
		"n2": {executor("alice", "a3", "n2"), executor("bob", "b1", "n2")},
		"n3": {worker("w1", "n3"), worker("w2", "n3")},
		"n4": {},
	}
	var pods []*corev1.Pod
	for _, ps := range running {
		pods = append(pods, ps...)
	}
	p := newTestPlugin(t, farms, pods)

	nodeInfo := func(name string) fwk.NodeInfo {
		ni := framework.NewNodeInfo(running[name]...)
		ni.SetNode(st.MakeNode().Name(name).Obj())
		return ni
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		// want are the normalized scores of n1..n4; nil means the scorer skips the pod.
		want []int64
	}{
		{name: "borrowing pod packs onto borrowed executors", pod: executor("alice", "new", ""), want: []int64{100, 50, 0, 0}},
		{name: "pod at its minimum will borrow too", pod: executor("bob", "new", ""), want: []int64{100, 100, 0, 0}},
		{name: "guaranteed pod is not steered", pod: executor("carol", "new", ""), want: nil},
		{name: "pod of no Farm is not steered", pod: executor("nofarm", "new", ""), want: nil},
		{name: "other farm type counts its own borrowers only", pod: worker("new", ""), want: []int64{0, 0, 100, 0}},
		{name: "no borrowed executor of the type anywhere: nothing to prefer", pod: func() *corev1.Pod {
			p := worker("new", "")
			p.Namespace, p.Labels["app"] = "dask", "dask-worker"
			return p
		}(), want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := framework.NewCycleState()
			if _, s := p.PreFilter(t.Context(), state, tc.pod, nil); !s.IsSuccess() {
				t.Fatalf("PreFilter: %v", s)
			}
			s := p.PreScore(t.Context(), state, tc.pod, nil)
			if tc.want == nil {
				if !s.IsSkip() {
					t.Fatalf("PreScore = %v, want Skip", s)
				}
				return
			}
			if !s.IsSuccess() {
				t.Fatalf("PreScore: %v", s)
			}
			var scores fwk.NodeScoreList
			for _, n := range []string{"n1", "n2", "n3", "n4"} {
				score, s := p.Score(t.Context(), state, tc.pod, nodeInfo(n))
				if !s.IsSuccess() {
					t.Fatalf("Score(%s): %v", n, s)
				}
				scores = append(scores, fwk.NodeScore{Name: n, Score: score})
			}
			if s := p.NormalizeScore(t.Context(), state, tc.pod, scores); !s.IsSuccess() {
				t.Fatalf("NormalizeScore: %v", s)
			}
			var got []int64
			for _, s := range scores {
				got = append(got, s.Score)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scores of n1..n4 (-want +got):\n%s", diff)
			}
		})
	}
}
