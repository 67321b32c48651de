package kubectlfarm

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/component-base/version"
)

func newVersionCommand(streams genericiooptions.IOStreams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of kubectl farm",
		Long: `Print the version kubectl farm was built as (Kubernetes' component-base version, set at
build time), with -o json or yaml its commit, build date and Go version too. It does not contact
the API server.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			info := version.Get()
			if output == "" {
				_, err := fmt.Fprintf(streams.Out, "kubectl-farm %s\n", info.GitVersion)
				return err
			}
			return printData(streams.Out, output, info)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml")
	return cmd
}
