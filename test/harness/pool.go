package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// Pool is a fixed set of control planes, each with its kubelet stand-in, lent to one test at a
// time. It is for tests that cannot share a control plane with each other, yet spend most of
// their time waiting (grace periods, trigger intervals): each starts its own farm-scheduler, which
// schedules every executor of the cluster, so two at once on one control plane would schedule
// each other's pods. On a pool they run in parallel, one per control plane.
type Pool struct {
	free chan *Shared
}

// maxPoolSize bounds the control planes of a pool: each holds an etcd and a kube-apiserver.
const maxPoolSize = 4

// RunTestsOnPool starts as many control planes as go test runs parallel tests at once (its
// -parallel flag, GOMAXPROCS unless set; at most maxPoolSize), runs the package's tests and tears
// everything down; call it from TestMain as os.Exit(harness.RunTestsOnPool(m, &pool)).
func RunTestsOnPool(m *testing.M, pool *Pool) int {
	flag.Parse()
	size := min(runtime.GOMAXPROCS(0), maxPoolSize)
	if f := flag.Lookup("test.parallel"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n > 0 {
			size = min(n, maxPoolSize)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	processes := make([]*Process, size)
	defer func() {
		// The kubelet stand-ins first: an apiserver shutting down waits for open watches.
		cancel()
		var wg sync.WaitGroup
		for _, p := range processes {
			wg.Go(p.Close)
		}
		wg.Wait()
	}()
	errs := make([]error, size)
	pool.free = make(chan *Shared, size)
	var wg sync.WaitGroup
	for i := range size {
		processes[i] = NewProcess(fmt.Sprintf("controlplane-%d", i), os.Stderr)
		wg.Go(func() {
			shared, err := startShared(ctx, processes[i])
			if err != nil {
				errs[i] = err
				return
			}
			pool.free <- shared
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(os.Stderr, "starting the control planes: %v\n", err)
		return 1
	}
	return m.Run()
}

// Acquire lends a control plane to t until t's cleanup, waiting for one to be free. A test
// acquires at most one: two tests each holding one and waiting for another would wait until go
// test's -timeout ends the run.
func (p *Pool) Acquire(t testing.TB) *Shared {
	t.Helper()
	c := <-p.free
	t.Cleanup(func() { p.free <- c })
	return c
}
