package kubectlfarm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/toinfn/farm/pkg/farmstatus"
)

func newStatusCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every farm: guarantee, ceiling, running, pending, borrowed, being reclaimed",
		Long: `Show every farm (or those of the namespace given with -n) as farm-controller last reported it:
MIN and MAX are the guarantee and the ceiling ("-" for none), BORROWED the executors assigned
beyond the minimum, RECLAIMING those being evicted for other farms' guarantees, and GUARANTEE MET
the farm's GuaranteeMet condition (Unknown until farm-controller has reported).`,
		Example: "  kubectl farm status\n  kubectl farm status -n alice -o yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(farmstatus.Formats, output) {
				return fmt.Errorf("invalid -o/--output %q: want one of %s", output, strings.Join(farmstatus.Formats, ", "))
			}
			ns, err := explicitNamespace(flags)
			if err != nil {
				return err
			}
			cfg, cluster, err := clients(flags)
			if err != nil {
				return err
			}
			farms, err := farmstatus.List(cmd.Context(), cluster.Dynamic, ns)
			if err != nil {
				return unreachable(err, cfg)
			}
			return farmstatus.Print(streams.Out, farmstatus.Of(farms), output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: "+strings.Join(farmstatus.Formats, ", "))
	return cmd
}
