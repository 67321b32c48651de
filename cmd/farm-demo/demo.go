package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/controller"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/harness"
	"github.com/toinfn/farm/test/workload"
)

// options are the demo's flags.
type options struct {
	nodes      int
	tenants    int
	duration   time.Duration
	seed       int64
	kubeconfig string
	logFile    string
	// kubeconfigOut is where the embedded cluster's kubeconfig is written for kubectl; empty
	// means beside the log file.
	kubeconfigOut string
	// drivers makes each job start with a driver pod, which must run before it asks for
	// executors (workload.PlanWithDrivers).
	drivers bool
	// borrowCooldown is farm-scheduler's borrowCooldown on the embedded cluster (0: off).
	borrowCooldown time.Duration
	// plan returns the tenants for a cluster of the given executor slots; nil draws them from
	// seed with workload.Plan.
	plan func(slots int32) []workload.Tenant
}

// planSpan is the time the workload's arrivals and jobs are spread over when the demo runs until
// Ctrl-C.
const planSpan = time.Minute

// cluster is what the workload runs on: the embedded control plane or a real cluster.
type cluster struct {
	clientset kubernetes.Interface
	client    client.Client
	// ft is the farm type of the workload's executors.
	ft quota.Type
	// stopped receives the error of a component the demo started, if one stops.
	stopped <-chan error
	// dynamic reads the Farms for the reclaim previews.
	dynamic dynamic.Interface
	// kubeconfig is the file kubectl reaches the embedded cluster with; empty on a real cluster.
	kubeconfig string
	// close stops what the demo started and removes what it created.
	close func()
}

// run runs the demo, writing its progress, live view and summary to out, until the workload has
// run opts.duration or ctx ends; both end it cleanly.
func run(ctx context.Context, out io.Writer, opts options) (*summary, error) {
	if opts.nodes < 1 || opts.tenants < 1 || opts.duration < 0 {
		return nil, fmt.Errorf("--nodes and --tenants must be at least 1 and --duration not negative")
	}
	if opts.kubeconfig != "" && opts.kubeconfigOut != "" {
		return nil, fmt.Errorf("--kubeconfig-out is for the embedded cluster; with --kubeconfig, kubectl uses that one")
	}
	if opts.kubeconfig != "" && opts.borrowCooldown != 0 {
		return nil, fmt.Errorf("--borrow-cooldown configures the embedded farm-scheduler; on your cluster it is the chart's scheduler.config.borrowCooldown")
	}
	if opts.borrowCooldown < 0 {
		return nil, fmt.Errorf("--borrow-cooldown must not be negative")
	}
	logs, err := openLog(opts.logFile)
	if err != nil {
		return nil, err
	}
	defer logs.Close()
	kubeconfigOut := opts.kubeconfigOut
	if kubeconfigOut == "" {
		kubeconfigOut = filepath.Join(filepath.Dir(logs.Name()), "kubeconfig")
	}
	// Refused before anything starts: the demo removes the file when it ends, so it must not be
	// someone's kubeconfig.
	if opts.kubeconfig == "" {
		if _, err := os.Stat(kubeconfigOut); err == nil {
			return nil, fmt.Errorf("--kubeconfig-out %s: the file exists; the demo writes a new one and removes it at the end", kubeconfigOut)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--kubeconfig-out %s: %w", kubeconfigOut, err)
		}
	}
	if err := logTo(logs); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Component logs: %s\n", logs.Name())

	progress := newProgress(out)
	var c *cluster
	if opts.kubeconfig == "" {
		c, err = startEmbedded(ctx, progress, logs, opts.nodes, opts.borrowCooldown, kubeconfigOut)
	} else {
		c, err = connect(ctx, progress, opts.kubeconfig)
	}
	var s *summary
	if err == nil {
		s, err = runWorkload(ctx, out, progress, c, opts, logs.Name())
	}
	if c != nil {
		c.close()
	}
	fmt.Fprintf(out, "Component logs: %s\n", logs.Name())
	return s, err
}

// startEmbedded starts etcd, kube-apiserver, the simulated nodes and their kubelet stand-in,
// farm-scheduler and farm-controller, all in this process, telling each step as it happens. It
// writes a kubeconfig for the cluster to kubeconfigOut, removed when the cluster stops.
func startEmbedded(ctx context.Context, progress *progress, logs *os.File, nodes int, borrowCooldown time.Duration, kubeconfigOut string) (*cluster, error) {
	p := harness.NewProcess("farm-demo", logs)
	ctx, cancel := context.WithCancel(ctx)
	c := &cluster{ft: workload.Spark, close: func() {
		progress.step("Stopping the embedded control plane")
		if err := os.Remove(kubeconfigOut); err != nil && !errors.Is(err, fs.ErrNotExist) {
			progress.step("Could not remove %s: %v", kubeconfigOut, err)
		}
		cancel()
		restore := quietStderr(logs)
		p.Close()
		restore()
		progress.step("Stopped")
	}}
	err := p.Run(func() error {
		progress.step("Starting etcd and kube-apiserver in this process, installing the Farm CRDs")
		cp := harness.StartControlPlane(p)
		c.clientset, c.client = cp.Clientset, cp.Client
		var err error
		if c.dynamic, err = dynamic.NewForConfig(cp.Config); err != nil {
			return err
		}
		progress.step("Control plane ready at %s", cp.Config.Host)
		if err := writeKubeconfig(cp.Kubeconfig, kubeconfigOut); err != nil {
			return err
		}
		c.kubeconfig = kubeconfigOut
		progress.step("Its kubeconfig, valid while the demo runs: kubectl --kubeconfig %s get farms -A", kubeconfigOut)

		if _, err := cp.CreateNodes(ctx, "node", nodes, harness.DefaultNodeShape); err != nil {
			return err
		}
		if _, err := harness.StartKubelet(ctx, cp.Clientset); err != nil {
			return err
		}
		progress.step("%s registered, a kubelet stand-in runs their pods", count(nodes, "simulated node"))

		configured := "the shipped configuration"
		var edit func(map[string]any)
		if borrowCooldown > 0 {
			configured += ", borrowCooldown " + borrowCooldown.String()
			edit = func(cfg map[string]any) {
				harness.SetFarmArgs(cfg, map[string]any{"borrowCooldown": borrowCooldown.String()})
			}
		}
		schedulerStopped, err := harness.StartScheduler(ctx, cp.SchedulerConfig(p, edit))
		if err != nil {
			return err
		}
		progress.step("farm-scheduler started (%s)", configured)
		controllerStopped, err := cp.StartController(ctx, controller.Options{})
		if err != nil {
			return err
		}
		progress.step("farm-controller started")
		c.stopped = firstError(schedulerStopped, controllerStopped)
		return nil
	})
	return c, err
}

// connect reaches the cluster of a kubeconfig, where Farm is installed and runs already.
func connect(ctx context.Context, progress *progress, kubeconfig string) (*cluster, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	scheme, err := controller.NewScheme()
	if err != nil {
		return nil, err
	}
	c := &cluster{
		// Not the Spark farm type: the demo's tenants must neither reclaim real tenants'
		// executors nor lose theirs to them.
		ft:      quota.Type{LabelKey: workload.Spark.LabelKey, LabelValue: "farm-demo-executor"},
		stopped: make(chan error),
		close:   func() {},
	}
	if c.clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	if err := c.client.List(ctx, &farmv1alpha1.FarmList{}, client.Limit(1)); err != nil {
		return nil, fmt.Errorf("listing Farms on %s (is Farm installed?): %w", cfg.Host, err)
	}
	progress.step("Using the cluster at %s; farm-scheduler and farm-controller must run there", cfg.Host)
	return c, nil
}

// runWorkload creates the tenants, runs their jobs and shows the farms every second, then
// prints and returns the summary.
func runWorkload(ctx context.Context, out io.Writer, progress *progress, c *cluster, opts options, logPath string) (*summary, error) {
	// The observer's watches end with the workload: an embedded apiserver waits for open
	// watches when it shuts down.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var nodes corev1.NodeList
	if err := c.client.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	slots := workload.ExecutorSlots(nodes.Items, harness.DefaultExecutorResources)
	perTenant, needs := int32(1), "at least one"
	if opts.drivers {
		perTenant, needs = 2, "its driver's and at least one executor's"
	}
	if perTenant*int32(opts.tenants) > slots {
		return nil, fmt.Errorf("--tenants=%d is too many for the %d executor slots: every tenant needs %s", opts.tenants, slots, needs)
	}
	plan := opts.plan
	if plan == nil {
		span := opts.duration
		if span == 0 {
			span = planSpan
		}
		planner := workload.Plan
		if opts.drivers {
			planner = workload.PlanWithDrivers
		}
		plan = func(slots int32) []workload.Tenant { return planner(opts.seed, opts.tenants, slots, span) }
	}
	tenants := plan(slots)

	if opts.kubeconfig != "" {
		// On a real cluster the tenants' namespaces are ours to delete, however the demo ends.
		cleanup := c.close
		c.close = func() {
			progress.step("Deleting the tenants' namespaces")
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if err := workload.DeleteTenants(ctx, c.client, tenants); err != nil {
				progress.step("Cleanup incomplete, delete the namespaces yourself: %v", err)
			}
			cleanup()
		}
	}
	progress.step("%s on %s; creating %s, each a namespace with a Farm",
		count(int(slots), "executor slot"), count(len(nodes.Items), "node"), count(len(tenants), "tenant"))
	if err := workload.CreateTenants(ctx, c.client, c.ft, tenants); err != nil {
		return nil, err
	}
	for _, t := range tenants {
		fmt.Fprintf(out, "          %-8s min %2d, arrives at %3s, its job asks for up to %2d executors for %s\n",
			t.Name, t.Min, t.Arrival, t.Executors, t.JobLength)
	}

	obs := workload.NewObserver(c.ft, tenants)
	if err := obs.Start(ctx, c.clientset); err != nil {
		return nil, err
	}
	start := time.Now()
	previews := newPreviews(c)
	drivers := make([]*workload.Driver, len(tenants))
	for i, t := range tenants {
		drivers[i] = workload.NewDriver(c.clientset, c.ft, t, start)
		drivers[i].OnSubmit = previews.take
	}
	jobsCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		workload.Run(jobsCtx, drivers)
	}()
	progress.step("Workload started; the farms as farm-controller reports them, every second:")

	header := fmt.Sprintf("BORROWED: executors beyond the farm's minimum. RECLAIMING: being evicted for a farm below\n"+
		"its minimum. EVICTED: reclaimed so far. Ctrl-C stops. Component logs: %s\n", logPath)
	if c.kubeconfig != "" {
		header += fmt.Sprintf("Look with kubectl: kubectl --kubeconfig %s get farms,pods -A\n", c.kubeconfig)
	}
	view := newLiveView(out, header)
	board := &dashboard{client: c.client, drivers: drivers, obs: obs, previews: previews, slots: slots, duration: opts.duration}
	var end <-chan time.Time
	if opts.duration > 0 {
		end = time.After(opts.duration)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var stopErr error
loop:
	for {
		used := obs.Sample()
		view.draw(board.frame(ctx, time.Since(start), used))
		select {
		case <-ctx.Done():
			progress.step("Interrupted")
			break loop
		case <-end:
			progress.step("The workload has run %s", opts.duration)
			break loop
		case err := <-c.stopped:
			stopErr = err
			break loop
		case <-tick.C:
		}
	}
	stopJobs()
	<-jobsDone
	if stopErr != nil {
		return nil, stopErr
	}

	s := summarize(time.Since(start), slots, len(nodes.Items), drivers, obs, previews)
	s.thrashing = thrashingFarms(ctx, c.client, tenants)
	s.print(out)
	return s, nil
}

// openLog creates the log file, in a new temporary directory unless a path is given.
func openLog(path string) (*os.File, error) {
	if path == "" {
		dir, err := os.MkdirTemp("", "farm-demo-")
		if err != nil {
			return nil, err
		}
		path = filepath.Join(dir, "farm-demo.log")
	}
	return os.Create(path)
}

// writeKubeconfig copies the control plane's kubeconfig (its administrator's credentials) to
// path, readable by the user alone.
func writeKubeconfig(from, path string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	return f.Close()
}

// logTo sends every component's structured logs (klog, and controller-runtime through it) to w,
// so that the terminal shows only the demo.
func logTo(w io.Writer) error {
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	for name, value := range map[string]string{
		"logtostderr":     "false",
		"stderrthreshold": "FATAL",
		// One line per message: with a single output, klog would otherwise repeat each warning
		// and error once per lower severity.
		"one_output": "true",
		// Reclaims, bindings and status updates are logged at 2.
		"v": "2",
	} {
		if err := klogFlags.Set(name, value); err != nil {
			return err
		}
	}
	klog.SetOutput(w)
	ctrllog.SetLogger(klog.NewKlogr())
	return nil
}

// firstError forwards the first error any of chans delivers. A channel closed without an error
// is a component that stopped because the demo ended.
func firstError(chans ...<-chan error) <-chan error {
	out := make(chan error, len(chans))
	for _, c := range chans {
		go func() {
			if err, ok := <-c; ok {
				out <- err
			}
		}()
	}
	return out
}

// count says how many things there are, in words.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// progress tells the startup and shutdown steps with the time since the demo started.
type progress struct {
	out   io.Writer
	start time.Time
}

func newProgress(out io.Writer) *progress {
	return &progress{out: out, start: time.Now()}
}

func (p *progress) step(format string, args ...any) {
	fmt.Fprintf(p.out, "[%5.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}
