package reclaim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
