package harness

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// Shared is a control plane shared by the tests of one package (RunTests), or lent to one test
// at a time by a Pool, with the kubelet stand-in running. Tests isolate themselves by namespace.
type Shared struct {
	*ControlPlane
	// Ctx ends when the package's tests are done.
	Ctx context.Context
}

// RunTests starts a control plane and the kubelet stand-in, runs the package's tests and tears
// everything down; call it from TestMain as os.Exit(harness.RunTests(m, &shared)).
func RunTests(m *testing.M, shared *Shared) int {
	p := NewProcess("controlplane", os.Stderr)
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := startShared(ctx, p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the control plane: %v\n", err)
		return 1
	}
	*shared = *s
	return m.Run()
}

// startShared starts a control plane and its kubelet stand-in, which runs until ctx ends; the
// control plane stops when p closes.
func startShared(ctx context.Context, p *Process) (*Shared, error) {
	var shared *Shared
	err := p.Run(func() error {
		cp := StartControlPlane(p)
		if _, err := StartKubelet(ctx, cp.Clientset); err != nil {
			return err
		}
		shared = &Shared{ControlPlane: cp, Ctx: ctx}
		return nil
	})
	return shared, err
}
