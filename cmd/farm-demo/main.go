// Command farm-demo runs Farm end to end on an embedded control plane: etcd and kube-apiserver
// in this process, simulated nodes, farm-scheduler and farm-controller, and executors of two
// tenants. It prints the farms' counts every second and stops after --duration or on Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/controller"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/scheduler"
	"github.com/toinfn/farm/test/harness"
)

// tenant is a demo tenant: a namespace with one Farm and a number of executors asked for at a
// given time after start.
type tenant struct {
	name      string
	min       int32
	executors int
	after     time.Duration
}

func main() {
	nodes := flag.Int("nodes", 3, "Simulated nodes, each with room for four executors.")
	duration := flag.Duration("duration", 30*time.Second, "How long to run once the workload has started; 0 runs until Ctrl-C.")
	logFile := flag.String("log-file", "", "Where the components' logs go (default: a file in a new temporary directory).")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *nodes, *duration, *logFile); err != nil {
		fmt.Fprintf(os.Stderr, "farm-demo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, nodes int, duration time.Duration, logPath string) error {
	if logPath == "" {
		dir, err := os.MkdirTemp("", "farm-demo-")
		if err != nil {
			return err
		}
		logPath = filepath.Join(dir, "components.log")
	}
	logs, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logs.Close()
	// The apiserver, scheduler and controller log a lot; the terminal shows only the farms.
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	for name, value := range map[string]string{"logtostderr": "false", "stderrthreshold": "FATAL"} {
		if err := klogFlags.Set(name, value); err != nil {
			return err
		}
	}
	klog.SetOutput(logs)
	fmt.Printf("Component logs: %s\n", logPath)

	p := harness.NewProcess("farm-demo", logs)
	defer p.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return p.Run(func() error { return demo(ctx, p, logs, nodes, duration) })
}

func demo(ctx context.Context, p *harness.Process, logs io.Writer, nodes int, duration time.Duration) error {
	start := time.Now()
	step := func(format string, args ...any) {
		fmt.Printf("[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}

	step("Starting etcd and kube-apiserver, installing the Farm CRDs ...")
	cp := harness.StartControlPlane(p)
	step("Control plane ready at %s", cp.Config.Host)

	if _, err := cp.CreateNodes(ctx, "node", nodes, harness.DefaultNodeShape); err != nil {
		return err
	}
	if _, err := harness.StartKubelet(ctx, cp.Clientset); err != nil {
		return err
	}
	step("%d simulated nodes, four executor slots each", nodes)

	schedErrs, err := harness.StartScheduler(ctx, cp.SchedulerConfig(p, nil))
	if err != nil {
		return err
	}
	step("farm-scheduler running (shipped configuration)")
	ctrlErrs, err := cp.StartController(ctx, controller.Options{})
	if err != nil {
		return err
	}
	step("farm-controller running")

	tenants := []tenant{
		{name: "alice", min: 4, executors: 4 * nodes, after: 0},
		{name: "bob", min: 4, executors: 4, after: 5 * time.Second},
	}
	for _, t := range tenants {
		if err := createTenant(ctx, cp.Client, t); err != nil {
			return err
		}
		step("Tenant %s: Farm with minExecutors=%d; asks for %d executors after %s", t.name, t.min, t.executors, t.after)
	}

	workloadStart := time.Now()
	submitted := map[string]bool{}
	var end <-chan time.Time
	if duration > 0 {
		end = time.After(duration)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, t := range tenants {
			if !submitted[t.name] && time.Since(workloadStart) >= t.after {
				if err := submitExecutors(ctx, cp.Client, t); err != nil {
					return err
				}
				submitted[t.name] = true
			}
		}
		if err := printFarms(ctx, cp.Client, time.Since(start)); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			step("Interrupted; stopping")
			return nil
		case <-end:
			step("Done after %s; stopping", duration)
			return nil
		case err := <-schedErrs:
			return err
		case err := <-ctrlErrs:
			return err
		case <-tick.C:
		}
	}
}

func createTenant(ctx context.Context, c client.Client, t tenant) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.name}}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", t.name, err)
	}
	farm := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: t.name, Name: "jupyter-" + t.name},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: t.min},
	}
	if err := c.Create(ctx, farm); err != nil {
		return fmt.Errorf("creating Farm for %s: %w", t.name, err)
	}
	return nil
}

func submitExecutors(ctx context.Context, c client.Client, t tenant) error {
	for i := range t.executors {
		pod := harness.ExecutorPod(t.name, fmt.Sprintf("%s-exec-%d", t.name, i+1), "spark-role", "executor")
		if err := c.Create(ctx, pod); err != nil {
			return fmt.Errorf("creating executor of %s: %w", t.name, err)
		}
	}
	return nil
}

// printFarms prints every Farm's counts, computed by the same rules the scheduler and the
// controller use.
func printFarms(ctx context.Context, c client.Client, elapsed time.Duration) error {
	var farms farmv1alpha1.FarmList
	if err := c.List(ctx, &farms); err != nil {
		return err
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods); err != nil {
		return err
	}
	farmPtrs := make([]*farmv1alpha1.Farm, len(farms.Items))
	for i := range farms.Items {
		farmPtrs[i] = &farms.Items[i]
	}
	podPtrs := make([]*corev1.Pod, len(pods.Items))
	for i := range pods.Items {
		podPtrs[i] = &pods.Items[i]
	}
	snap := quota.NewSnapshot(farmPtrs, podPtrs, scheduler.Name)

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "\n[%5.1fs]\tFARM\tMIN\tMAX\tASSIGNED\tRUNNING\tPENDING\tBORROWED\tUNDERQUOTA\n", elapsed.Seconds())
	for _, k := range snap.Keys() {
		st, _ := snap.State(k)
		maxText := "-"
		if st.Max > 0 {
			maxText = fmt.Sprint(st.Max)
		}
		fmt.Fprintf(w, "\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\n", k, st.Min, maxText, st.Assigned, st.Running, st.Pending, st.Overquota(), st.Underquota())
	}
	return w.Flush()
}
