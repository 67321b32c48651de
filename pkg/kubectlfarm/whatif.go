package kubectlfarm

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/kubernetes"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/pkg/reclaim/preview"
)

// whatIfOptions are what-if's flags.
type whatIfOptions struct {
	executors      int32
	cpu, memory    string
	minimumRuntime time.Duration
	schedulerName  string
	output         string
}

func newWhatIfCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &whatIfOptions{}
	cmd := &cobra.Command{
		Use:   "what-if [NAMESPACE/]FARM --executors N",
		Short: "Preview the reclaim a farm's N more executors would cause, without changing anything",
		Long: `Preview, from the live cluster and with farm-scheduler's own planner, what would happen if
a farm asked for N more executors now: how many its minimum covers (the rest would borrow, and
a borrowing executor never reclaims), which farms would lose how many executors on which
nodes, at which of their reclaim triggers, or why the guarantee could not be met (a
PodDisruptionBudget, node pools, sizes). Read-only.

The executors are sized like the farm's newest executor (its requests, node selector,
affinity, tolerations and priority), or by --cpu and --memory. It reads every node, pod, Farm
and PodDisruptionBudget of the cluster: it is a cluster administrator's command. Give
--minimum-runtime when farm-scheduler runs with one. The preview plans on every node and sees
resources, node selectors, affinity and taints, not the other filters; on a large cluster the
scheduler may pick other nodes for the same counts.`,
		Example: "  kubectl farm what-if bob/bob --executors 4\n  kubectl farm what-if bob --executors 10 --cpu 2 --memory 8Gi -o yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), flags, streams, args[0])
		},
	}
	cmd.Flags().Int32Var(&o.executors, "executors", 0, "how many more executors the farm would ask for (required)")
	cmd.Flags().StringVar(&o.cpu, "cpu", "", "CPU each executor requests (default: as the farm's newest executor)")
	cmd.Flags().StringVar(&o.memory, "memory", "", "memory each executor requests (default: as the farm's newest executor)")
	cmd.Flags().DurationVar(&o.minimumRuntime, "minimum-runtime", 0, "farm-scheduler's minimumRuntime, if it is configured with one")
	cmd.Flags().StringVar(&o.schedulerName, "scheduler-name", quota.SchedulerName, "the scheduler the farms' executors are addressed to")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "json or yaml (default: text)")
	_ = cmd.MarkFlagRequired("executors")
	return cmd
}

func (o *whatIfOptions) run(ctx context.Context, flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, arg string) error {
	if o.executors < 1 {
		return fmt.Errorf("--executors: must be at least 1, got %d", o.executors)
	}
	if o.output != "" && o.output != "json" && o.output != "yaml" {
		return fmt.Errorf("invalid -o/--output %q: want json or yaml, or nothing", o.output)
	}
	var requests corev1.ResourceList
	for flag, v := range map[string]string{"cpu": o.cpu, "memory": o.memory} {
		if v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			return fmt.Errorf("--%s: %q is not a positive quantity", flag, v)
		}
		if requests == nil {
			requests = corev1.ResourceList{}
		}
		requests[corev1.ResourceName(flag)] = q
	}
	key, err := o.farmKey(flags, arg)
	if err != nil {
		return err
	}
	cfg, cluster, err := clients(flags)
	if err != nil {
		return err
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	objects, err := preview.Read(ctx, core, cluster.Dynamic)
	if err != nil {
		return unreachable(fmt.Errorf("%w (what-if reads every node, pod, Farm and PodDisruptionBudget: it needs a cluster administrator's credentials)", err), cfg)
	}
	executor, err := executorTemplate(objects, key, requests)
	if err != nil {
		return err
	}
	res, err := preview.Plan(objects, preview.Request{Farm: key, Executors: o.executors, Executor: executor},
		preview.Options{SchedulerName: o.schedulerName, MinimumRuntime: o.minimumRuntime, Now: time.Now()})
	if err != nil {
		return err
	}
	if o.output != "" {
		return printData(streams.Out, o.output, res)
	}
	return printWhatIf(streams.Out, res, executor)
}

// farmKey reads NAMESPACE/FARM, or FARM in the kubeconfig context's namespace (or -n).
func (o *whatIfOptions) farmKey(flags *genericclioptions.ConfigFlags, arg string) (types.NamespacedName, error) {
	if ns, name, ok := strings.Cut(arg, "/"); ok {
		if ns == "" || name == "" || strings.Contains(name, "/") {
			return types.NamespacedName{}, fmt.Errorf("farm %q: want NAMESPACE/FARM or FARM", arg)
		}
		return types.NamespacedName{Namespace: ns, Name: name}, nil
	}
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return types.NamespacedName{}, err
	}
	return types.NamespacedName{Namespace: ns, Name: arg}, nil
}

// executorTemplate is the pod each previewed executor would be: the farm's newest executor
// (its scheduling constraints and size), resized by requests when given.
func executorTemplate(c preview.Cluster, key types.NamespacedName, requests corev1.ResourceList) (*corev1.Pod, error) {
	var farm *farmv1alpha1.Farm
	for _, f := range c.Farms {
		if quota.Key(f) == key {
			farm = f
		}
	}
	if farm == nil {
		return nil, fmt.Errorf("farm %s not found", key)
	}
	var newest *corev1.Pod
	for _, p := range c.Pods {
		if quota.Selects(farm, p) && (newest == nil || newest.CreationTimestamp.Before(&p.CreationTimestamp)) {
			newest = p
		}
	}
	var e *corev1.Pod
	switch {
	case newest != nil:
		e = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: newest.Labels}, Spec: *newest.Spec.DeepCopy()}
		e.Spec.NodeName = ""
	case len(requests) < 2:
		return nil, fmt.Errorf("farm %s has no executor to take the executors' size from: give --cpu and --memory", key)
	default:
		e = &corev1.Pod{}
	}
	if len(requests) > 0 {
		// The size given replaces the template's containers' requests: one container asks for it.
		sized := corev1.Container{Name: "executor", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{}}}
		if len(e.Spec.Containers) > 0 {
			for name, q := range podRequests(e) {
				sized.Resources.Requests[name] = q
			}
		}
		for name, q := range requests {
			sized.Resources.Requests[name] = q
		}
		e.Spec.Containers = []corev1.Container{sized}
		e.Spec.InitContainers = nil
		e.Spec.Resources = nil
	}
	return e, nil
}

// podRequests sums a pod's containers' requests (what a resized template keeps of the
// dimensions it was not told about).
func podRequests(p *corev1.Pod) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, c := range p.Spec.Containers {
		for name, q := range c.Resources.Requests {
			sum := out[name]
			sum.Add(q)
			out[name] = sum
		}
	}
	return out
}

// printWhatIf prints a preview for people.
func printWhatIf(out io.Writer, r *preview.Result, executor *corev1.Pod) error {
	size := podRequests(executor)
	var parts []string
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := size[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", name, q.String()))
		}
	}
	w := printers.GetNewTabWriter(out)
	fmt.Fprintf(w, "What if farm %s asked for %s more (%s each)?\n", r.Farm, executors(r.Asked), strings.Join(parts, ", "))
	fmt.Fprintf(w, "It holds %s of a minimum of %d: its minimum covers %d of the %d.\n", executors(r.Executors), r.Minimum, r.Guaranteed, r.Asked)
	if borrow := r.Asked - r.Guaranteed; borrow > 0 {
		fmt.Fprintf(w, "%d would borrow: they run only on room that is free, and nothing is reclaimed for them.\n", borrow)
	}
	if r.Guaranteed == 0 {
		return w.Flush()
	}
	if r.WaitingBefore > 0 {
		fmt.Fprintf(w, "%d guaranteed %s of this farm type already wait and are served first: the table counts their evictions too (%d of %d are for this farm's).\n",
			r.WaitingBefore, plural(r.WaitingBefore, "executor"), r.EvictionsForAsked, totalEvictions(r))
	}
	fmt.Fprintf(w, "%d of the %d guaranteed would run: %d on room free now or being freed, %d once executors of other farms are reclaimed.\n",
		r.Placed, r.Guaranteed, r.FreeRoom, r.Placed-r.FreeRoom)
	if len(r.Reclaims) > 0 {
		fmt.Fprintln(w, "\nFARM\tLOSES\tSHARE\tNODES\tWHEN")
		for _, rc := range r.Reclaims {
			var nodes []string
			for _, n := range rc.Nodes {
				nodes = append(nodes, fmt.Sprintf("%s (%d)", n.Node, n.Executors))
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", rc.Farm, rc.Executors, rc.Share, strings.Join(nodes, ", "), when(rc))
		}
	}
	for _, title := range []struct {
		name  string
		lines []string
	}{{"Not placed", r.Unplaced}, {"Passed over", r.PassedOver}, {"Not proportional", r.Disproportion}} {
		if len(title.lines) > 0 {
			fmt.Fprintf(w, "\n%s:\n  %s\n", title.name, strings.Join(title.lines, "\n  "))
		}
	}
	return w.Flush()
}

// when says at which trigger a farm would lose its executors.
func when(r preview.Reclaim) string {
	toGo := r.TriggersToGo()
	if toGo == 1 {
		return fmt.Sprintf("at the next trigger (%d of %d counted)", r.TriggersCounted, r.TriggersNeeded)
	}
	return fmt.Sprintf("at the %s trigger from now, %d %s away (%d of %d counted)", ordinal(toGo), toGo-1, plural(toGo-1, "trigger interval"), r.TriggersCounted, r.TriggersNeeded)
}

// totalEvictions is how many executors the preview's reclaim evicts.
func totalEvictions(r *preview.Result) int32 {
	var n int32
	for _, rc := range r.Reclaims {
		n += rc.Executors
	}
	return n
}

// executors says how many executors, in words.
func executors(n int32) string {
	return fmt.Sprintf("%d %s", n, plural(n, "executor"))
}

// plural returns word, with an s unless n is one.
func plural(n int32, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func ordinal(n int32) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
