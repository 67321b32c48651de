package kubectlfarm

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/toinfn/farm/pkg/tenant"
)

// newKubeconfigCommand is tenant kubeconfig: a fresh token for an existing tenant, without
// re-applying anything.
func newKubeconfigCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	var out string
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "kubeconfig NAME --kubeconfig-out FILE",
		Short: "Write a kubeconfig with a fresh token for an existing tenant",
		Long: `Write a kubeconfig for tenant NAME with a new token of its service account from the TokenRequest
API, valid for --token-duration (the API server may shorten it), as tenant add --kubeconfig-out
does. The tenant's namespace is the one tenant add recorded. Earlier tokens stay valid until they
expire; tenant remove revokes them all.`,
		Example: "  kubectl farm tenant kubeconfig alice --kubeconfig-out alice.kubeconfig",
		Args:    exactName,
		RunE: func(cmd *cobra.Command, args []string) error {
			if duration < tenant.MinTokenDuration {
				return fmt.Errorf("invalid --token-duration %s: must be at least %s", duration, tenant.MinTokenDuration)
			}
			cfg, cluster, err := clients(flags)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			ns, err := tenant.Namespace(ctx, cluster, args[0])
			if errors.Is(err, tenant.ErrNotFound) {
				return fmt.Errorf("unknown tenant %q: %w", args[0], err)
			}
			if err != nil {
				return unreachable(err, cfg)
			}
			s := tenant.Spec{Name: args[0], Namespace: ns}
			return unreachable(writeKubeconfig(ctx, flags, cfg, cluster, s, duration, out, streams.Out), cfg)
		},
	}
	cmd.Flags().StringVar(&out, "kubeconfig-out", "", "write the tenant's kubeconfig to this file (mode 0600)")
	cmd.Flags().DurationVar(&duration, "token-duration", tenant.DefaultTokenDuration, "validity of the token")
	_ = cmd.MarkFlagRequired("kubeconfig-out")
	return cmd
}
