package tenant

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Object is one object of a tenant, as it is applied.
type Object struct {
	// Resource is where the object is served; the objects of a tenant are fixed, so no discovery
	// is needed to apply or delete them.
	Resource schema.GroupVersionResource
	// Shared objects serve every tenant: they are applied but never rolled back or removed.
	Shared bool
	// Apply is the apply configuration: only the fields kubectl farm owns.
	Apply *unstructured.Unstructured
}

// Ref names the object the way kubectl does, e.g. serviceaccount/alice.
func (o Object) Ref() string {
	kind := strings.ToLower(o.Apply.GetKind())
	if o.Resource.Group != "" {
		kind += "." + o.Resource.Group
	}
	return kind + "/" + o.Apply.GetName()
}

var (
	namespacesResource          = corev1.SchemeGroupVersion.WithResource("namespaces")
	serviceAccountsResource     = corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	servicesResource            = corev1.SchemeGroupVersion.WithResource("services")
	resourceQuotasResource      = corev1.SchemeGroupVersion.WithResource("resourcequotas")
	rolesResource               = rbacv1.SchemeGroupVersion.WithResource("roles")
	roleBindingsResource        = rbacv1.SchemeGroupVersion.WithResource("rolebindings")
	clusterRolesResource        = rbacv1.SchemeGroupVersion.WithResource("clusterroles")
	clusterRoleBindingsResource = rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings")
	// FarmsResource is where Farms are served.
	FarmsResource = farmv1alpha1.GroupVersion.WithResource("farms")
)

// Verbs that give full use of a resource. Listed rather than "*" so that a verb added to
// Kubernetes later is not granted without review.
var fullUse = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
var readOnly = []string{"get", "list", "watch"}

// NamespaceRules is what a tenant may do in its own namespace: what a Spark driver does (its
// executor pods, their services, configuration and volume claims) and what a person needs to
// follow and debug it (logs, exec, attach and port-forward, which grant nothing that creating a
// pod does not, events). Deliberately absent: writing Secrets (a long-lived token Secret would
// outlive the tenant's kubeconfig; the administrator provides the Secrets a job reads), writing
// Farms (the guarantee is the administrator's), writing Endpoints (see below),
// PodDisruptionBudgets (one over its executors would block the reclaim of capacity it borrows),
// workload controllers (Spark creates its pods itself) and RBAC (it cannot widen its own rights).
// Service externalIPs and the executors' PriorityClass on other pods are refused by the chart's
// admission policies, which RBAC cannot express.
func NamespaceRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "services", "configmaps", "persistentvolumeclaims"}, Verbs: fullUse},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: readOnly},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		// Streaming subresources are authorized as create (POST) or get (websocket upgrade).
		{APIGroups: []string{""}, Resources: []string{"pods/exec", "pods/attach", "pods/portforward"}, Verbs: []string{"get", "create"}},
		// Endpoints are read-only: writing them could steer another namespace's traffic
		// (CVE-2021-25740), which is why the built-in edit role stopped granting it. The quota
		// is readable so a tenant sees what is left of its allowance.
		{APIGroups: []string{""}, Resources: []string{"endpoints", "events", "serviceaccounts", "resourcequotas", "limitranges"}, Verbs: readOnly},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: readOnly},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: readOnly},
		{APIGroups: []string{farmv1alpha1.GroupVersion.Group}, Resources: []string{"farms"}, Verbs: readOnly},
	}
}

// Pod Security Admission labels. Every level is checked against the newest standard the
// cluster knows (latest): admission checks only pods being created, so running executors are
// never disturbed by an upgrade, and a newly closed escape is closed at once.
const (
	podSecurityEnforce = "pod-security.kubernetes.io/enforce"
	podSecurityWarn    = "pod-security.kubernetes.io/warn"
	podSecurityAudit   = "pod-security.kubernetes.io/audit"
)

// PodSecurityLabels are the labels tenant add sets on a tenant's namespace: level enforced, and
// restricted warned about and audited, so a tenant sees what a stricter level would refuse.
func PodSecurityLabels(level string) map[string]string {
	return map[string]string{
		podSecurityEnforce:              level,
		podSecurityEnforce + "-version": "latest",
		podSecurityWarn:                 "restricted",
		podSecurityWarn + "-version":    "latest",
		podSecurityAudit:                "restricted",
		podSecurityAudit + "-version":   "latest",
	}
}

// keptNamespace is what tenant add applies to a namespace that existed before and belongs to no
// tenant: only its Pod Security labels, so the tenant gets the same isolation there, and the
// namespace stays out of the tenant's removal.
func keptNamespace(s Spec) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(corev1ac.Namespace(s.Namespace).WithLabels(PodSecurityLabels(s.PodSecurity)))
	if err != nil {
		return nil, fmt.Errorf("building namespace %s: %w", s.Namespace, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// nonExecutorQuota bounds the tenant's pods that are not of the executors' PriorityClass
// (drivers, notebooks, anything else): capacity they hold is not reclaimable, so the
// administrator sets how much. Pods without a PriorityClass count too; the chart's admission
// policy lets only a Farm's executors use the executors' class.
func nonExecutorQuota(s Spec, labels map[string]string) *corev1ac.ResourceQuotaApplyConfiguration {
	return corev1ac.ResourceQuota(NonExecutorQuotaName, s.Namespace).WithLabels(labels).
		WithSpec(corev1ac.ResourceQuotaSpec().
			WithHard(corev1.ResourceList{
				corev1.ResourceRequestsCPU:    *s.NonExecutorCPU,
				corev1.ResourceRequestsMemory: *s.NonExecutorMemory,
				corev1.ResourcePods:           *resource.NewQuantity(int64(*s.NonExecutorPods), resource.DecimalSI),
			}).
			WithScopeSelector(corev1ac.ScopeSelector().WithMatchExpressions(
				corev1ac.ScopedResourceSelectorRequirement().
					WithScopeName(corev1.ResourceQuotaScopePriorityClass).
					WithOperator(corev1.ScopeSelectorOpNotIn).
					WithValues(s.ExecutorPriorityClass))))
}

// ClusterRules is what every tenant may read cluster-wide, as the original cluster's tenants
// could: other tenants' pods and the nodes, to see where capacity is.
func ClusterRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "nodes"}, Verbs: readOnly},
	}
}

// ClusterRoleBindingName is the name of a tenant's binding to the shared cluster reader role.
func ClusterRoleBindingName(tenant string) string { return "farm-tenant:" + tenant }

// Objects returns a defaulted, valid tenant's objects in the order they are applied: each one
// after those it refers to.
func Objects(s Spec) ([]Object, error) {
	labels := map[string]string{LabelManagedBy: FieldManager, LabelTenant: s.Name}
	sharedLabels := map[string]string{LabelManagedBy: FieldManager}
	subject := rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithNamespace(s.Namespace).WithName(s.Name)

	var rules []*rbacv1ac.PolicyRuleApplyConfiguration
	for _, r := range NamespaceRules() {
		rules = append(rules, ruleApply(r))
	}
	var clusterRules []*rbacv1ac.PolicyRuleApplyConfiguration
	for _, r := range ClusterRules() {
		clusterRules = append(clusterRules, ruleApply(r))
	}

	service := corev1ac.Service(DriverServiceName, s.Namespace).WithLabels(labels).
		WithSpec(corev1ac.ServiceSpec().
			// Headless: executors resolve the driver pod's own address, as Spark expects.
			WithClusterIP(corev1.ClusterIPNone).
			WithSelector(s.DriverSelector).
			WithPorts(
				corev1ac.ServicePort().WithName("driver-rpc-port").WithPort(DriverPort).WithProtocol(corev1.ProtocolTCP),
				corev1ac.ServicePort().WithName("blockmanager").WithPort(BlockManagerPort).WithProtocol(corev1.ProtocolTCP),
				corev1ac.ServicePort().WithName("spark-ui").WithPort(SparkUIPort).WithProtocol(corev1.ProtocolTCP),
			))

	farm, err := farmApply(s, labels)
	if err != nil {
		return nil, err
	}
	applies := []struct {
		resource schema.GroupVersionResource
		shared   bool
		apply    any
	}{
		{namespacesResource, false, corev1ac.Namespace(s.Namespace).WithLabels(labels).WithLabels(PodSecurityLabels(s.PodSecurity))},
		{resourceQuotasResource, false, nonExecutorQuota(s, labels)},
		{serviceAccountsResource, false, corev1ac.ServiceAccount(s.Name, s.Namespace).WithLabels(labels)},
		{rolesResource, false, rbacv1ac.Role(s.Name, s.Namespace).WithLabels(labels).WithRules(rules...)},
		{roleBindingsResource, false, rbacv1ac.RoleBinding(s.Name, s.Namespace).WithLabels(labels).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("Role").WithName(s.Name)).
			WithSubjects(subject)},
		{clusterRolesResource, true, rbacv1ac.ClusterRole(ClusterReaderRole).WithLabels(sharedLabels).WithRules(clusterRules...)},
		{clusterRoleBindingsResource, false, rbacv1ac.ClusterRoleBinding(ClusterRoleBindingName(s.Name)).WithLabels(labels).
			WithAnnotations(map[string]string{AnnotationNamespace: s.Namespace}).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(ClusterReaderRole)).
			WithSubjects(subject)},
		{servicesResource, false, service},
		{FarmsResource, false, farm},
	}
	objects := make([]Object, 0, len(applies))
	for _, a := range applies {
		u, ok := a.apply.(*unstructured.Unstructured)
		if !ok {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a.apply)
			if err != nil {
				return nil, fmt.Errorf("building %s %s: %w", a.resource.Resource, s.Name, err)
			}
			u = &unstructured.Unstructured{Object: m}
		}
		objects = append(objects, Object{Resource: a.resource, Shared: a.shared, Apply: u})
	}
	return objects, nil
}

func ruleApply(r rbacv1.PolicyRule) *rbacv1ac.PolicyRuleApplyConfiguration {
	return rbacv1ac.PolicyRule().WithAPIGroups(r.APIGroups...).WithResources(r.Resources...).WithVerbs(r.Verbs...)
}

// farmApply is the tenant's Farm with only the fields the Spec sets: an optional field left nil
// is not owned by kubectl farm, so a ceiling set by editing the Farm survives the next tenant add.
func farmApply(s Spec, labels map[string]string) (*unstructured.Unstructured, error) {
	farm := &farmv1alpha1.Farm{
		TypeMeta:   metav1.TypeMeta{APIVersion: farmv1alpha1.GroupVersion.String(), Kind: "Farm"},
		ObjectMeta: metav1.ObjectMeta{Name: s.FarmName, Namespace: s.Namespace, Labels: labels},
		Spec: farmv1alpha1.FarmSpec{
			LabelKey:     s.LabelKey,
			LabelValue:   s.LabelValue,
			MinExecutors: s.MinExecutors,
		},
	}
	if s.MaxExecutors != nil {
		farm.Spec.MaxExecutors = *s.MaxExecutors
	}
	if s.ScaledownAfterNTriggers != nil {
		farm.Spec.ScaledownAfterNTriggers = *s.ScaledownAfterNTriggers
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(farm)
	if err != nil {
		return nil, fmt.Errorf("building farm %s: %w", s.FarmName, err)
	}
	u := &unstructured.Unstructured{Object: m}
	// The typed object brings fields nobody set; applying them would claim them.
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	if s.MaxExecutors == nil {
		unstructured.RemoveNestedField(u.Object, "spec", "maxExecutors")
	}
	if s.ScaledownAfterNTriggers == nil {
		unstructured.RemoveNestedField(u.Object, "spec", "scaledownAfterNTriggers")
	}
	return u, nil
}
