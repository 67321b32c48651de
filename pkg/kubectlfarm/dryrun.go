package kubectlfarm

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/toinfn/farm/pkg/tenant"
)

// dryRunValues are --dry-run's values, as kubectl has them.
var dryRunValues = []string{"none", "client", "server"}

// addDryRunFlag adds kubectl's --dry-run; a bare --dry-run means client, as it long did in
// kubectl and in earlier versions of this plugin.
func addDryRunFlag(f *pflag.FlagSet, p *string, client string) {
	f.StringVar(p, "dry-run", "none", `"none", "client" (`+client+`) or "server" (every write sent with dryRun=All: checked and admitted by the API server, persisted nowhere)`)
	f.Lookup("dry-run").NoOptDefVal = "client"
}

// dryRunOf parses --dry-run, with an error naming the flag.
func dryRunOf(v string) (tenant.DryRun, *field.Error) {
	switch v {
	case "none":
		return tenant.NoDryRun, nil
	case "client":
		return tenant.ClientDryRun, nil
	case "server":
		return tenant.ServerDryRun, nil
	}
	return tenant.NoDryRun, field.NotSupported(field.NewPath("--dry-run"), v, dryRunValues)
}

// reporter prints each change as kubectl does, "namespace/alice created", with kubectl's
// "(dry run)" or "(server dry run)" after it.
func reporter(w io.Writer, d tenant.DryRun) func(tenant.Change) {
	suffix := map[tenant.DryRun]string{tenant.ClientDryRun: " (dry run)", tenant.ServerDryRun: " (server dry run)"}[d]
	return func(c tenant.Change) {
		if c.Action == tenant.Unchecked {
			fmt.Fprintf(w, "%s unchecked (server dry run: its namespace does not exist yet)\n", c.Ref)
			return
		}
		fmt.Fprintf(w, "%s %s%s\n", c.Ref, c.Action, suffix)
	}
}
