package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toinfn/farm/test/workload"
)

// TestDemo runs the demo end to end, briefly, on a workload that needs a reclaim: alice fills
// both nodes at once, borrowing six executors beyond her minimum of two; bob arrives later with
// a minimum of four and finds no room, so farm-scheduler must take executors back from alice.
func TestDemo(t *testing.T) {
	opts := options{
		nodes:    2,
		tenants:  2,
		duration: 10 * time.Second,
		logFile:  filepath.Join(t.TempDir(), "farm-demo.log"),
		plan: func(slots int32) []workload.Tenant {
			return []workload.Tenant{
				{Name: "alice", Min: 2, Initial: slots, Executors: slots, JobLength: time.Hour},
				{Name: "bob", Min: 4, Initial: 4, Executors: 4, Arrival: 3 * time.Second, JobLength: time.Hour},
			}
		},
	}
	var out bytes.Buffer
	s, err := run(context.Background(), &out, opts)
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("demo failed: %v", err)
	}

	if s.slots != 8 || s.nodes != 2 {
		t.Errorf("summary of %d slots on %d nodes, want 8 on 2", s.slots, s.nodes)
	}
	byName := map[string]tenantSummary{}
	for _, ts := range s.tenants {
		byName[ts.name] = ts
		if !ts.arrived || !ts.reachedMin {
			t.Errorf("%s: arrived %t, reached its minimum %t; want both", ts.name, ts.arrived, ts.reachedMin)
		}
	}
	if len(byName) != 2 {
		t.Fatalf("summary has tenants %v, want alice and bob", s.tenants)
	}
	if alice, bob := byName["alice"], byName["bob"]; alice.suffered < 1 || bob.caused < 1 || bob.suffered != 0 {
		t.Errorf("reclaims: alice lost %d, bob caused %d and lost %d; want alice to lose executors to bob and bob, never above his minimum, to lose none",
			alice.suffered, bob.caused, bob.suffered)
	}
	if u := s.utilization; u.Samples == 0 || u.Peak < 1 || u.Peak > s.slots {
		t.Errorf("utilization %+v: want samples and a peak between 1 and the %d slots", u, s.slots)
	}

	// What a newcomer reads: the startup steps, the live view of both farms, the summary.
	for _, want := range []string{
		"Control plane ready", "farm-scheduler started", "farm-controller started",
		"FARM", "alice/jupyter-alice", "bob/jupyter-bob",
		"Summary after", "Cluster utilization",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
