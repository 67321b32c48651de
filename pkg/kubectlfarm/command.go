// Package kubectlfarm is the command line of the kubectl farm plugin: flags, their validation and
// what is printed, on cli-runtime's conventions (kubectl's connection flags, namespace, -o and
// --dry-run). Package tenant does the onboarding; the Farm CRD's printer columns are the summary.
package kubectlfarm

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/toinfn/farm/pkg/tenant"
)

// NewCommand returns the kubectl farm command with its subcommands.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	cmd := &cobra.Command{
		Use:   "kubectl-farm",
		Short: "Onboard Farm tenants and show every farm's guarantee and usage",
		Long: `kubectl farm adds and removes the tenants of a cluster shared with Farm (each with a
namespace, credentials and a Farm guaranteeing it a minimum of executors), issues their
kubeconfigs and Spark settings, and shows the farms' status.`,
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl farm"},
		// Errors are printed once, by the caller; a usage dump would bury them.
		SilenceErrors: true,
		SilenceUsage:  true,
		// The completion command is ours: it explains kubectl farm <TAB>.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	flags.AddFlags(cmd.PersistentFlags())
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)

	tenantCmd := &cobra.Command{
		Use:   "tenant",
		Short: "Add or remove a tenant, or issue its kubeconfig",
	}
	tenantCmd.AddCommand(newAddCommand(flags, streams), newRemoveCommand(flags, streams), newKubeconfigCommand(flags, streams))
	cmd.AddCommand(tenantCmd, newStatusCommand(flags, streams), newWhatIfCommand(flags, streams), newVersionCommand(streams), newCompletionCommand(cmd, streams))
	return cmd
}

// clients builds what the subcommands need from kubectl's connection flags.
func clients(flags *genericclioptions.ConfigFlags) (*rest.Config, tenant.Cluster, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, tenant.Cluster{}, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, tenant.Cluster{}, err
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, tenant.Cluster{}, err
	}
	return cfg, tenant.Cluster{Dynamic: dyn, ServiceAccounts: core}, nil
}

// explicitNamespace returns the namespace given with -n, or "" when the flag was not used (the
// kubeconfig context's namespace does not count: a tenant's namespace defaults to its name).
func explicitNamespace(flags *genericclioptions.ConfigFlags) (string, error) {
	ns, explicit, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil || !explicit {
		return "", err
	}
	return ns, nil
}

// unreachable says plainly that the API server could not be reached, instead of leaving a
// transport error to be deciphered.
func unreachable(err error, cfg *rest.Config) error {
	var ue *url.Error
	if cfg != nil && errors.As(err, &ue) {
		return fmt.Errorf("cannot reach the Kubernetes API server at %s (check --kubeconfig and --context): %w", cfg.Host, err)
	}
	return err
}
