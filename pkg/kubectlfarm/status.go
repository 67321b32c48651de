package kubectlfarm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// tableAccept asks the API server for the Farm CRD's printer columns, as kubectl get does.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io"

// statusOptions are status's flags.
type statusOptions struct {
	allNamespaces bool
	print         *genericclioptions.PrintFlags
}

func newStatusCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &statusOptions{print: genericclioptions.NewPrintFlags("")}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the farms: guarantee, ceiling, running, pending, borrowed, being reclaimed",
		Long: `Show the farms of the current namespace (the kubeconfig context's, or -n), or of every
namespace with -A, as farm-controller last reported them. The columns are the Farm's own, the
same as kubectl get farms prints: MIN and MAX (0=NONE) are the guarantee and the ceiling (0 is
no ceiling), BORROWED the executors assigned beyond the minimum, RECLAIMING those being evicted
for other farms' guarantees, and GUARANTEE MET the farm's GuaranteeMet condition (empty until
farm-controller has reported). -o wide adds the reclaim triggers counted against the farm, its
last reclaim and its executors' selector; -o json, yaml, name, jsonpath=... and go-template=...
print the Farm objects.`,
		Example: "  kubectl farm status\n  kubectl farm status -A -o wide\n  kubectl farm status -n alice -o jsonpath='{.items[*].status.overquota}'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), flags, streams)
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "show the farms of every namespace")
	o.print.AddFlags(cmd)
	cmd.Flags().Lookup("output").Usage = "output format: wide, or one of " + strings.Join(o.print.AllowedFormats(), ", ") + " (default: a table)"
	return cmd
}

func (o *statusOptions) run(ctx context.Context, flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) error {
	format := *o.print.OutputFormat
	// The table and -o wide are the API server's; every other format is PrintFlags'.
	table := format == "" || format == "wide"
	var printer printers.ResourcePrinter
	if !table {
		p, err := o.print.ToPrinter()
		if err != nil {
			return fmt.Errorf("invalid -o/--output %q: want wide or one of %s", format, strings.Join(o.print.AllowedFormats(), ", "))
		}
		printer = p
	}
	namespace := ""
	if !o.allNamespaces {
		ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return err
		}
		namespace = ns
	}
	cfg, cluster, err := clients(flags)
	if err != nil {
		return err
	}
	if !table {
		list, err := cluster.Dynamic.Resource(farmv1alpha1.GroupVersion.WithResource("farms")).Namespace(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return unreachable(fmt.Errorf("listing farms: %w", err), cfg)
		}
		return printer.PrintObj(list, streams.Out)
	}
	t, err := farmTable(ctx, cfg, namespace)
	if err != nil {
		return unreachable(fmt.Errorf("listing farms: %w", err), cfg)
	}
	if len(t.Rows) == 0 {
		where := "in namespace " + namespace
		if namespace == "" {
			where = "in any namespace"
		}
		_, err := fmt.Fprintf(streams.ErrOut, "No farms found %s.\n", where)
		return err
	}
	p := printers.NewTablePrinter(printers.PrintOptions{WithNamespace: o.allNamespaces, Wide: format == "wide"})
	return p.PrintObj(t, streams.Out)
}

// farmTable lists the farms of namespace (every namespace when empty) as the API server renders
// them with the Farm CRD's printer columns: one definition of the columns for kubectl get and
// kubectl farm status.
func farmTable(ctx context.Context, cfg *rest.Config, namespace string) (*metav1.Table, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.APIPath = "/apis"
	cfg.GroupVersion = &farmv1alpha1.GroupVersion
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	c, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, err
	}
	res := c.Get().Namespace(namespace).Resource("farms").SetHeader("Accept", tableAccept).Do(ctx)
	// Error, not Raw's error: it decodes the API server's Status (Forbidden and its message).
	if err := res.Error(); err != nil {
		return nil, err
	}
	data, err := res.Raw()
	if err != nil {
		return nil, err
	}
	return decodeTable(data)
}

// decodeTable reads a Table with each row's object metadata, which the printer reads the
// NAMESPACE column from.
func decodeTable(data []byte) (*metav1.Table, error) {
	t := &metav1.Table{}
	if err := json.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("reading the API server's table of farms: %w", err)
	}
	if t.Kind != "Table" {
		return nil, fmt.Errorf("the API server answered with a %q, not a Table", t.Kind)
	}
	for i := range t.Rows {
		raw := t.Rows[i].Object.Raw
		if len(raw) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("reading row %d of the table of farms: %w", i, err)
		}
		t.Rows[i].Object.Object = u
	}
	return t, nil
}
