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

// signTestFarms are farms in every standing the signature tells apart: alice and dave borrow,
// bob is at its minimum, carol below it, erin at its ceiling; condor borrows in another farm type.
func signTestFarms() ([]*farmv1alpha1.Farm, []*corev1.Pod) {
	farms := []*farmv1alpha1.Farm{
		guaranteed("alice", 1),
		borrower("dave"),
		guaranteed("bob", 1),
		guaranteed("carol", 2),
		newFarm("erin", "f", t0, "spark-role", "executor", 1, 2),
		newFarm("condor", "f", t0, "app", "worker", 0, 0),
	}
	pods := []*corev1.Pod{
		spark("alice", "a1", "n1"), spark("alice", "a2", "n1"), spark("alice", "a3", "n2"),
		spark("dave", "d1", "n3"),
		spark("bob", "b1", "n2"),
		spark("erin", "e1", "n3"), spark("erin", "e2", "n4"),
		condorWorker("condor", "w1", "n4"),
	}
	return farms, pods
}

func TestSignPod(t *testing.T) {
	farms, pods := signTestFarms()
	p := newTestPlugin(t, farms, pods)
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{name: "borrowing farm: its type alone", pod: spark("alice", "new", ""), want: "spark-role=executor"},
		{name: "another borrowing farm of the type signs alike", pod: spark("dave", "new", ""), want: "spark-role=executor"},
		{name: "farm at its minimum: its own executors count too", pod: spark("bob", "new", ""), want: "spark-role=executor/bob/f"},
		{name: "guaranteed pod is not steered", pod: spark("carol", "new", ""), want: ""},
		{name: "farm at its ceiling is refused before scoring", pod: spark("erin", "new", ""), want: ""},
		{name: "pod of no Farm", pod: spark("nofarm", "new", ""), want: ""},
		{name: "other farm type", pod: condorWorker("condor", "new", ""), want: "app=worker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, s := p.SignPod(t.Context(), tc.pod)
			if !s.IsSuccess() {
				t.Fatalf("SignPod: %v", s)
			}
			if diff := cmp.Diff([]fwk.SignFragment{{Key: signKey, Value: tc.want}}, got); diff != "" {
				t.Errorf("SignPod (-want +got):\n%s", diff)
			}
		})
	}
}

// The signature's contract: pods that sign alike get the same scores on the same nodes, so a pod
// may take the next node of the previous pod's scored list.
func TestPodsThatSignAlikeScoreAlike(t *testing.T) {
	farms, running := signTestFarms()
	p := newTestPlugin(t, farms, running)
	nodes := map[string][]*corev1.Pod{}
	for _, pod := range running {
		nodes[pod.Spec.NodeName] = append(nodes[pod.Spec.NodeName], pod)
	}
	nodes["n5"] = nil
	// scores returns Farm's normalized scores of n1..n5 for pod, nil when it does not score it.
	scores := func(t *testing.T, pod *corev1.Pod) []int64 {
		state := framework.NewCycleState()
		if _, s := p.PreFilter(t.Context(), state, pod, nil); !s.IsSuccess() {
			return nil // refused before scoring
		}
		if s := p.PreScore(t.Context(), state, pod, nil); s.IsSkip() {
			return nil
		} else if !s.IsSuccess() {
			t.Fatalf("PreScore: %v", s)
		}
		var list fwk.NodeScoreList
		for _, n := range []string{"n1", "n2", "n3", "n4", "n5"} {
			ni := framework.NewNodeInfo(nodes[n]...)
			ni.SetNode(st.MakeNode().Name(n).Obj())
			score, s := p.Score(t.Context(), state, pod, ni)
			if !s.IsSuccess() {
				t.Fatalf("Score(%s): %v", n, s)
			}
			list = append(list, fwk.NodeScore{Name: n, Score: score})
		}
		if s := p.NormalizeScore(t.Context(), state, pod, list); !s.IsSuccess() {
			t.Fatalf("NormalizeScore: %v", s)
		}
		var got []int64
		for _, s := range list {
			got = append(got, s.Score)
		}
		return got
	}
	tests := []struct {
		name string
		a, b *corev1.Pod
		// scored says whether Farm scores these pods: where it does not, both score nil alike.
		scored bool
	}{
		{name: "two borrowing farms", a: spark("alice", "new", ""), b: spark("dave", "new", ""), scored: true},
		{name: "guaranteed pod and pod of no Farm", a: spark("carol", "new", ""), b: spark("nofarm", "new", "")},
		{name: "pod at its ceiling and guaranteed pod", a: spark("erin", "new", ""), b: spark("carol", "new", "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signA, _ := p.SignPod(t.Context(), tc.a)
			signB, _ := p.SignPod(t.Context(), tc.b)
			if diff := cmp.Diff(signA, signB); diff != "" {
				t.Fatalf("the pods sign differently (-a +b):\n%s", diff)
			}
			a := scores(t, tc.a)
			if (a != nil) != tc.scored {
				t.Fatalf("Farm scores %s: %v, want scored %v", tc.a.Name, a, tc.scored)
			}
			if diff := cmp.Diff(a, scores(t, tc.b)); diff != "" {
				t.Errorf("pods that sign alike score differently (-a +b):\n%s", diff)
			}
		})
	}
	// And a farm at its minimum, which counts its own executors, signs apart from the others.
	atMin, _ := p.SignPod(t.Context(), spark("bob", "new", ""))
	borrowing, _ := p.SignPod(t.Context(), spark("alice", "new", ""))
	if cmp.Equal(atMin, borrowing) {
		t.Errorf("a farm at its minimum signs as the borrowing farms do: %v", atMin)
	}
	if cmp.Equal(scores(t, spark("bob", "new", "")), scores(t, spark("alice", "new", ""))) {
		t.Errorf("the test does not tell the farm at its minimum apart: give bob executors where the borrowers have none")
	}
}
