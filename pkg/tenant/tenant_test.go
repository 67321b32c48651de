package tenant

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func TestValidateNamesTheField(t *testing.T) {
	valid := Spec{Name: "alice", MinExecutors: 2}.WithDefaults()
	tests := []struct {
		name string
		edit func(*Spec)
		// want lists the fields at fault; nil means valid.
		want []string
	}{
		{"defaults", func(*Spec) {}, nil},
		{"zero minimum", func(s *Spec) { s.MinExecutors = 0 }, nil},
		{"negative minimum", func(s *Spec) { s.MinExecutors = -1 }, []string{"minExecutors"}},
		{"no ceiling", func(s *Spec) { s.MaxExecutors = ptr.To[int32](0) }, nil},
		{"ceiling at the minimum", func(s *Spec) { s.MaxExecutors = ptr.To[int32](2) }, nil},
		{"ceiling below the minimum", func(s *Spec) { s.MaxExecutors = ptr.To[int32](1) }, []string{"maxExecutors"}},
		{"negative ceiling", func(s *Spec) { s.MaxExecutors = ptr.To[int32](-1) }, []string{"maxExecutors"}},
		{"negative hysteresis", func(s *Spec) { s.ScaledownAfterNTriggers = ptr.To[int32](-1) }, []string{"scaledownAfterNTriggers"}},
		{"minimum at the bound", func(s *Spec) { s.MinExecutors = 1_000_000 }, nil},
		{"minimum above the bound", func(s *Spec) { s.MinExecutors = 1_000_001 }, []string{"minExecutors"}},
		{"ceiling above the bound", func(s *Spec) { s.MaxExecutors = ptr.To[int32](1_000_001) }, []string{"maxExecutors"}},
		{"hysteresis at the bound", func(s *Spec) { s.ScaledownAfterNTriggers = ptr.To[int32](10_000) }, nil},
		{"hysteresis above the bound", func(s *Spec) { s.ScaledownAfterNTriggers = ptr.To[int32](10_001) }, []string{"scaledownAfterNTriggers"}},
		{"upper-case name reported once", func(s *Spec) { s.Name, s.Namespace, s.FarmName = "Alice", "Alice", "Alice" }, []string{"name"}},
		{"invalid namespace", func(s *Spec) { s.Namespace = "spark_alice" }, []string{"namespace"}},
		{"kube-system by NAME", func(s *Spec) { s.Name, s.Namespace, s.FarmName = "kube-system", "kube-system", "kube-system" }, []string{"name"}},
		{"kube-system by namespace", func(s *Spec) { s.Namespace = "kube-system" }, []string{"namespace"}},
		{"default namespace", func(s *Spec) { s.Namespace = "default" }, []string{"namespace"}},
		{"Farm's own namespace", func(s *Spec) { s.Namespace = "farm-system" }, []string{"namespace"}},
		{"Farm's namespace elsewhere", func(s *Spec) { s.Namespace, s.ComponentsNamespace = "farm", "farm" }, []string{"namespace"}},
		{"farm-system when Farm runs elsewhere", func(s *Spec) { s.Namespace, s.ComponentsNamespace = "farm-system", "farm" }, nil},
		{"dotted farm name", func(s *Spec) { s.FarmName = "jupyter.alice" }, nil},
		{"invalid label key", func(s *Spec) { s.LabelKey = "spark role" }, []string{"labelKey"}},
		{"invalid label value", func(s *Spec) { s.LabelValue = "-executor" }, []string{"labelValue"}},
		{"empty driver selector", func(s *Spec) { s.DriverSelector = map[string]string{} }, []string{"driverSelector"}},
		{"restricted pods", func(s *Spec) { s.PodSecurity = "restricted" }, nil},
		{"privileged pods", func(s *Spec) { s.PodSecurity = "privileged" }, nil},
		{"unknown pod security level", func(s *Spec) { s.PodSecurity = "strict" }, []string{"podSecurity"}},
		{"invalid priority class", func(s *Spec) { s.ExecutorPriorityClass = "Farm Executor" }, []string{"executorPriorityClass"}},
		{"no allowance", func(s *Spec) {
			s.NonExecutorCPU, s.NonExecutorMemory, s.NonExecutorPods = ptr.To(resource.MustParse("0")), ptr.To(resource.MustParse("0")), ptr.To[int32](0)
		}, nil},
		{"negative cpu allowance", func(s *Spec) { s.NonExecutorCPU = ptr.To(resource.MustParse("-1")) }, []string{"nonExecutorCPU"}},
		{"negative memory allowance", func(s *Spec) { s.NonExecutorMemory = ptr.To(resource.MustParse("-1Gi")) }, []string{"nonExecutorMemory"}},
		{"negative pods allowance", func(s *Spec) { s.NonExecutorPods = ptr.To[int32](-1) }, []string{"nonExecutorPods"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid
			tt.edit(&s)
			var got []string
			for _, e := range s.Validate() {
				got = append(got, e.Field)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fields at fault (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	got := Spec{Name: "alice"}.WithDefaults()
	want := Spec{Name: "alice", Namespace: "alice", ComponentsNamespace: "farm-system", FarmName: "alice", LabelKey: "spark-role", LabelValue: "executor",
		DriverSelector: map[string]string{"spark-role": "driver"}, PodSecurity: "baseline", ExecutorPriorityClass: "farm-executor",
		NonExecutorCPU: ptr.To(resource.MustParse("4")), NonExecutorMemory: ptr.To(resource.MustParse("16Gi")), NonExecutorPods: ptr.To[int32](10)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A label key of one's own comes with its own value, even an empty one.
	if got := (Spec{Name: "a", LabelKey: "htcondor"}).WithDefaults(); got.LabelValue != "" {
		t.Errorf("label value with a custom key: got %q, want it left empty", got.LabelValue)
	}
}

func TestObjects(t *testing.T) {
	s := Spec{Name: "alice", Namespace: "spark-alice", MinExecutors: 3}.WithDefaults()
	objects, err := Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, o := range objects {
		refs = append(refs, describe(o))
		if o.Shared {
			continue
		}
		if got := o.Apply.GetLabels()[LabelTenant]; got != "alice" {
			t.Errorf("%s: tenant label %q, want alice", describe(o), got)
		}
	}
	wantRefs := []string{
		"namespace/spark-alice",
		"resourcequota/farm-non-executors in namespace spark-alice",
		"serviceaccount/alice in namespace spark-alice",
		"role.rbac.authorization.k8s.io/alice in namespace spark-alice",
		"rolebinding.rbac.authorization.k8s.io/alice in namespace spark-alice",
		"clusterrole.rbac.authorization.k8s.io/farm-tenant-cluster-reader",
		"clusterrolebinding.rbac.authorization.k8s.io/farm-tenant:alice",
		"service/spark-driver in namespace spark-alice",
		"farm.farmcontroller.toinfn.it/alice in namespace spark-alice",
	}
	if diff := cmp.Diff(wantRefs, refs); diff != "" {
		t.Errorf("objects in apply order (-want +got):\n%s", diff)
	}

	ns := objects[0].Apply
	for k, v := range PodSecurityLabels("baseline") {
		if got := ns.GetLabels()[k]; got != v {
			t.Errorf("namespace label %s = %q, want %q", k, got, v)
		}
	}
	var quota corev1.ResourceQuota
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(objects[1].Apply.Object, &quota); err != nil {
		t.Fatal(err)
	}
	wantQuota := corev1.ResourceQuotaSpec{
		Hard: corev1.ResourceList{"requests.cpu": resource.MustParse("4"), "requests.memory": resource.MustParse("16Gi"), "pods": resource.MustParse("10")},
		ScopeSelector: &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{
			{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpNotIn, Values: []string{"farm-executor"}},
		}},
	}
	if diff := cmp.Diff(wantQuota, quota.Spec); diff != "" {
		t.Errorf("non-executor quota: every pod but the executors' PriorityClass, within the default allowance (-want +got):\n%s", diff)
	}

	farm := objects[len(objects)-1].Apply
	spec, _, _ := unstructured.NestedMap(farm.Object, "spec")
	wantSpec := map[string]any{"labelKey": "spark-role", "labelValue": "executor", "minExecutors": int64(3)}
	if diff := cmp.Diff(wantSpec, spec); diff != "" {
		t.Errorf("Farm spec without --max applies only what was given (-want +got):\n%s", diff)
	}
	if _, found := farm.Object["status"]; found {
		t.Errorf("the Farm's apply configuration claims its status: %v", farm.Object["status"])
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(farm.Object, "metadata", "creationTimestamp"); found {
		t.Error("the Farm's apply configuration carries metadata.creationTimestamp")
	}

	s.MaxExecutors, s.ScaledownAfterNTriggers = ptr.To[int32](0), ptr.To[int32](5)
	objects, err = Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	spec, _, _ = unstructured.NestedMap(objects[len(objects)-1].Apply.Object, "spec")
	if spec["maxExecutors"] != int64(0) || spec["scaledownAfterNTriggers"] != int64(5) {
		t.Errorf("Farm spec with --max 0 --scaledown-after-n-triggers 5: got %v", spec)
	}
}

// TestRules checks the safety properties of the tenant's rights rather than their exact list.
func TestRules(t *testing.T) {
	allows := func(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
		for _, r := range rules {
			if contains(r.APIGroups, group) && contains(r.Resources, resource) && contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	rulesOf := map[string][]rbacv1.PolicyRule{"namespace": NamespaceRules(), "cluster": ClusterRules()}
	for _, r := range append(rulesOf["namespace"], rulesOf["cluster"]...) {
		for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
			if contains(list, rbacv1.ResourceAll) {
				t.Errorf("rule %v has a wildcard", r)
			}
		}
	}
	tests := []struct {
		scope                 string
		group, resource, verb string
		want                  bool
	}{
		{"namespace", "", "pods", "create", true},
		{"namespace", "", "pods", "delete", true},
		{"namespace", "", "pods/log", "get", true},
		{"namespace", "", "pods/exec", "create", true},
		{"namespace", "", "services", "create", true},
		{"namespace", "", "configmaps", "update", true},
		{"namespace", "", "secrets", "get", true},
		{"namespace", "", "secrets", "list", true},
		{"namespace", "", "secrets", "create", false},
		{"namespace", "", "secrets", "update", false},
		{"namespace", "", "secrets", "patch", false},
		{"namespace", "", "secrets", "delete", false},
		{"namespace", "", "pods/eviction", "create", false},
		{"namespace", "", "resourcequotas", "get", true},
		{"namespace", "", "resourcequotas", "update", false},
		{"namespace", "", "limitranges", "create", false},
		{"namespace", "", "persistentvolumeclaims", "create", true},
		{"namespace", "", "events", "list", true},
		{"namespace", "farmcontroller.toinfn.it", "farms", "get", true},
		{"namespace", "farmcontroller.toinfn.it", "farms", "create", false},
		{"namespace", "farmcontroller.toinfn.it", "farms", "update", false},
		{"namespace", "farmcontroller.toinfn.it", "farms", "patch", false},
		{"namespace", "farmcontroller.toinfn.it", "farms/scale", "update", false},
		{"namespace", "farmcontroller.toinfn.it", "farms/status", "update", false},
		{"namespace", "policy", "poddisruptionbudgets", "create", false},
		{"namespace", "rbac.authorization.k8s.io", "roles", "create", false},
		{"namespace", "rbac.authorization.k8s.io", "rolebindings", "create", false},
		{"namespace", "", "endpoints", "update", false},
		{"namespace", "", "serviceaccounts", "create", false},
		{"namespace", "", "serviceaccounts/token", "create", false},
		{"namespace", "apps", "deployments", "create", false},
		{"cluster", "", "pods", "list", true},
		{"cluster", "", "nodes", "watch", true},
		{"cluster", "", "pods", "delete", false},
		{"cluster", "", "pods/eviction", "create", false},
		{"cluster", "", "secrets", "get", false},
	}
	for _, tt := range tests {
		if got := allows(rulesOf[tt.scope], tt.group, tt.resource, tt.verb); got != tt.want {
			t.Errorf("%s rules allow %s %s.%s: got %v, want %v", tt.scope, tt.verb, tt.resource, tt.group, got, tt.want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestKubeconfig(t *testing.T) {
	s := Spec{Name: "alice", Namespace: "spark-alice"}
	kc := Kubeconfig(Server{URL: "https://api.example:6443", CAData: []byte("ca"), ClusterName: "prod"}, s, Token{Value: "tok"})
	if kc.CurrentContext != "alice" {
		t.Errorf("current context %q, want alice", kc.CurrentContext)
	}
	ctx := kc.Contexts["alice"]
	if ctx == nil || ctx.Cluster != "prod" || ctx.AuthInfo != "alice" || ctx.Namespace != "spark-alice" {
		t.Fatalf("context: got %+v, want cluster prod, user alice, namespace spark-alice", ctx)
	}
	if c := kc.Clusters["prod"]; c == nil || c.Server != "https://api.example:6443" || string(c.CertificateAuthorityData) != "ca" {
		t.Errorf("cluster: got %+v", c)
	}
	if u := kc.AuthInfos["alice"]; u == nil || u.Token != "tok" {
		t.Errorf("user: got %+v, want the token", u)
	}
	if name := Kubeconfig(Server{URL: "https://x"}, s, Token{}).Contexts["alice"].Cluster; !strings.HasPrefix(name, "kubernetes") {
		t.Errorf("cluster name without one from the administrator's kubeconfig: got %q, want kubernetes", name)
	}
}
