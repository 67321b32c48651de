package reclaim

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/reclaim/preview"
	"github.com/toinfn/farm/test/harness"
)

// TestWhatIfAgreesWithTheScheduler: kubectl farm what-if, run on a full cluster before a farm
// below its minimum asks for executors, names the farms and counts the scheduler then takes,
// with each farm's hysteresis; and what it previews, it does not do.
func TestWhatIfAgreesWithTheScheduler(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "whatif", 3, triggerInterval("1s"))
	b := s.farm("b", 4, 0, 0)
	a := s.farm("a", 0, 0, 2)
	c := s.farm("c", 3, 0, 1)
	// b holds one of its four; a (minimum 0) and c (minimum 3) fill the other 11 slots.
	s.executors(b, 0, 1)
	s.waitRunning(b, 1, time.Minute)
	s.executors(a, 0, 6)
	s.waitRunning(a, 6, time.Minute)
	s.executors(c, 0, 5)
	s.waitRunning(c, 5, time.Minute)

	r := s.whatIf(b, "--executors", "3", "-o", "json")
	got := map[string]int32{}
	for _, rc := range r.Reclaims {
		got[rc.Farm] = rc.Executors
	}
	// Proportional to what each borrows (6 and 2): 2.25 and 0.75 of 3, by largest remainder.
	if diff := cmp.Diff(map[string]int32{a.String(): 2, c.String(): 1}, got); diff != "" {
		t.Fatalf("what-if's reclaim by farm (-want +got):\n%s\npreview: %+v", diff, r)
	}
	if r.Guaranteed != 3 || r.Placed != 3 || r.FreeRoom != 0 || len(r.Unplaced) != 0 {
		t.Errorf("what-if: %d guaranteed, %d placed (%d on free room), unplaced %q; want 3, 3 (0)", r.Guaranteed, r.Placed, r.FreeRoom, r.Unplaced)
	}
	for _, rc := range r.Reclaims {
		if want := map[string]int32{a.String(): 2, c.String(): 1}[rc.Farm]; rc.TriggersToGo() != want {
			t.Errorf("what-if: farm %s loses executors at trigger %d from now, want %d (scaledownAfterNTriggers)", rc.Farm, rc.TriggersToGo(), want)
		}
	}
	// The same for people: a row per farm that loses executors, with when.
	table := s.mustWhatIf(b, "--executors", "3")
	for _, want := range []string{"its minimum covers 3 of the 3", "FARM", a.String() + " ", "at the 2nd trigger from now", c.String() + " ", "at the next trigger"} {
		if !strings.Contains(table, want) {
			t.Errorf("what-if's text lacks %q:\n%s", want, table)
		}
	}
	t.Logf("kubectl farm what-if %s --executors 3:\n%s", b, table)

	// Read-only: nothing was evicted, nothing changed on the farms.
	time.Sleep(settle)
	if n := len(s.evicted.counts()); n != 0 {
		t.Fatalf("what-if evicted executors: %v", s.evicted.counts())
	}

	// The scheduler, asked for the same, does what the preview said.
	s.executors(b, 1, 3)
	s.waitRunning(b, 4, time.Minute)
	time.Sleep(settle)
	want := map[string]int{a.Namespace: 2, c.Namespace: 1}
	if diff := cmp.Diff(want, s.evicted.counts()); diff != "" {
		t.Errorf("the scheduler's evictions by namespace differ from the preview's (-preview +scheduler):\n%s", diff)
	}

	// At its minimum, more executors would borrow.
	text := s.mustWhatIf(b, "--executors", "1")
	for _, want := range []string{"What if farm " + b.String() + " asked for 1 executor more", "its minimum covers 0 of the 1", "1 would borrow"} {
		if !strings.Contains(text, want) {
			t.Errorf("what-if's text lacks %q:\n%s", want, text)
		}
	}
	t.Logf("preview before: %+v; evictions after: %v", got, s.evicted.counts())
}

// whatIf runs kubectl farm what-if with -o json on the administrator's kubeconfig.
func (s *scenario) whatIf(farm types.NamespacedName, args ...string) preview.Result {
	t := s.t
	t.Helper()
	var r preview.Result
	if err := json.Unmarshal([]byte(s.mustWhatIf(farm, args...)), &r); err != nil {
		t.Fatalf("kubectl farm what-if %v: %v", args, err)
	}
	return r
}

// mustWhatIf runs kubectl farm what-if on the administrator's kubeconfig and returns its output.
func (s *scenario) mustWhatIf(farm types.NamespacedName, args ...string) string {
	t := s.t
	t.Helper()
	full := append([]string{"--kubeconfig=" + s.cluster.Kubeconfig, "what-if", farm.String()}, args...)
	r := harness.RunCommand(t.Context(), t, nil, "kubectl-farm", full...)
	if r.ExitCode != 0 {
		t.Fatalf("kubectl-farm %v exited %d\nstdout:\n%s\nstderr:\n%s", full, r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// TestWhatIfAgreesInRealConditions: the same agreement with executors of two sizes, node pools,
// a PodDisruptionBudget and a cordoned node. Farm b (minimum 3) holds one 2-CPU executor in pool
// x and asks for two more; the only room the rules allow is a's 2-CPU executor on x0 and two of
// c's 1-CPU executors on x1: p's are protected by a budget, d's are in the other pool, and the
// cordoned node of pool x, empty, takes no pod.
func TestWhatIfAgreesInRealConditions(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "whatif-real", 0, triggerInterval("1s"))
	s.node("x0", inPool("x"))
	s.node("x1", inPool("x"))
	s.node("y0", inPool("y"))
	s.node("z0", func(n *corev1.Node) {
		inPool("x")(n)
		n.Spec.Unschedulable = true
	})
	p := s.farm("p", 0, 0, 0)
	a := s.farm("a", 0, 0, 0)
	c := s.farm("c", 0, 0, 0)
	d := s.farm("d", 0, 0, 0)
	b := s.farm("b", 3, 0, 0)
	s.executorsWith(p, 0, 2, sized(1), onHost(s.id+"-x0"))
	s.waitRunning(p, 2, time.Minute)
	s.protect(p.Namespace, s.labelKey, 2)
	s.executorsWith(a, 0, 1, sized(2), onHost(s.id+"-x0"))
	s.waitRunning(a, 1, time.Minute)
	// x0 is full and z0 cordoned: b's first executor goes to x1. Its pool and size are what
	// what-if takes for the executors asked for.
	s.executorsWith(b, 0, 1, sized(2), onPool("x"))
	s.waitRunning(b, 1, time.Minute)
	s.executorsWith(c, 0, 2, sized(1), onHost(s.id+"-x1"))
	s.waitRunning(c, 2, time.Minute)
	s.executorsWith(d, 0, 4, sized(1), onHost(s.id+"-y0"))
	s.waitRunning(d, 4, time.Minute)

	r := s.whatIf(b, "--executors", "2", "-o", "json")
	got := map[string]int32{}
	gotNodes := map[string]bool{}
	for _, rc := range r.Reclaims {
		got[rc.Farm] = rc.Executors
		for _, n := range rc.Nodes {
			gotNodes[n.Node] = true
		}
	}
	if diff := cmp.Diff(map[string]int32{a.String(): 1, c.String(): 2}, got); diff != "" {
		t.Fatalf("what-if's reclaim by farm (-want +got):\n%s\npreview: %+v", diff, r)
	}
	if r.Guaranteed != 2 || r.Placed != 2 || r.FreeRoom != 0 {
		t.Errorf("what-if: %d guaranteed, %d placed (%d on free room); want 2, 2 (0: the cordoned node's room is no room)", r.Guaranteed, r.Placed, r.FreeRoom)
	}
	if !slices.ContainsFunc(r.PassedOver, func(why string) bool { return strings.Contains(why, "PodDisruptionBudget "+p.Namespace+"/keep-all") }) {
		t.Errorf("what-if does not say the budget protects %s: passed over %q", p, r.PassedOver)
	}
	time.Sleep(settle)
	if n := len(s.evicted.counts()); n != 0 {
		t.Fatalf("what-if evicted executors: %v", s.evicted.counts())
	}

	s.executorsWith(b, 1, 2, sized(2), onPool("x"))
	s.waitRunning(b, 3, time.Minute)
	time.Sleep(settle)
	if diff := cmp.Diff(map[string]int{a.Namespace: 1, c.Namespace: 2}, s.evicted.counts()); diff != "" {
		t.Errorf("the scheduler's evictions by namespace differ from the preview's (-preview +scheduler):\n%s", diff)
	}
	evictedOn := s.evicted.evictedNodes()
	slices.Sort(evictedOn)
	if diff := cmp.Diff(slices.Sorted(maps.Keys(gotNodes)), evictedOn); diff != "" {
		t.Errorf("the scheduler evicted on other nodes than the preview said (-preview +scheduler):\n%s", diff)
	}
	t.Logf("preview: %v on %v; the scheduler's evictions: %v", got, slices.Sorted(maps.Keys(gotNodes)), s.evicted.counts())
}

// onHost pins an executor to one node.
func onHost(node string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.NodeSelector[corev1.LabelHostname] = node }
}
