package kubectlfarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/toinfn/farm/pkg/tenant"
)

// addOptions are tenant add's flags.
type addOptions struct {
	name                    string
	namespace               string
	farmName                string
	min                     int32
	max                     int32
	maxSet                  bool
	scaledownAfterNTriggers int32
	scaledownSet            bool
	labelKey, labelValue    string
	driverSelector          string
	kubeconfigOut           string
	sparkConfOut            string
	farmNamespace           string
	tokenDuration           time.Duration
	dryRunFlag              string
	dryRun                  tenant.DryRun
	podSecurity             string
	executorPriorityClass   string
	nonExecutorCPU          string
	nonExecutorMemory       string
	nonExecutorPods         int32
}

// flagOf names the flag behind each field of tenant.Spec, so validation errors name what the
// user typed.
var flagOf = map[string]string{
	"name":                    "NAME",
	"namespace":               "--namespace",
	"farmName":                "--farm-name",
	"minExecutors":            "--min",
	"maxExecutors":            "--max",
	"scaledownAfterNTriggers": "--scaledown-after-n-triggers",
	"labelKey":                "--label-key",
	"labelValue":              "--label-value",
	"driverSelector":          "--driver-selector",
	"podSecurity":             "--pod-security",
	"executorPriorityClass":   "--executor-priority-class",
	"nonExecutorCPU":          "--non-executor-cpu",
	"nonExecutorMemory":       "--non-executor-memory",
	"nonExecutorPods":         "--non-executor-pods",
}

func newAddCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &addOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME --min N",
		Short: "Add a tenant: namespace, credentials, RBAC, Spark driver Service and Farm",
		Long: `Add a tenant, or bring an existing one to these settings (running it again changes nothing).

Creates, by server-side apply with the field manager kubectl-farm:
  - the namespace (NAME, or -n), enforcing the Pod Security Standard --pod-security and warning
    about restricted; a namespace that exists already is used as it is, with these labels;
  - the ResourceQuota farm-non-executors: what the tenant's pods other than executors (drivers,
    notebooks) may request, --non-executor-cpu, --non-executor-memory, --non-executor-pods.
    Executors opt out of it with priorityClassName --executor-priority-class (the chart's);
  - a ServiceAccount NAME, a Role NAME for what a Spark driver does (pods, services,
    configmaps, persistentvolumeclaims; Secrets and Farms read only), and a RoleBinding;
  - a ClusterRoleBinding farm-tenant:NAME to the shared ClusterRole farm-tenant-cluster-reader,
    which reads pods and nodes cluster-wide;
  - the headless Service spark-driver (ports 7078, 7079, 4040) selecting the Spark driver pod;
  - the Farm (NAME, or --farm-name) with the guarantee --min.
With --kubeconfig-out, writes a kubeconfig for the tenant with a service account token from the
TokenRequest API, valid for --token-duration (the API server may shorten it; tenant kubeconfig
NAME issues a fresh one). With --spark-conf-out, writes the tenant's spark-defaults.conf. If a
step fails, the objects this run created are deleted again.

--dry-run=client prints the objects as YAML without contacting the API server; --dry-run=server
sends them to it with dryRun=All, which checks them (and your right to write them) and persists
nothing; objects in a namespace that does not exist yet cannot be checked that way.`,
		Example: `  kubectl farm tenant add alice --min 10 --kubeconfig-out alice.kubeconfig
  kubectl farm tenant add bob --min 4 --max 20 -n spark-bob
  kubectl farm tenant add carol --min 2 --spark-conf-out spark-defaults.conf
  kubectl farm tenant add carol --min 2 --dry-run=server`,
		Args: exactName,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			o.maxSet = cmd.Flags().Changed("max")
			o.scaledownSet = cmd.Flags().Changed("scaledown-after-n-triggers")
			ns, err := explicitNamespace(flags)
			if err != nil {
				return err
			}
			o.namespace = ns
			return o.run(cmd, flags, streams)
		},
	}
	f := cmd.Flags()
	f.Int32Var(&o.min, "min", 0, "the tenant's guarantee: executors it gets back by reclaim when below it (required, 0 or more)")
	f.Int32Var(&o.max, "max", 0, "the ceiling on the tenant's executors; 0 is none (when not given, a ceiling set by editing the Farm is kept)")
	f.Int32Var(&o.scaledownAfterNTriggers, "scaledown-after-n-triggers", 0, "reclaim triggers the farm withstands before it loses borrowed executors (when not given, the Farm's default)")
	f.StringVar(&o.farmName, "farm-name", "", "name of the tenant's Farm (default NAME)")
	f.StringVar(&o.farmNamespace, "farm-namespace", tenant.DefaultComponentsNamespace, "namespace Farm runs in (its Helm release's): no tenant may use it")
	f.StringVar(&o.labelKey, "label-key", tenant.DefaultLabelKey, "label key that marks the tenant's executor pods")
	f.StringVar(&o.labelValue, "label-value", tenant.DefaultLabelValue, "value of --label-key that marks an executor")
	f.StringVar(&o.driverSelector, "driver-selector", tenant.DefaultDriverSelector, "labels (k=v,...) of the Spark driver pod, selected by the spark-driver Service")
	f.StringVar(&o.kubeconfigOut, "kubeconfig-out", "", "write a kubeconfig for the tenant to this file (mode 0600)")
	f.DurationVar(&o.tokenDuration, "token-duration", tenant.DefaultTokenDuration, "validity of the token in --kubeconfig-out")
	f.StringVar(&o.sparkConfOut, "spark-conf-out", "", "write the tenant's spark-defaults.conf (namespace, service account, farm-scheduler, executor label, driver Service) to this file")
	addDryRunFlag(f, &o.dryRunFlag, "print the objects as YAML")
	f.StringVar(&o.podSecurity, "pod-security", tenant.DefaultPodSecurity, "Pod Security Standard the namespace enforces: privileged, baseline or restricted (restricted is always warned about)")
	f.StringVar(&o.executorPriorityClass, "executor-priority-class", tenant.DefaultExecutorPriorityClass, "PriorityClass of the executors (the chart's), which the non-executor allowance leaves out")
	f.StringVar(&o.nonExecutorCPU, "non-executor-cpu", tenant.DefaultNonExecutorCPU.String(), "CPU the tenant's pods that are not executors (drivers, notebooks) may request in total; never reclaimed")
	f.StringVar(&o.nonExecutorMemory, "non-executor-memory", tenant.DefaultNonExecutorMemory.String(), "memory the tenant's pods that are not executors may request in total")
	f.Int32Var(&o.nonExecutorPods, "non-executor-pods", tenant.DefaultNonExecutorPods, "how many pods that are not executors the tenant may run")
	_ = cmd.MarkFlagRequired("min")
	return cmd
}

// spec turns the flags into a defaulted, valid tenant.Spec, or an error naming the flags at
// fault.
func (o *addOptions) spec() (tenant.Spec, error) {
	s := tenant.Spec{
		Name:                  o.name,
		Namespace:             o.namespace,
		ComponentsNamespace:   o.farmNamespace,
		FarmName:              o.farmName,
		MinExecutors:          o.min,
		LabelKey:              o.labelKey,
		LabelValue:            o.labelValue,
		PodSecurity:           o.podSecurity,
		ExecutorPriorityClass: o.executorPriorityClass,
		NonExecutorPods:       &o.nonExecutorPods,
	}
	if o.maxSet {
		s.MaxExecutors = &o.max
	}
	if o.scaledownSet {
		s.ScaledownAfterNTriggers = &o.scaledownAfterNTriggers
	}
	var errs field.ErrorList
	for _, q := range []struct {
		path, value string
		into        **resource.Quantity
	}{{"nonExecutorCPU", o.nonExecutorCPU, &s.NonExecutorCPU}, {"nonExecutorMemory", o.nonExecutorMemory, &s.NonExecutorMemory}} {
		parsed, err := resource.ParseQuantity(q.value)
		if err != nil {
			errs = append(errs, field.Invalid(field.NewPath(q.path), q.value, "must be a quantity such as 2, 500m or 8Gi"))
			continue
		}
		*q.into = &parsed
	}
	if selector, err := labels.ConvertSelectorToLabelsMap(o.driverSelector); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("driverSelector"), o.driverSelector, "must be labels as key=value[,key=value]"))
	} else {
		s.DriverSelector = selector
	}
	s = s.WithDefaults()
	errs = append(errs, s.Validate()...)
	if o.tokenDuration < tenant.MinTokenDuration {
		errs = append(errs, field.Invalid(field.NewPath("--token-duration"), o.tokenDuration.String(), "must be at least "+tenant.MinTokenDuration.String()))
	}
	// Output files are checked before anything is applied, so a mistyped path costs nothing to
	// undo.
	for _, out := range []struct{ flag, path string }{{"--kubeconfig-out", o.kubeconfigOut}, {"--spark-conf-out", o.sparkConfOut}} {
		if out.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(out.path)); err != nil || !st.IsDir() {
			errs = append(errs, field.Invalid(field.NewPath(out.flag), out.path, "its directory does not exist"))
		}
	}
	if o.sparkConfOut != "" && len(errs) == 0 {
		if _, err := tenant.SparkDefaults(s); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("--spark-conf-out"), o.sparkConfOut, err.Error()))
		}
	}
	var dryRunErr *field.Error
	if o.dryRun, dryRunErr = dryRunOf(o.dryRunFlag); dryRunErr != nil {
		errs = append(errs, dryRunErr)
	}
	if len(errs) == 0 {
		return s, nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		if flag, ok := flagOf[e.Field]; ok {
			e.Field = flag
		}
		msgs[i] = e.Error()
	}
	if len(msgs) == 1 {
		return tenant.Spec{}, fmt.Errorf("invalid tenant: %s", msgs[0])
	}
	return tenant.Spec{}, fmt.Errorf("invalid tenant:\n  %s", strings.Join(msgs, "\n  "))
}

func (o *addOptions) run(cmd *cobra.Command, flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) error {
	s, err := o.spec()
	if err != nil {
		return err
	}
	if o.dryRun == tenant.ClientDryRun {
		return printObjects(streams, s, o.kubeconfigOut, o.sparkConfOut)
	}
	cfg, cluster, err := clients(flags)
	if err != nil {
		return err
	}
	cluster.DryRun = o.dryRun
	ctx := cmd.Context()
	added, err := tenant.Add(ctx, cluster, s, reporter(streams.Out, o.dryRun))
	if err != nil {
		return unreachable(fmt.Errorf("adding tenant %s: %w", s.Name, err), cfg)
	}
	if o.dryRun == tenant.ServerDryRun {
		notWritten(streams.ErrOut, o.kubeconfigOut, o.sparkConfOut)
		return nil
	}
	if err := o.writeFiles(ctx, flags, cfg, cluster, s, streams.Out); err != nil {
		if rerr := added.Rollback(ctx); rerr != nil {
			err = fmt.Errorf("%w; %w", err, rerr)
		}
		return unreachable(fmt.Errorf("adding tenant %s: %w", s.Name, err), cfg)
	}
	return nil
}

// writeFiles writes what the tenant is handed: its kubeconfig and its Spark settings.
func (o *addOptions) writeFiles(ctx context.Context, flags *genericclioptions.ConfigFlags, cfg *rest.Config, cluster tenant.Cluster, s tenant.Spec, out io.Writer) error {
	if o.kubeconfigOut != "" {
		if err := writeKubeconfig(ctx, flags, cfg, cluster, s, o.tokenDuration, o.kubeconfigOut, out); err != nil {
			return err
		}
	}
	if o.sparkConfOut == "" {
		return nil
	}
	conf, err := tenant.SparkDefaults(s)
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.sparkConfOut, conf, 0o644); err != nil {
		return fmt.Errorf("writing --spark-conf-out %s: %w", o.sparkConfOut, err)
	}
	fmt.Fprintf(out, "spark-defaults.conf for tenant %s written to %s\n", s.Name, o.sparkConfOut)
	return nil
}

// writeKubeconfig issues a token for the tenant's service account and writes its kubeconfig.
func writeKubeconfig(ctx context.Context, flags *genericclioptions.ConfigFlags, cfg *rest.Config, cluster tenant.Cluster, s tenant.Spec, d time.Duration, path string, out io.Writer) error {
	server, err := serverOf(flags, cfg)
	if err != nil {
		return err
	}
	token, err := tenant.IssueToken(ctx, cluster, s, d)
	if err != nil {
		return err
	}
	if err := writeOwnerOnly(tenant.Kubeconfig(server, s, token), path); err != nil {
		return fmt.Errorf("writing --kubeconfig-out %s: %w", path, err)
	}
	fmt.Fprintf(out, "kubeconfig for tenant %s written to %s (token expires %s)\n", s.Name, path, token.Expires.UTC().Format(time.RFC3339))
	return nil
}

// writeOwnerOnly writes a tenant's kubeconfig readable by its owner only (0600), whatever mode
// a file already at path had: it holds a bearer token.
func writeOwnerOnly(kc *clientcmdapi.Config, path string) error {
	content, err := clientcmd.Write(*kc)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	// An existing file keeps its mode on open: narrow it before the token goes in.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(content); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// serverOf is the API server as the administrator reaches it, for the tenant's kubeconfig.
func serverOf(flags *genericclioptions.ConfigFlags, cfg *rest.Config) (tenant.Server, error) {
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		data, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return tenant.Server{}, fmt.Errorf("reading the cluster's CA for the tenant's kubeconfig: %w", err)
		}
		ca = data
	}
	server := tenant.Server{URL: cfg.Host, CAData: ca, TLSServerName: cfg.ServerName, Insecure: cfg.Insecure}
	if raw, err := flags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		name := raw.CurrentContext
		if flags.Context != nil && *flags.Context != "" {
			name = *flags.Context
		}
		if c := raw.Contexts[name]; c != nil {
			server.ClusterName = c.Cluster
		}
	}
	return server, nil
}

// printObjects is --dry-run=client: the objects as they would be applied, as one YAML stream.
func printObjects(streams genericiooptions.IOStreams, s tenant.Spec, kubeconfigOut, sparkConfOut string) error {
	objects, err := tenant.Objects(s)
	if err != nil {
		return err
	}
	for i, obj := range objects {
		data, err := yaml.Marshal(obj.Apply.Object)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(streams.Out, "---")
		}
		if _, err := streams.Out.Write(data); err != nil {
			return err
		}
	}
	notWritten(streams.ErrOut, kubeconfigOut, sparkConfOut)
	return nil
}

// notWritten says which files a dry run did not write.
func notWritten(w io.Writer, kubeconfigOut, sparkConfOut string) {
	if kubeconfigOut != "" {
		fmt.Fprintf(w, "dry run: no token requested, %s not written\n", kubeconfigOut)
	}
	if sparkConfOut != "" {
		fmt.Fprintf(w, "dry run: %s not written\n", sparkConfOut)
	}
}

func newRemoveCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	var dryRunFlag string
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a tenant and everything tenant add created for it",
		Long: `Remove a tenant: every object labelled farmcontroller.toinfn.it/tenant=NAME, namely its Farm,
spark-driver Service, RoleBinding, Role, ServiceAccount (which revokes the tokens of its
kubeconfig) and ClusterRoleBinding, and its namespace with everything in it when tenant add
created that namespace. The shared ClusterRole farm-tenant-cluster-reader stays.`,
		Example: "  kubectl farm tenant remove alice\n  kubectl farm tenant remove alice --dry-run=server",
		Args:    exactName,
		RunE: func(cmd *cobra.Command, args []string) error {
			dryRun, ferr := dryRunOf(dryRunFlag)
			if ferr != nil {
				return ferr
			}
			cfg, cluster, err := clients(flags)
			if err != nil {
				return err
			}
			cluster.DryRun = dryRun
			err = tenant.Remove(cmd.Context(), cluster, args[0], reporter(streams.Out, dryRun))
			if errors.Is(err, tenant.ErrNotFound) {
				return fmt.Errorf("unknown tenant %q: %w", args[0], err)
			}
			if err != nil {
				return unreachable(fmt.Errorf("removing tenant %s: %w", args[0], err), cfg)
			}
			return nil
		},
	}
	addDryRunFlag(cmd.Flags(), &dryRunFlag, "list what would be deleted")
	return cmd
}

// exactName accepts exactly one argument, the tenant's name, and says so otherwise.
func exactName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		return fmt.Errorf("%s needs exactly one argument, the tenant's NAME (got %d)", cmd.CommandPath(), len(args))
	}
	return nil
}
