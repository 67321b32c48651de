package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/harness"
)

// evictedExecutors lists the namespace's executors evicted by Farm for reason.
func evictedExecutors(t *testing.T, namespace, reason string) []string {
	t.Helper()
	pods, err := cluster.Clientset.CoreV1().Pods(namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods.Items {
		if c := quota.EvictionCondition(&p); c != nil && c.Reason == reason {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

// scaleDownFarm creates a Farm of minimum 2 with the given hysteresis and five running executors
// started a second apart on two nodes (exec-4 the newest), then lowers its ceiling to 3.
func scaleDownFarm(t *testing.T, namespace string, triggers int32) *farmv1alpha1.Farm {
	t.Helper()
	ctx := t.Context()
	createNamespace(t, namespace)
	if _, err := cluster.CreateNodes(ctx, namespace, 2, harness.DefaultNodeShape); err != nil {
		t.Fatal(err)
	}
	farm := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "tenant"},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 2, ScaledownAfterNTriggers: triggers},
	}
	if err := cluster.Client.Create(ctx, farm); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		name := fmt.Sprintf("exec-%d", i)
		createExecutor(t, namespace, name)
		bind(t, namespace, name, fmt.Sprintf("%s-%d", namespace, i%2))
		time.Sleep(1100 * time.Millisecond) // start times a second apart: the newest is known
	}
	waitCounters(t, client.ObjectKeyFromObject(farm), counters{All: 5, Running: 5, Overquota: 3})
	if err := setCeiling(ctx, farm, 3); err != nil {
		t.Fatalf("lowering maxExecutors to 3: %v", err)
	}
	return farm
}

// setCeiling sets the Farm's maxExecutors, as kubectl patch farm does.
func setCeiling(ctx context.Context, farm *farmv1alpha1.Farm, max int32) error {
	patch := []byte(fmt.Sprintf(`{"spec":{"maxExecutors":%d}}`, max))
	return cluster.Client.Patch(ctx, farm, client.RawPatch(types.MergePatchType, patch))
}

func TestLoweredCeilingScalesDownTheNewestAfterNTriggers(t *testing.T) {
	ctx := t.Context()
	p := cluster.StartControllerBinary(t, "--scale-down-trigger-interval=1s")
	farm := scaleDownFarm(t, "scaledown", 3)
	key := client.ObjectKeyFromObject(farm)
	start := time.Now()
	var got []string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		got = evictedExecutors(t, "scaledown", quota.ReasonScaledDown)
		return len(got) >= 2, nil
	})
	if err != nil {
		t.Fatalf("waiting for the scale-down: evicted %v", got)
	}
	took := time.Since(start)
	if diff := cmp.Diff([]string{"exec-3", "exec-4"}, got); diff != "" {
		t.Errorf("scaled-down executors (-want the two newest +got):\n%s", diff)
	}
	// Three triggers one second apart: two intervals at least.
	if took < 2*time.Second {
		t.Errorf("scale-down %.1fs after lowering maxExecutors, before 3 triggers 1s apart", took.Seconds())
	}
	waitCounters(t, key, counters{All: 3, Running: 3, Overquota: 1})
	time.Sleep(2 * time.Second)
	if got := evictedExecutors(t, "scaledown", quota.ReasonScaledDown); len(got) != 0 {
		// The evicted ones are gone; nothing else may have been evicted.
		t.Errorf("more executors scaled down after reaching the ceiling: %v", got)
	}

	// A ceiling below the minimum is refused by the API server, so scale-down never goes below it.
	err = setCeiling(ctx, farm, 1)
	if err == nil || !strings.Contains(err.Error(), "maxExecutors") {
		t.Errorf("scaling below minExecutors: %v, want a refusal naming maxExecutors", err)
	}
	if p.Exited() {
		t.Fatalf("farm-controller exited:\n%s", p.Output())
	}
}

func TestRestartedControllerKeepsStatusAndDoesNotRepeatWork(t *testing.T) {
	ctx := t.Context()
	createNamespace(t, "restart")
	if _, err := cluster.CreateNodes(ctx, "restart", 1, harness.DefaultNodeShape); err != nil {
		t.Fatal(err)
	}
	first := cluster.StartControllerBinary(t, "--failed-executor-retention=1s")
	key := createFarm(t, "restart", "tenant", 1)
	for i := range 2 {
		createExecutor(t, "restart", fmt.Sprintf("exec-%d", i))
		bind(t, "restart", fmt.Sprintf("exec-%d", i), "restart-0")
	}
	failed := createExecutor(t, "restart", "broken")
	bind(t, "restart", "broken", "restart-0")
	waitCounters(t, key, counters{All: 3, Running: 3, Overquota: 2})
	failed, _ = cluster.Clientset.CoreV1().Pods("restart").Get(ctx, failed.Name, metav1.GetOptions{})
	failed.Status.Phase = corev1.PodFailed
	if _, err := cluster.Clientset.CoreV1().Pods("restart").UpdateStatus(ctx, failed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitCounters(t, key, counters{All: 2, Running: 2, Overquota: 1})
	before := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, key, before); err != nil {
		t.Fatal(err)
	}

	first.Stop()
	second := cluster.StartControllerBinary(t, "--failed-executor-retention=1s")
	time.Sleep(3 * time.Second)
	after := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, key, after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("status rewritten by the restarted controller (-before +after):\n%s", cmp.Diff(before.Status, after.Status))
	}
	if n := countEvents(t, "restart", "tenant", "FailedExecutorsCleaned"); n != 1 {
		t.Errorf("%d FailedExecutorsCleaned events across the restart, want 1", n)
	}
	if second.Exited() {
		t.Fatalf("restarted farm-controller exited:\n%s", second.Output())
	}
}

func TestTwoReplicasOnlyTheLeaderWrites(t *testing.T) {
	createNamespace(t, "replicas")
	createNamespace(t, "farm-system")
	args := []string{"--leader-elect", "--leader-election-namespace=farm-system",
		"--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=500ms"}
	a := cluster.StartControllerBinary(t, args...)
	b := cluster.StartControllerBinary(t, args...)
	key := createFarm(t, "replicas", "tenant", 1)
	createExecutor(t, "replicas", "exec-0")
	f := waitCounters(t, key, counters{All: 1, Pending: 1})

	// Exactly one field manager of ours has written status, and exactly one replica leads.
	managers := map[string]bool{}
	for _, m := range f.ManagedFields {
		if m.Subresource == "status" {
			managers[m.Manager] = true
		}
	}
	if !managers["farm-controller"] {
		t.Errorf("status field managers %v, want farm-controller", managers)
	}
	leaders := 0
	for _, p := range []*harness.ChildProcess{a, b} {
		if strings.Contains(p.Output(), "Successfully acquired lease") {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d replicas acquired the lease, want 1\nA:\n%s\nB:\n%s", leaders, a.Output(), b.Output())
	}
	// The leader stops; the standby takes over and keeps status true.
	leader, standby := a, b
	if !strings.Contains(a.Output(), "Successfully acquired lease") {
		leader, standby = b, a
	}
	leader.Stop()
	createExecutor(t, "replicas", "exec-1")
	waitCounters(t, key, counters{All: 2, Pending: 2})
	if !strings.Contains(standby.Output(), "Successfully acquired lease") {
		t.Errorf("the standby never took the lease over:\n%s", standby.Output())
	}
}

// TestControllerKilledMidScaleDown: farm-controller is SIGKILLed while a lowered ceiling's
// hysteresis runs; the one started in its place finishes the scale-down with exactly the
// executors above the ceiling, the newest, and the farm keeps its minimum.
func TestControllerKilledMidScaleDown(t *testing.T) {
	ctx := t.Context()
	args := []string{"--scale-down-trigger-interval=1s"}
	first := cluster.StartControllerBinary(t, args...)
	farm := scaleDownFarm(t, "killed", 4)
	key := client.ObjectKeyFromObject(farm)
	// Mid-hysteresis (4 triggers a second apart): nothing evicted yet when the controller dies.
	time.Sleep(1500 * time.Millisecond)
	if got := evictedExecutors(t, "killed", quota.ReasonScaledDown); len(got) != 0 {
		t.Fatalf("evicted before the hysteresis ran out: %v", got)
	}
	first.Kill()
	second := cluster.StartControllerBinary(t, args...)

	var got []string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		got = evictedExecutors(t, "killed", quota.ReasonScaledDown)
		return len(got) >= 2, nil
	})
	if err != nil {
		t.Fatalf("waiting for the scale-down after the restart: evicted %v", got)
	}
	if diff := cmp.Diff([]string{"exec-3", "exec-4"}, got); diff != "" {
		t.Errorf("scaled-down executors (-want the two newest +got):\n%s", diff)
	}
	waitCounters(t, key, counters{All: 3, Running: 3, Overquota: 1})
	time.Sleep(2 * time.Second)
	if got := evictedExecutors(t, "killed", quota.ReasonScaledDown); len(got) != 0 {
		t.Errorf("more executors scaled down after reaching the ceiling: %v", got)
	}
	if second.Exited() {
		t.Fatalf("restarted farm-controller exited:\n%s", second.Output())
	}
}
