package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/toinfn/farm/test/harness"
	"github.com/toinfn/farm/test/workload"
)

// TestDemo runs the demo end to end, briefly, on a workload that needs a reclaim: alice's driver
// and seven executors fill both nodes at once, borrowing five beyond her minimum of two; bob
// arrives later with a minimum of three and finds no room, so farm-scheduler must take room back
// from alice for his driver first, then for his executors.
func TestDemo(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "demo.kubeconfig")
	opts := options{
		nodes:         2,
		tenants:       2,
		duration:      15 * time.Second,
		drivers:       true,
		logFile:       filepath.Join(t.TempDir(), "farm-demo.log"),
		kubeconfigOut: kubeconfig,
		plan: func(slots int32) []workload.Tenant {
			return []workload.Tenant{
				{Name: "alice", Min: 2, Initial: slots - 1, Executors: slots - 1, JobLength: time.Hour, Driver: true},
				{Name: "bob", Min: 3, Initial: 3, Executors: 3, Arrival: 3 * time.Second, JobLength: time.Hour, Driver: true},
			}
		},
	}
	var out syncBuffer
	var s *summary
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err = run(context.Background(), &out, opts)
	}()

	// While the demo runs, the real kubectl reaches its cluster with the kubeconfig it printed.
	var listed harness.CommandResult
	waitErr := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case <-done:
			return false, errors.New("the demo ended first")
		default:
		}
		if _, err := os.Stat(kubeconfig); err != nil {
			return false, nil
		}
		listed = harness.RunCommand(ctx, t, nil, "kubectl", "--kubeconfig", kubeconfig, "get", "farms", "-A")
		return listed.ExitCode == 0 && strings.Contains(listed.Stdout, "jupyter-alice"), nil
	})
	<-done
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("demo failed: %v", err)
	}
	if waitErr != nil {
		t.Errorf("kubectl --kubeconfig %s get farms -A never listed alice's Farm: %v\nstdout:\n%s\nstderr:\n%s", kubeconfig, waitErr, listed.Stdout, listed.Stderr)
	}
	if _, err := os.Stat(kubeconfig); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the kubeconfig of the stopped cluster is still there (%v)", err)
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
	// bob's driver got room on the full cluster, then his executors; the preview taken as his job
	// was submitted named what his executors would take from alice.
	if bob := byName["bob"]; bob.driverWaited <= 0 || bob.caused < int(bob.min)+1 || !bob.hasPreview || bob.previewed < 1 || bob.previewed > bob.min {
		t.Errorf("bob: driver running after %s, %d executors reclaimed for him, preview %t of %d; want his driver running, room for it and his minimum of %d reclaimed, and a preview of 1 to %d",
			bob.driverWaited, bob.caused, bob.hasPreview, bob.previewed, bob.min, bob.min)
	}
	if len(s.thrashing) != 0 {
		t.Errorf("farms thrashing at the end: %v, want none", s.thrashing)
	}
	if u := s.utilization; u.Samples == 0 || u.Peak < 1 || u.Peak > s.slots {
		t.Errorf("utilization %+v: want samples and a peak between 1 and the %d slots", u, s.slots)
	}

	// What a newcomer reads: the startup steps, the live view of both farms, the summary.
	for _, want := range []string{
		"Control plane ready", "kubectl --kubeconfig " + kubeconfig + " get farms -A",
		"farm-scheduler started", "farm-controller started",
		"FARM", "alice/jupyter-alice", "bob/jupyter-bob",
		"driver pending", "Previews, as each job was submitted", "bob, 3 executors: ",
		"Summary after", "Cluster utilization", "Thrashing: no farm",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// A kubeconfig the demo would overwrite and then remove, or one for a cluster it does not start,
// and a cool-down it cannot apply, are refused before anything starts.
func TestKubeconfigOutRefused(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(existing, []byte("someone's kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    options
		wantErr string
	}{
		{
			name:    "an existing file",
			opts:    options{kubeconfigOut: existing},
			wantErr: "--kubeconfig-out " + existing + ": the file exists",
		},
		{
			name:    "with a real cluster's kubeconfig",
			opts:    options{kubeconfigOut: filepath.Join(t.TempDir(), "new"), kubeconfig: existing},
			wantErr: "--kubeconfig-out is for the embedded cluster",
		},
		{
			name:    "a borrow cool-down for a real cluster's scheduler",
			opts:    options{kubeconfig: existing, borrowCooldown: time.Minute},
			wantErr: "--borrow-cooldown configures the embedded farm-scheduler",
		},
		{
			name:    "a negative borrow cool-down",
			opts:    options{borrowCooldown: -time.Second},
			wantErr: "--borrow-cooldown must not be negative",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.nodes, opts.tenants, opts.duration = 1, 1, time.Second
			opts.logFile = filepath.Join(t.TempDir(), "farm-demo.log")
			var out bytes.Buffer
			_, err := run(context.Background(), &out, opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one saying %q", err, tc.wantErr)
			}
			if strings.Contains(out.String(), "Starting etcd") {
				t.Errorf("the demo started a cluster before refusing:\n%s", out.String())
			}
			if data, err := os.ReadFile(existing); err != nil || string(data) != "someone's kubeconfig" {
				t.Errorf("%s changed: %q, %v", existing, data, err)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer the demo writes to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
