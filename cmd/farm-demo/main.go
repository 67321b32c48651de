// Command farm-demo shows Farm at work in a few minutes, with nothing installed: etcd and
// kube-apiserver in this process, simulated nodes, the real farm-scheduler and farm-controller,
// and a Spark-like workload of tenants arriving over time, each with a Farm and a job whose
// driver asks for executors, borrows idle ones and replaces those it loses. A live table shows
// every farm each second; a summary at the end tells how long each tenant waited for its
// guarantee, how many executors were reclaimed, and how busy the cluster was.
//
// With --kubeconfig it runs the same workload on a real cluster where Farm is installed, and
// starts nothing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var opts options
	// A flag set of our own: linked packages register flags of the same names (--kubeconfig) on
	// the default one.
	fs := flag.NewFlagSet("farm-demo", flag.ExitOnError)
	fs.IntVar(&opts.nodes, "nodes", 4, "Simulated nodes, each with room for four executors (ignored with --kubeconfig).")
	fs.IntVar(&opts.tenants, "tenants", 4, "Tenants, each with a Farm and one Spark-like job; they arrive over the first half of the run.")
	fs.DurationVar(&opts.duration, "duration", time.Minute, "How long the workload runs; 0 runs until Ctrl-C.")
	fs.Int64Var(&opts.seed, "seed", 1, "Seed of the workload: the same seed gives the same tenants, minimums, arrivals and job lengths.")
	fs.StringVar(&opts.kubeconfig, "kubeconfig", "", "Run on the cluster of this kubeconfig instead of an embedded one; farm-scheduler and farm-controller must be installed there. The tenants' namespaces are created and deleted at the end.")
	fs.StringVar(&opts.logFile, "log-file", "", "Where the components' logs go (default: a file in a new temporary directory).")
	fs.StringVar(&opts.kubeconfigOut, "kubeconfig-out", "", "Where to write a kubeconfig of the embedded cluster, for kubectl while the demo runs; it must not exist, and is removed at the end (default: kubeconfig beside the log file).")
	fs.BoolVar(&opts.drivers, "drivers", true, "Start each job with a driver pod (spark-role=driver) that must run before it asks for executors; on a full cluster farm-scheduler reclaims room for it.")
	fs.DurationVar(&opts.borrowCooldown, "borrow-cooldown", 0, "farm-scheduler's borrowCooldown: a farm that just lost borrowed executors borrows again only after this long (0: off; embedded cluster only).")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "farm-demo: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first Ctrl-C the demo cleans up; a second one ends it at once.
		<-ctx.Done()
		stop()
	}()
	if _, err := run(ctx, os.Stdout, opts); err != nil {
		fmt.Fprintf(os.Stderr, "farm-demo: %v\n", err)
		os.Exit(1)
	}
}
