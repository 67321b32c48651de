package tenant

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/tenant"
	"github.com/toinfn/farm/test/harness"
)

// TestGetFarmsListsOnlyFarms: kubectl get farms -A names Farms only, while a FarmManager exists
// and the category farm-scheduler lists it with the Farms.
func TestGetFarmsListsOnlyFarms(t *testing.T) {
	mustKubectlFarm(t, "tenant", "add", "rex", "--min", "1")
	manager := &farmv1alpha1.FarmManager{
		ObjectMeta: metav1.ObjectMeta{Name: "kubectl-test-manager"},
		Spec:       farmv1alpha1.FarmManagerSpec{LabelKey: "spark-role", LabelValue: "executor"},
	}
	if err := cluster.Client.Create(t.Context(), manager); err != nil {
		t.Fatal(err)
	}
	farms := strings.Fields(mustKubectl(t, cluster.Kubeconfig, "get", "farms", "-A", "-o", "name"))
	for _, name := range farms {
		if !strings.HasPrefix(name, "farm.farmcontroller.toinfn.it/") {
			t.Errorf("kubectl get farms -A lists %s", name)
		}
	}
	if !slices.Contains(farms, "farm.farmcontroller.toinfn.it/rex") {
		t.Errorf("kubectl get farms -A lacks farm rex: %v", farms)
	}
	category := strings.Fields(mustKubectl(t, cluster.Kubeconfig, "get", "farm-scheduler", "-A", "-o", "name"))
	for _, want := range []string{"farm.farmcontroller.toinfn.it/rex", "farmmanager.farmcontroller.toinfn.it/kubectl-test-manager"} {
		if !slices.Contains(category, want) {
			t.Errorf("kubectl get farm-scheduler -A lacks %s: %v", want, category)
		}
	}
	table := cells(mustKubectl(t, cluster.Kubeconfig, "get", "farms", "-A"))
	if got := table[0][:3]; !slices.Equal(got, []string{"NAMESPACE", "NAME", "MIN"}) {
		t.Errorf("kubectl get farms -A header starts %q", got)
	}
}

// TestTenantUsesKubectl: with the kubeconfig tenant add wrote, a tenant reads its Farm with
// kubectl and kubectl farm, in its own namespace by default; tenant kubeconfig issues another
// kubeconfig that works as well.
func TestTenantUsesKubectl(t *testing.T) {
	dir := t.TempDir()
	samConfig := filepath.Join(dir, "sam.kubeconfig")
	mustKubectlFarm(t, "tenant", "add", "sam", "--min", "2", "--kubeconfig-out", samConfig)
	waitAllowed(t, tenantClient(t, samConfig), "sam",
		authorizationv1.ResourceAttributes{Verb: "list", Group: farmv1alpha1.GroupVersion.Group, Resource: "farms", Namespace: "sam"})

	get := kubectl(t, samConfig, "get", "farms")
	if rows := cells(get.Stdout); get.ExitCode != 0 || len(rows) != 2 || rows[1][0] != "sam" {
		t.Errorf("tenant's kubectl get farms: exit %d, stdout %q, stderr %q; want farm sam", get.ExitCode, get.Stdout, get.Stderr)
	}
	status := kubectlFarmWith(t, samConfig, "status")
	if rows := cells(status.Stdout); status.ExitCode != 0 || len(rows) != 2 || rows[1][0] != "sam" {
		t.Errorf("tenant's kubectl farm status: exit %d, stdout %q, stderr %q; want farm sam", status.ExitCode, status.Stdout, status.Stderr)
	}
	// Every namespace is the administrator's view: the same command succeeds for the admin.
	all := kubectlFarmWith(t, samConfig, "status", "-A")
	if all.ExitCode == 0 || !strings.Contains(all.Stderr, "forbidden") {
		t.Errorf("tenant's kubectl farm status -A: exit %d, stderr %q; want forbidden", all.ExitCode, all.Stderr)
	}
	if rows := keepRows(cells(mustKubectlFarm(t, "status", "-A")), "sam"); len(rows) != 1 {
		t.Errorf("admin's kubectl farm status -A: rows of sam %q, want one", rows)
	}

	freshConfig := filepath.Join(dir, "sam-fresh.kubeconfig")
	out := mustKubectlFarm(t, "tenant", "kubeconfig", "sam", "--kubeconfig-out", freshConfig)
	if !strings.Contains(out, "kubeconfig for tenant sam written to "+freshConfig) {
		t.Errorf("tenant kubeconfig: output %q", out)
	}
	if info, err := os.Stat(freshConfig); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("fresh kubeconfig: %v, mode %v; want 0600", err, info.Mode())
	}
	if token(t, freshConfig) == token(t, samConfig) {
		t.Errorf("tenant kubeconfig repeated the first token")
	}
	fresh := kubectl(t, freshConfig, "get", "farm", "sam", "-o", "name")
	if fresh.ExitCode != 0 || fresh.Stdout != "farm.farmcontroller.toinfn.it/sam\n" {
		t.Errorf("kubectl get farm sam with the fresh kubeconfig: exit %d, stdout %q, stderr %q", fresh.ExitCode, fresh.Stdout, fresh.Stderr)
	}
	unknown := kubectlFarm(t, "tenant", "kubeconfig", "nobody", "--kubeconfig-out", filepath.Join(dir, "nobody"))
	if unknown.ExitCode == 0 || !strings.Contains(unknown.Stderr, `unknown tenant "nobody"`) {
		t.Errorf("tenant kubeconfig nobody: exit %d, stderr %q; want unknown tenant", unknown.ExitCode, unknown.Stderr)
	}
}

func token(t *testing.T, kubeconfig string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo].Token
}

// TestServerDryRun: --dry-run=server has the API server check every write and persist none.
func TestServerDryRun(t *testing.T) {
	ctx := t.Context()
	out := mustKubectlFarm(t, "tenant", "add", "tia", "--min", "2", "--dry-run=server")
	for _, want := range []string{
		"namespace/tia created (server dry run)",
		"clusterrolebinding.rbac.authorization.k8s.io/farm-tenant:tia created (server dry run)",
		"farm.farmcontroller.toinfn.it/tia unchecked (server dry run: its namespace does not exist yet)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("server dry run of a new tenant: output lacks %q:\n%s", want, out)
		}
	}
	if _, err := cluster.Clientset.CoreV1().Namespaces().Get(ctx, "tia", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace tia after a server dry run: err %v, want NotFound", err)
	}
	if _, err := cluster.Clientset.RbacV1().ClusterRoleBindings().Get(ctx, "farm-tenant:tia", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("clusterrolebinding farm-tenant:tia after a server dry run: err %v, want NotFound", err)
	}

	mustKubectlFarm(t, "tenant", "add", "uma", "--min", "2")
	out = mustKubectlFarm(t, "tenant", "add", "uma", "--min", "5", "--dry-run=server")
	for _, want := range []string{"farm.farmcontroller.toinfn.it/uma configured (server dry run)", "role.rbac.authorization.k8s.io/uma unchanged (server dry run)"} {
		if !strings.Contains(out, want) {
			t.Errorf("server dry run of a new minimum: output lacks %q:\n%s", want, out)
		}
	}
	farm := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, typesName("uma", "uma"), farm); err != nil || farm.Spec.MinExecutors != 2 {
		t.Errorf("Farm uma after a server dry run of --min 5: err %v, minExecutors %d, want 2", err, farm.Spec.MinExecutors)
	}
	// The API server checks rights in a dry run too: what the administrator may, a stranger may not.
	stranger := kubectlFarm(t, "--as", "stranger", "tenant", "add", "uma", "--min", "5", "--dry-run=server")
	if stranger.ExitCode == 0 || !strings.Contains(stranger.Stderr, "forbidden") {
		t.Errorf("server dry run as a stranger: exit %d, stderr %q; want forbidden", stranger.ExitCode, stranger.Stderr)
	}

	for mode, suffix := range map[string]string{"server": " (server dry run)", "client": " (dry run)"} {
		out := mustKubectlFarm(t, "tenant", "remove", "uma", "--dry-run="+mode)
		if !strings.Contains(out, "farm.farmcontroller.toinfn.it/uma deleted"+suffix) {
			t.Errorf("tenant remove --dry-run=%s: output lacks the Farm deleted%s:\n%s", mode, suffix, out)
		}
		if err := cluster.Client.Get(ctx, typesName("uma", "uma"), farm); err != nil {
			t.Errorf("Farm uma after tenant remove --dry-run=%s: %v", mode, err)
		}
	}
}

// TestSparkConfOut: tenant add writes the tenant's spark-defaults.conf, the text of the
// example for its own namespace.
func TestSparkConfOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spark-defaults.conf")
	out := mustKubectlFarm(t, "tenant", "add", "vic", "--min", "1", "-n", "spark-vic", "--spark-conf-out", path)
	if !strings.Contains(out, "spark-defaults.conf for tenant vic written to "+path) {
		t.Errorf("output lacks the spark-defaults.conf written:\n%s", out)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tenant.SparkDefaults(tenant.Spec{Name: "vic", Namespace: "spark-vic", MinExecutors: 1}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("--spark-conf-out wrote:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range []string{"spark.kubernetes.namespace                       spark-vic", "spark.driver.host                                spark-driver.spark-vic.svc"} {
		if !slices.Contains(strings.Split(string(got), "\n"), line) {
			t.Errorf("spark-defaults.conf lacks %q", line)
		}
	}
}

// TestVersionAndCompletion: kubectl farm version needs no cluster; kubectl farm <TAB> completes
// through the shipped kubectl_complete-farm once it is on PATH, and not without it.
func TestVersionAndCompletion(t *testing.T) {
	if out := mustKubectlFarm(t, "version"); !strings.HasPrefix(out, "kubectl-farm v") {
		t.Errorf("kubectl farm version: %q", out)
	}
	bin := filepath.Dir(harness.Binary(t, "kubectl-farm"))
	plugins := filepath.Join(harness.ModuleRoot(t), "plugins")
	complete := func(path string, words ...string) []string {
		t.Helper()
		r := harness.RunCommand(t.Context(), t, []string{"PATH=" + path}, "kubectl", append([]string{"__complete", "farm"}, words...)...)
		if r.ExitCode != 0 {
			t.Fatalf("kubectl __complete farm %v: exit %d, stderr %q", words, r.ExitCode, r.Stderr)
		}
		var got []string
		for _, line := range strings.Split(r.Stdout, "\n") {
			if word, _, _ := strings.Cut(line, "\t"); word != "" && !strings.HasPrefix(word, ":") {
				got = append(got, word)
			}
		}
		return got
	}
	withHelper := strings.Join([]string{bin, plugins, os.Getenv("PATH")}, string(os.PathListSeparator))
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{""}, []string{"completion", "status", "tenant", "version", "what-if"}},
		{[]string{"tenant", ""}, []string{"add", "kubeconfig", "remove"}},
	} {
		got := complete(withHelper, tc.words...)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("kubectl farm %v<TAB>: %v lacks %s", tc.words, got, w)
			}
		}
	}
	withoutHelper := strings.Join([]string{bin, os.Getenv("PATH")}, string(os.PathListSeparator))
	if got := complete(withoutHelper, ""); slices.Contains(got, "status") {
		t.Errorf("kubectl farm <TAB> completed without kubectl_complete-farm on PATH: %v", got)
	}
}
