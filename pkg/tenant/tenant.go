package tenant

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

const (
	// FieldManager owns every field kubectl farm applies.
	FieldManager = "kubectl-farm"

	// LabelTenant names the tenant an object belongs to; removal deletes only objects carrying
	// it, and adding refuses to take over an object that carries another tenant's name.
	LabelTenant = "farmcontroller.toinfn.it/tenant"
	// LabelManagedBy marks every object kubectl farm applies, including the shared ClusterRole.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// AnnotationNamespace, on a tenant's ClusterRoleBinding, records the tenant's namespace, so
	// removal finds the tenant from its name alone.
	AnnotationNamespace = "farmcontroller.toinfn.it/tenant-namespace"

	// ClusterReaderRole is the ClusterRole, shared by all tenants, that reads pods and nodes
	// cluster-wide. It grants nothing on its own and is never removed with a tenant.
	ClusterReaderRole = "farm-tenant-cluster-reader"
	// DriverServiceName is the headless Service a tenant's Spark driver is reached through.
	DriverServiceName = "spark-driver"

	// DefaultLabelKey and DefaultLabelValue select Spark executors, which Spark labels
	// spark-role=executor.
	DefaultLabelKey   = "spark-role"
	DefaultLabelValue = "executor"
	// DefaultDriverSelector selects the Spark driver pod, which Spark labels spark-role=driver;
	// in client mode (a notebook) the notebook pod must carry it.
	DefaultDriverSelector = "spark-role=driver"
	// DefaultTokenDuration is how long the tenant's kubeconfig token is valid: long enough that a
	// data scientist is not cut off mid-month, short enough that a leaked file stops working. The
	// API server may shorten it (--service-account-max-token-expiration); running tenant add again
	// issues a fresh one.
	DefaultTokenDuration = 30 * 24 * time.Hour
	// MinTokenDuration is the shortest token the TokenRequest API issues.
	MinTokenDuration = 10 * time.Minute

	// Spark's default driver and block manager ports; the driver Service exposes them so that a
	// notebook driver configured with these ports is reachable from its executors.
	DriverPort       = 7078
	BlockManagerPort = 7079
	SparkUIPort      = 4040

	// DefaultPodSecurity is the Pod Security Standard enforced on a tenant's namespace: baseline
	// refuses privileged, host-namespace and hostPath pods, through which a tenant could take a
	// node and the components' credentials, and lets ordinary Spark and notebook images run.
	DefaultPodSecurity = "baseline"
	// DefaultExecutorPriorityClass is the PriorityClass the chart creates for executors: the
	// tenant's quota leaves pods of this class out (they are its Farm's, and reclaimable).
	DefaultExecutorPriorityClass = "farm-executor"
	// NonExecutorQuotaName is the ResourceQuota that bounds what a tenant's other pods hold.
	NonExecutorQuotaName = "farm-non-executors"
)

// Default allowance of a tenant's pods that are not executors: a notebook or two and the Spark
// drivers of a few concurrent applications (a driver asks for 1 CPU and about 1.4Gi by default).
var (
	DefaultNonExecutorCPU    = resource.MustParse("4")
	DefaultNonExecutorMemory = resource.MustParse("16Gi")
)

// DefaultNonExecutorPods is the default number of a tenant's pods that are not executors.
const DefaultNonExecutorPods = 10

// podSecurityLevels are the Pod Security Standards a namespace may enforce.
var podSecurityLevels = []string{"privileged", "baseline", "restricted"}

// Spec is a tenant as the administrator states it.
type Spec struct {
	// Name is the tenant's name; it names its service account, Role, bindings and, by default,
	// its namespace and Farm.
	Name string
	// Namespace is the tenant's namespace; empty means Name.
	Namespace string
	// ComponentsNamespace is where Farm itself runs (the Helm release's namespace); a tenant may
	// never live there. Empty means DefaultComponentsNamespace.
	ComponentsNamespace string
	// FarmName names the tenant's Farm; empty means Name.
	FarmName string
	// MinExecutors is the guarantee.
	MinExecutors int32
	// MaxExecutors is the ceiling; nil leaves the Farm's ceiling to whoever else sets it
	// (by editing the Farm), 0 is no ceiling.
	MaxExecutors *int32
	// ScaledownAfterNTriggers is the Farm's hysteresis; nil leaves it to the Farm's default.
	ScaledownAfterNTriggers *int32
	// LabelKey and LabelValue select the tenant's executor pods.
	LabelKey, LabelValue string
	// DriverSelector selects the pods behind the driver Service, as key=value.
	DriverSelector map[string]string
	// PodSecurity is the Pod Security Standard the namespace enforces: privileged, baseline or
	// restricted; empty means DefaultPodSecurity.
	PodSecurity string
	// ExecutorPriorityClass is the executors' PriorityClass, which the non-executor quota leaves
	// out; empty means DefaultExecutorPriorityClass.
	ExecutorPriorityClass string
	// NonExecutorCPU, NonExecutorMemory and NonExecutorPods bound the requests and the number
	// of the tenant's pods that are not executors (drivers, notebooks): capacity they hold is
	// never reclaimed. Nil means the defaults.
	NonExecutorCPU, NonExecutorMemory *resource.Quantity
	NonExecutorPods                   *int32
}

// WithDefaults returns s with its empty optional fields filled in.
func (s Spec) WithDefaults() Spec {
	if s.Namespace == "" {
		s.Namespace = s.Name
	}
	if s.ComponentsNamespace == "" {
		s.ComponentsNamespace = DefaultComponentsNamespace
	}
	if s.FarmName == "" {
		s.FarmName = s.Name
	}
	if s.LabelKey == "" {
		s.LabelKey, s.LabelValue = DefaultLabelKey, DefaultLabelValue
	}
	if s.DriverSelector == nil {
		s.DriverSelector = map[string]string{"spark-role": "driver"}
	}
	if s.PodSecurity == "" {
		s.PodSecurity = DefaultPodSecurity
	}
	if s.ExecutorPriorityClass == "" {
		s.ExecutorPriorityClass = DefaultExecutorPriorityClass
	}
	if s.NonExecutorCPU == nil {
		s.NonExecutorCPU = ptr.To(DefaultNonExecutorCPU.DeepCopy())
	}
	if s.NonExecutorMemory == nil {
		s.NonExecutorMemory = ptr.To(DefaultNonExecutorMemory.DeepCopy())
	}
	if s.NonExecutorPods == nil {
		s.NonExecutorPods = ptr.To[int32](DefaultNonExecutorPods)
	}
	return s
}

// DefaultComponentsNamespace is the namespace the README installs Farm into.
const DefaultComponentsNamespace = "farm-system"

// reservedNamespace reports why a namespace cannot be a tenant's, or "": Kubernetes' own
// (default, kube-*), and Farm's, whose service accounts may evict any executor.
func reservedNamespace(ns, components string) string {
	switch {
	case ns == "default" || strings.HasPrefix(ns, "kube-"):
		return fmt.Sprintf("namespace %s is the cluster's own; a tenant needs a namespace of its own", ns)
	case ns == components:
		return fmt.Sprintf("namespace %s is where Farm runs; a tenant needs a namespace of its own", ns)
	}
	return ""
}

// Validate checks a defaulted Spec. Field paths are the Spec's field names in lower camel case,
// so that a command line can name its own flags instead.
func (s Spec) Validate() field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(s.Name) {
		errs = append(errs, field.Invalid(field.NewPath("name"), s.Name, msg))
	}
	if why := reservedNamespace(s.Namespace, s.ComponentsNamespace); why != "" {
		path := "namespace"
		if s.Namespace == s.Name {
			path = "name" // the namespace was not given apart: NAME chose it
		}
		errs = append(errs, field.Forbidden(field.NewPath(path), why))
	}
	// Defaulted from Name, these would only repeat Name's error.
	if s.Namespace != s.Name {
		for _, msg := range validation.IsDNS1123Label(s.Namespace) {
			errs = append(errs, field.Invalid(field.NewPath("namespace"), s.Namespace, msg))
		}
	}
	if s.FarmName != s.Name {
		for _, msg := range validation.IsDNS1123Subdomain(s.FarmName) {
			errs = append(errs, field.Invalid(field.NewPath("farmName"), s.FarmName, msg))
		}
	}
	switch {
	case s.MinExecutors < 0:
		errs = append(errs, field.Invalid(field.NewPath("minExecutors"), s.MinExecutors, "must be 0 or more"))
	case s.MinExecutors > farmv1alpha1.MaxExecutorsBound:
		errs = append(errs, field.Invalid(field.NewPath("minExecutors"), s.MinExecutors, fmt.Sprintf("must be at most %d", farmv1alpha1.MaxExecutorsBound)))
	}
	if s.MaxExecutors != nil {
		switch max := *s.MaxExecutors; {
		case max < 0:
			errs = append(errs, field.Invalid(field.NewPath("maxExecutors"), max, "must be 0 (no ceiling) or more"))
		case max > farmv1alpha1.MaxExecutorsBound:
			errs = append(errs, field.Invalid(field.NewPath("maxExecutors"), max, fmt.Sprintf("must be at most %d", farmv1alpha1.MaxExecutorsBound)))
		case max > 0 && max < s.MinExecutors:
			errs = append(errs, field.Invalid(field.NewPath("maxExecutors"), max, fmt.Sprintf("must be 0 (no ceiling) or at least the minimum, %d", s.MinExecutors)))
		}
	}
	if n := s.ScaledownAfterNTriggers; n != nil && (*n < 0 || *n > farmv1alpha1.MaxScaledownTriggers) {
		errs = append(errs, field.Invalid(field.NewPath("scaledownAfterNTriggers"), *n, fmt.Sprintf("must be between 0 and %d", farmv1alpha1.MaxScaledownTriggers)))
	}
	for _, msg := range validation.IsQualifiedName(s.LabelKey) {
		errs = append(errs, field.Invalid(field.NewPath("labelKey"), s.LabelKey, msg))
	}
	for _, msg := range validation.IsValidLabelValue(s.LabelValue) {
		errs = append(errs, field.Invalid(field.NewPath("labelValue"), s.LabelValue, msg))
	}
	if len(s.DriverSelector) == 0 {
		errs = append(errs, field.Required(field.NewPath("driverSelector"), "the driver Service must select the driver pod"))
	}
	if !slices.Contains(podSecurityLevels, s.PodSecurity) {
		errs = append(errs, field.NotSupported(field.NewPath("podSecurity"), s.PodSecurity, podSecurityLevels))
	}
	for _, msg := range validation.IsDNS1123Subdomain(s.ExecutorPriorityClass) {
		errs = append(errs, field.Invalid(field.NewPath("executorPriorityClass"), s.ExecutorPriorityClass, msg))
	}
	for _, q := range []struct {
		path string
		q    *resource.Quantity
	}{{"nonExecutorCPU", s.NonExecutorCPU}, {"nonExecutorMemory", s.NonExecutorMemory}} {
		if q.q != nil && q.q.Sign() < 0 {
			errs = append(errs, field.Invalid(field.NewPath(q.path), q.q.String(), "must be 0 or more"))
		}
	}
	if n := s.NonExecutorPods; n != nil && *n < 0 {
		errs = append(errs, field.Invalid(field.NewPath("nonExecutorPods"), *n, "must be 0 or more"))
	}
	for k, v := range s.DriverSelector {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(field.NewPath("driverSelector"), k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(field.NewPath("driverSelector"), v, msg))
		}
	}
	return errs
}
