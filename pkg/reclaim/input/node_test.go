package input

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim"
)

const gi = int64(1 << 30)

// oneExecutor is what a waiting executor of these tests requests: one CPU and 1Gi.
var oneExecutor = framework.NewResource(corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("1"),
	corev1.ResourceMemory: resource.MustParse("1Gi"),
})

func TestNodeReaderRead(t *testing.T) {
	// alice borrows (a victim farm); bob is of the same type but is no victim farm; alice's
	// workers farm is of another type.
	farms := []*farmv1alpha1.Farm{farm("alice").obj(), farm("bob").obj(), farm("alice").ofType("workers", "app", "worker").obj()}
	// a1 is alice's executor on n1, a node of 4 CPU and 8Gi: the same pod in every case, with
	// one condition changed.
	a1 := func() *podBuilder { return executor("alice", "a1").on("n1") }
	newReader := func() *NodeReader {
		return &NodeReader{
			Dimensions: DimensionsOf([]fwk.Resource{oneExecutor}),
			Budgets:    NewBudgets(nil),
			Farms:      map[types.NamespacedName]reclaim.Farm{key("alice"): {Overquota: 1}},
			Owner:      ownerAmong(farms...),
			Now:        t0,
			PassedOver: map[types.NamespacedName]string{},
		}
	}
	read := func(pod *corev1.Pod, r *NodeReader) (reclaim.Node, []*corev1.Pod) {
		return r.Read(nodeInfo(node("n1").obj(), pod))
	}

	// Without a condition, a1 is a victim and holds its room.
	asVictim := reclaim.Node{
		Name: "n1",
		Room: reclaim.Resources{3000, 7 * gi, 31},
		Victims: []reclaim.Victim{{
			ID: "alice/a1", Farm: key("alice"), Request: reclaim.Resources{1000, gi, 1}, Started: t0,
		}},
	}
	holdingRoom := reclaim.Node{Name: "n1", Room: reclaim.Resources{3000, 7 * gi, 31}}
	leaving := reclaim.Node{Name: "n1", Room: reclaim.Resources{4000, 8 * gi, 32}, Leaving: true}

	tests := []struct {
		name string
		// pod and reader set the condition (nil: none).
		pod            func(*podBuilder) *podBuilder
		reader         func(*NodeReader)
		want           reclaim.Node
		wantPassedOver map[types.NamespacedName]string
	}{
		{
			name: "an executor of a victim farm is a victim and holds its room",
			want: asVictim,
		},
		{
			name: "deleted, within its grace period: its room is room and the node is leaving",
			pod:  func(b *podBuilder) *podBuilder { return b.deletedUntil(30 * time.Second) },
			want: leaving,
		},
		{
			name: "past its deadline by less than LeavingMargin: still leaving",
			pod:  func(b *podBuilder) *podBuilder { return b.deletedUntil(-quota.LeavingMargin + time.Second) },
			want: leaving,
		},
		{
			name: "past its deadline by LeavingMargin: stuck, it holds its room and is no victim",
			pod:  func(b *podBuilder) *podBuilder { return b.deletedUntil(-quota.LeavingMargin) },
			want: holdingRoom,
		},
		{
			name: "decommissioned by Spark, with no deadline: it holds its room and is no victim",
			pod:  func(b *podBuilder) *podBuilder { return b.label(quota.DecommissioningLabel, "") },
			want: holdingRoom,
		},
		{
			name: "inactive by Spark: it holds its room and is no victim",
			pod:  func(b *podBuilder) *podBuilder { return b.label(quota.SparkInactiveLabel, "true") },
			want: holdingRoom,
		},
		{
			name:   "evicted by the reader, not terminating yet: its room is room and the node is leaving",
			reader: func(r *NodeReader) { r.Evicting = func(uid types.UID) bool { return uid == "alice/a1" } },
			want:   leaving,
		},
		{
			name: "leaving, of a farm that is no victim farm: its room is room all the same",
			pod:  func(b *podBuilder) *podBuilder { return b.deletedUntil(30 * time.Second) },
			reader: func(r *NodeReader) {
				r.Farms = map[types.NamespacedName]reclaim.Farm{key("bob"): {Overquota: 1}}
			},
			want: leaving,
		},
		{
			name: "an executor of a farm of the type that is no victim farm: no victim",
			reader: func(r *NodeReader) {
				r.Farms = map[types.NamespacedName]reclaim.Farm{key("bob"): {Overquota: 1}}
			},
			want: holdingRoom,
		},
		{
			name: "an executor of another farm type: no victim",
			pod:  func(b *podBuilder) *podBuilder { return b.label("spark-role", "none").label("app", "worker") },
			want: holdingRoom,
		},
		{
			name: "a pod of no farm (a driver): no victim",
			pod:  func(b *podBuilder) *podBuilder { return b.label("spark-role", "driver") },
			want: holdingRoom,
		},
		{
			name: "its eviction was refused: its farm is passed over, with the reason",
			reader: func(r *NodeReader) {
				r.Refused = func(uid types.UID) (string, bool) {
					return "Cannot evict pod as it would violate the pod's disruption budget.", uid == "alice/a1"
				}
			},
			want:           holdingRoom,
			wantPassedOver: map[types.NamespacedName]string{key("alice"): "Cannot evict pod as it would violate the pod's disruption budget."},
		},
		{
			name: "its eviction was refused, nobody collects the reasons: no victim all the same",
			reader: func(r *NodeReader) {
				r.Refused = func(uid types.UID) (string, bool) { return "refused", uid == "alice/a1" }
				r.PassedOver = nil
			},
			want: holdingRoom,
		},
		{
			name: "a PodDisruptionBudget that allows no disruption: its farm is passed over, naming it",
			reader: func(r *NodeReader) {
				r.Budgets = NewBudgets([]*policy.PodDisruptionBudget{pdb("alice", "executors", 0).obj()})
			},
			want:           holdingRoom,
			wantPassedOver: map[types.NamespacedName]string{key("alice"): "PodDisruptionBudget alice/executors allows no disruption"},
		},
		{
			name: "a PodDisruptionBudget that allows some: a victim that draws on it, by index",
			reader: func(r *NodeReader) {
				r.Budgets = NewBudgets([]*policy.PodDisruptionBudget{pdb("bob", "executors", 0).obj(), pdb("alice", "executors", 2).obj()})
			},
			want: func() reclaim.Node {
				n := asVictim
				n.Victims = []reclaim.Victim{asVictim.Victims[0]}
				n.Victims[0].Budgets = []int{1}
				return n
			}(),
		},
	}
	opts := cmpopts.EquateEmpty()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Without the condition, the same pod is a victim.
			base, basePods := read(a1().obj(), newReader())
			if diff := cmp.Diff(asVictim, base, opts); diff != "" || len(basePods) != 1 {
				t.Fatalf("without the condition (-want +got):\n%s", diff)
			}

			pod := a1()
			if tc.pod != nil {
				pod = tc.pod(pod)
			}
			r := newReader()
			if tc.reader != nil {
				tc.reader(r)
			}
			got, pods := read(pod.obj(), r)
			if diff := cmp.Diff(tc.want, got, opts); diff != "" {
				t.Errorf("Read (-want +got):\n%s", diff)
			}
			if len(pods) != len(got.Victims) {
				t.Errorf("Read returned %d pods for %d victims", len(pods), len(got.Victims))
			}
			if diff := cmp.Diff(tc.wantPassedOver, r.PassedOver, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("PassedOver (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNodeReaderReadsEveryPod reads a node of many pods at once: the victims come in the
// node's order with their pods beside them, and the room adds up what each pod holds or frees.
func TestNodeReaderReadsEveryPod(t *testing.T) {
	farms := []*farmv1alpha1.Farm{farm("alice").obj(), farm("bob").obj()}
	pods := []*corev1.Pod{
		executor("alice", "a1").on("n1").obj(),
		executor("alice", "a2").on("n1").deletedUntil(time.Minute).obj(),     // leaving
		executor("bob", "b1").on("n1").obj(),                                 // no victim farm
		executor("alice", "d1").on("n1").label("spark-role", "driver").obj(), // no farm
		executor("alice", "a3").on("n1").priority(5).createdAfter(time.Hour).notStarted().obj(),
		executor("alice", "a4").on("n1").deletedUntil(-time.Hour).obj(), // stuck
	}
	r := &NodeReader{
		Dimensions: DimensionsOf([]fwk.Resource{oneExecutor}),
		Budgets:    NewBudgets(nil),
		Farms:      map[types.NamespacedName]reclaim.Farm{key("alice"): {Overquota: 2}},
		Owner:      ownerAmong(farms...),
		Now:        t0,
	}
	got, victims := r.Read(nodeInfo(node("n1").capacity(corev1.ResourceCPU, "8").capacity(corev1.ResourceMemory, "16Gi").obj(), pods...))

	want := reclaim.Node{
		Name: "n1",
		// 8 CPU, 16Gi and 32 pods, less six pods of one CPU and 1Gi, plus a2's.
		Room:    reclaim.Resources{3000, 11 * gi, 27},
		Leaving: true,
		Victims: []reclaim.Victim{
			{ID: "alice/a1", Farm: key("alice"), Request: reclaim.Resources{1000, gi, 1}, Started: t0},
			// Not started yet: started when created.
			{ID: "alice/a3", Farm: key("alice"), Request: reclaim.Resources{1000, gi, 1}, Priority: 5, Started: t0.Add(time.Hour)},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
	var names []string
	for _, v := range victims {
		names = append(names, v.Name)
	}
	if diff := cmp.Diff([]string{"a1", "a3"}, names); diff != "" {
		t.Errorf("victims' pods (-want +got):\n%s", diff)
	}
}

func TestHoldsRoom(t *testing.T) {
	tests := []struct {
		name     string
		priority int32
		want     bool
	}{
		{name: "a nominated pod of higher priority holds its room", priority: 10, want: true},
		{name: "one of the same priority holds it too", priority: 5, want: true},
		{name: "one of lower priority does not", priority: 1, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nominated := executor("bob", "b1").priority(tc.priority).nominatedTo("n1").obj()
			if got := HoldsRoom(nominated, 5); got != tc.want {
				t.Errorf("HoldsRoom(priority %d, against 5) = %v, want %v", tc.priority, got, tc.want)
			}
		})
	}
}
