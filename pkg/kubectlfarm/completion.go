package kubectlfarm

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// CompletionHelper is the executable kubectl (1.26 or later) runs, found on PATH, to complete a
// plugin's arguments: `kubectl farm <TAB>` runs kubectl_complete-farm with the words typed.
const CompletionHelper = "kubectl_complete-farm"

func newCompletionCommand(root *cobra.Command, streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print a shell completion script for kubectl-farm run as a command of its own:

  source <(kubectl-farm completion bash)

For kubectl farm <TAB>, kubectl's own completion does the work (source <(kubectl completion
bash)); it asks the executable ` + CompletionHelper + ` on PATH. Put the ` + CompletionHelper + `
script shipped with the plugin (plugins/` + CompletionHelper + ` in its repository, and in the
krew package, whose caveats say how to link it) on PATH next to kubectl-farm; it runs
kubectl-farm __complete.`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(_ *cobra.Command, args []string) error {
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(streams.Out, true)
			case "zsh":
				return root.GenZshCompletion(streams.Out)
			case "fish":
				return root.GenFishCompletion(streams.Out, true)
			}
			return fmt.Errorf("unknown shell %q: want bash, zsh or fish", args[0])
		},
	}
}
