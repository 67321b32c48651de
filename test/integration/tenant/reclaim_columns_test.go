package tenant

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

// The farm type and the node of the reclaim the columns are read during. The node is tainted
// and only this test's executors tolerate it: pending executors of other tests (which no
// scheduler ran for) must not take its room once farm-scheduler runs.
const (
	columnsLabelKey = "farm-test.toinfn.it/columns"
	columnsNode     = "columns-0"
	// victimGracePeriod keeps the reclaimed executors terminating long after kubectl has read
	// the columns; the test ends them itself once it has.
	victimGracePeriod = 300
)

// columnsExecutor is an executor of the test's farm type, for its node only.
func columnsExecutor(ns, name string, grace int64) *corev1.Pod {
	p := harness.ExecutorPod(ns, name, columnsLabelKey, "executor")
	p.Spec.NodeSelector = map[string]string{corev1.LabelHostname: columnsNode}
	p.Spec.Tolerations = []corev1.Toleration{{Key: columnsLabelKey, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	p.Spec.TerminationGracePeriodSeconds = ptr.To(grace)
	return p
}

// TestColumnsDuringAReclaim: with the built farm-scheduler and farm-controller running, a farm
// below its minimum takes room back from a borrower, and the real kubectl shows it in the
// BORROWED, RECLAIMING and GUARANTEE MET columns while the victims are still terminating, and
// shows the farms settled once they are gone.
func TestColumnsDuringAReclaim(t *testing.T) {
	ctx := t.Context()
	node := harness.NewNode(columnsNode, harness.DefaultNodeShape)
	node.Spec.Taints = []corev1.Taint{{Key: columnsLabelKey, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	if _, err := cluster.Clientset.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sched := cluster.StartSchedulerBinary(t, cluster.SchedulerConfig(t, nil))
	ctrl := cluster.StartControllerBinary(t)

	// lender (minimum 1) borrows the whole node; waiter (minimum 2) then needs two of its slots.
	farms := map[string]int32{"lender": 1, "waiter": 2}
	for name, min := range farms {
		ns := "columns-" + name
		if err := cluster.CreateNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
		if err := cluster.Client.Create(ctx, &farmv1alpha1.Farm{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       farmv1alpha1.FarmSpec{LabelKey: columnsLabelKey, LabelValue: "executor", MinExecutors: min},
		}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(ns string, n int, grace int64) {
		t.Helper()
		for i := range n {
			if _, err := cluster.Clientset.CoreV1().Pods(ns).Create(ctx, columnsExecutor(ns, fmt.Sprintf("exec-%d", i), grace), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// row polls kubectl get farms -n ns until the farm's row (without AGE) is want.
	row := func(ns string, want []string) {
		t.Helper()
		var got [][]string
		var last harness.CommandResult
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
			for _, c := range []*harness.ChildProcess{sched, ctrl} {
				if c.Exited() {
					return false, fmt.Errorf("a component exited:\n%s", c.Output())
				}
			}
			last = kubectl(t, cluster.Kubeconfig, "get", "farms", "-n", ns)
			got = withoutAge(cells(last.Stdout))
			return last.ExitCode == 0 && len(got) == 2 && slices.Equal(got[1], want), nil
		})
		if err != nil {
			t.Fatalf("kubectl get farms -n %s never showed %q: %v\nlast: exit %d\n%s%s", ns, want, err, last.ExitCode, last.Stdout, last.Stderr)
		}
		header := []string{"NAME", "MIN", "MAX (0=NONE)", "RUNNING", "PENDING", "BORROWED", "RECLAIMING", "GUARANTEE MET"}
		if diff := cmp.Diff(header, got[0]); diff != "" {
			t.Errorf("kubectl get farms -n %s header (-want +got):\n%s", ns, diff)
		}
	}

	create("columns-lender", 4, victimGracePeriod)
	row("columns-lender", []string{"lender", "1", "0", "4", "0", "3", "0", "True"})

	create("columns-waiter", 2, harness.ExecutorGracePeriod)
	// Two of lender's executors are evicted and terminate for five minutes: lender runs two, one
	// of them borrowed, with two being reclaimed; waiter's two wait, its guarantee not met.
	row("columns-lender", []string{"lender", "1", "0", "2", "0", "1", "2", "True"})
	row("columns-waiter", []string{"waiter", "2", "0", "0", "2", "0", "0", "False"})
	victims := terminating(t, "columns-lender")
	if len(victims) != 2 {
		t.Fatalf("lender has %d executors terminating after kubectl showed 2 being reclaimed, want 2: %v", len(victims), victims)
	}
	wide := cells(mustKubectl(t, cluster.Kubeconfig, "get", "farms", "-n", "columns-lender", "-o", "wide"))
	if i := slices.Index(wide[0], "LAST RECLAIM"); i < 0 || len(wide) != 2 || wide[1][i] == "<none>" {
		t.Errorf("kubectl get farms -o wide during the reclaim: want lender's LAST RECLAIM set, got %q", wide)
	}

	// The victims' containers exit early, as a decommissioned executor does once its blocks
	// have moved: waiter's executors start and both farms settle.
	for _, name := range victims {
		if err := cluster.Clientset.CoreV1().Pods("columns-lender").Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			t.Fatal(err)
		}
	}
	row("columns-waiter", []string{"waiter", "2", "0", "2", "0", "0", "0", "True"})
	row("columns-lender", []string{"lender", "1", "0", "2", "0", "1", "0", "True"})
}

// terminating returns the names of a namespace's pods that are being deleted.
func terminating(t *testing.T, ns string) []string {
	t.Helper()
	pods, err := cluster.Clientset.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names
}
