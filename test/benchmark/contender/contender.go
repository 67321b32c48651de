// Package contender is the schedulers the benchmarks measure side by side on one harness control
// plane: farm-scheduler with the shipped configuration (or without its packing scorer), the same
// binary with kube-scheduler's default plugins only (the stock scheduler Farm must keep up with),
// and the elastic quota peers: scheduler-plugins' CapacityScheduling, built from the nested
// module test/benchmark/peer/capacity-scheduler, and Kueue, a quota and admission controller in
// front of kube-scheduler, built from test/benchmark/peer/kueue.
package contender

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/harness"
)

// Contender is a scheduler under measurement: how to start it, which pods it schedules, and how
// it learns a tenant's guarantee.
type Contender interface {
	Name() string
	// Start runs the scheduler against the control plane until tb's cleanup.
	Start(tb testing.TB, cp *harness.ControlPlane) *harness.ChildProcess
	// SchedulerName is the spec.schedulerName of the pods it schedules.
	SchedulerName() string
	// Guarantee gives a tenant's namespace its minimum and a ceiling of max executors (0: none),
	// in the contender's own terms. Executors are labelled spark-role=executor.
	Guarantee(tb testing.TB, cp *harness.ControlPlane, ns string, min, max int)
}

// ResourceGuarantor is a contender whose guarantees are amounts of resources rather than numbers
// of executors (Kueue's ClusterQueues): given executors of several sizes, a tenant's minimum is
// what its executors request together.
type ResourceGuarantor interface {
	Contender
	// GuaranteeResources gives a tenant's namespace a minimum of min, without a ceiling.
	GuaranteeResources(tb testing.TB, cp *harness.ControlPlane, ns string, min corev1.ResourceList)
}

// Lender is a contender that lends the capacity no tenant is guaranteed only when told how much
// there is (Kueue with a cohort quota): the benchmarks tell it, per run, the cluster less the
// tenants' minimums.
type Lender interface {
	Contender
	// Lend makes idle borrowable by the tenants of the run (namespaces labelled RunLabel=run).
	Lend(tb testing.TB, cp *harness.ControlPlane, run string, idle corev1.ResourceList)
}

// Withdrawer is a contender whose guarantees outlive a run's pods and would weigh on later runs
// on the same control plane: CapacityScheduling lends only up to the sum of every ElasticQuota's
// minimum in the cluster, so a finished run's quotas would let a later borrower take more.
type Withdrawer interface {
	Contender
	// Withdraw removes the guarantee of a tenant's namespace.
	Withdraw(tb testing.TB, cp *harness.ControlPlane, ns string)
}

// queued is a contender whose executors name the queue they are submitted to.
type queued interface {
	executorLabels() map[string]string
}

// PrepareExecutor makes pod one of c's executors: scheduled by c's scheduler and, for a
// contender that admits executors through queues, labelled with the tenant's queue.
func PrepareExecutor(c Contender, pod *corev1.Pod) {
	pod.Spec.SchedulerName = c.SchedulerName()
	if q, ok := c.(queued); ok {
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		maps.Copy(pod.Labels, q.executorLabels())
	}
}

// ClientLimits are a scheduler's API client limits (queries per second and burst); zero values
// keep the configuration's. A throughput benchmark raises them for every contender alike, so
// that it measures the schedulers, not their clients' rate limits.
type ClientLimits struct {
	QPS   float32
	Burst int32
}

// edit sets the limits in a decoded KubeSchedulerConfiguration.
func (l ClientLimits) edit(cfg map[string]any) {
	if l.QPS == 0 {
		return
	}
	conn, _ := cfg["clientConnection"].(map[string]any)
	if conn == nil {
		conn = map[string]any{}
	}
	conn["qps"], conn["burst"] = l.QPS, l.Burst
	cfg["clientConnection"] = conn
}

// Farm is farm-scheduler's built binary with the shipped configuration.
type Farm struct {
	Limits ClientLimits
	// WithoutScore disables Farm's Score (its packing of borrowed executors) in the profile, and
	// changes nothing else: what the packing does is measured against it.
	WithoutScore bool
}

func (f Farm) Name() string {
	if f.WithoutScore {
		return "farm-without-score"
	}
	return "farm"
}

func (Farm) SchedulerName() string { return quota.SchedulerName }

func (f Farm) Start(tb testing.TB, cp *harness.ControlPlane) *harness.ChildProcess {
	return cp.StartSchedulerBinary(tb, cp.SchedulerConfig(tb, func(cfg map[string]any) {
		f.Limits.edit(cfg)
		if f.WithoutScore {
			profiles, _ := cfg["profiles"].([]any)
			for _, p := range profiles {
				profile, _ := p.(map[string]any)
				plugins, _ := profile["plugins"].(map[string]any)
				if plugins == nil {
					tb.Fatal("the shipped scheduler config has a profile without plugins")
				}
				plugins["score"] = map[string]any{"disabled": []any{map[string]any{"name": "Farm"}}}
			}
		}
	}))
}

// Guarantee creates the tenant's Farm, with a hysteresis of one trigger.
func (Farm) Guarantee(tb testing.TB, cp *harness.ControlPlane, ns string, min, max int) {
	tb.Helper()
	farm := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spark"},
		Spec: farmv1alpha1.FarmSpec{
			LabelKey: "spark-role", LabelValue: "executor",
			MinExecutors: int32(min), MaxExecutors: int32(max), ScaledownAfterNTriggers: 1,
		},
	}
	if err := cp.Client.Create(tb.Context(), farm); err != nil {
		tb.Fatal(err)
	}
}

// Stock is farm-scheduler's binary with a profile of kube-scheduler's default plugins and none
// of Farm's: the scheduler Farm's throughput is compared with. It knows no guarantees.
type Stock struct{ Limits ClientLimits }

func (Stock) Name() string          { return "stock" }
func (Stock) SchedulerName() string { return "stock-scheduler" }

func (s Stock) Start(tb testing.TB, cp *harness.ControlPlane) *harness.ChildProcess {
	return cp.StartSchedulerBinary(tb, cp.SchedulerConfig(tb, func(cfg map[string]any) {
		cfg["profiles"] = []any{map[string]any{"schedulerName": "stock-scheduler"}}
		s.Limits.edit(cfg)
	}))
}

func (Stock) Guarantee(testing.TB, *harness.ControlPlane, string, int, int) {}

// CapacityScheduling is scheduler-plugins' CapacityScheduling (Kubernetes 1.35.4: outside the
// version skew policy against the harness's 1.37 kube-apiserver), configured as its
// documentation shows: CapacityScheduling at every extension point and the only PostFilter.
type CapacityScheduling struct{ Limits ClientLimits }

func (CapacityScheduling) Name() string          { return "capacityscheduling" }
func (CapacityScheduling) SchedulerName() string { return "capacity-scheduler" }

// capacitySchedulerConfig is its KubeSchedulerConfiguration: the kubeconfig, then the client
// limits (by default farm-scheduler's shipped ones, so neither is throttled more than the other).
const capacitySchedulerConfig = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
clientConnection:
  kubeconfig: %q
  qps: %v
  burst: %v
profiles:
- schedulerName: capacity-scheduler
  plugins:
    multiPoint:
      enabled:
      - name: CapacityScheduling
    postFilter:
      enabled:
      - name: CapacityScheduling
      disabled:
      - name: "*"
`

func (c CapacityScheduling) Start(tb testing.TB, cp *harness.ControlPlane) *harness.ChildProcess {
	tb.Helper()
	peer := c.prepare(tb, cp)
	config := filepath.Join(tb.TempDir(), "capacity-scheduler-config.yaml")
	limits := c.Limits
	if limits.QPS == 0 {
		limits = ClientLimits{QPS: 200, Burst: 400}
	}
	if err := os.WriteFile(config, fmt.Appendf(nil, capacitySchedulerConfig, cp.Kubeconfig, limits.QPS, limits.Burst), 0o600); err != nil {
		tb.Fatal(err)
	}
	return harness.StartProcess(tb, peer.binary, "--config="+config, "--secure-port=0", "-v=2")
}

// prepare builds the peer and installs its ElasticQuota CRD, once for the process and the
// control plane however often it is called.
func (CapacityScheduling) prepare(tb testing.TB, cp *harness.ControlPlane) peerBuild {
	tb.Helper()
	peer := buildCapacityScheduler(tb)
	crd, err := os.ReadFile(peer.crd)
	if err != nil {
		tb.Fatal(err)
	}
	if err := harness.InstallCRD(tb.Context(), cp.Config, crd); err != nil {
		tb.Fatalf("installing the ElasticQuota CRD: %v", err)
	}
	return peer
}

// Guarantee creates the tenant's ElasticQuota. CapacityScheduling reads a resource missing from
// min or max as zero, so both carry every resource an executor requests: the number of
// executors times one executor's request.
func (c CapacityScheduling) Guarantee(tb testing.TB, cp *harness.ControlPlane, ns string, min, max int) {
	tb.Helper()
	c.prepare(tb, cp)
	if max == 0 {
		// No ceiling: more than any cluster of the benchmarks holds.
		max = 1_000_000
	}
	times := func(n int) map[string]any {
		out := map[string]any{}
		for name, q := range ExecutorRequests(n) {
			out[string(name)] = q.String()
		}
		return out
	}
	eq := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "scheduling.x-k8s.io/v1alpha1",
		"kind":       "ElasticQuota",
		"metadata":   map[string]any{"name": "spark", "namespace": ns},
		"spec":       map[string]any{"min": times(min), "max": times(max)},
	}}
	if err := cp.Client.Create(tb.Context(), eq); err != nil {
		tb.Fatal(err)
	}
}

// Withdraw deletes the tenant's ElasticQuota.
func (CapacityScheduling) Withdraw(tb testing.TB, cp *harness.ControlPlane, ns string) {
	tb.Helper()
	eq := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "scheduling.x-k8s.io/v1alpha1",
		"kind":       "ElasticQuota",
		"metadata":   map[string]any{"name": "spark", "namespace": ns},
	}}
	if err := cp.Client.Delete(context.Background(), eq); err != nil && !apierrors.IsNotFound(err) {
		tb.Errorf("deleting the ElasticQuota of %s: %v", ns, err)
	}
}

// peerBuild is the built capacity-scheduler and its module's ElasticQuota CRD.
type peerBuild struct {
	binary string
	crd    string
	err    error
}

var (
	peerOnce sync.Once
	peer     peerBuild
)

// buildCapacityScheduler builds the peer once per process (the first build downloads and
// compiles Kubernetes 1.35.4: minutes) and finds the ElasticQuota CRD in the module it uses.
func buildCapacityScheduler(tb testing.TB) peerBuild {
	tb.Helper()
	peerOnce.Do(func() {
		dir := filepath.Join(harness.ModuleRoot(tb), "test", "benchmark", "peer", "capacity-scheduler")
		out, err := os.MkdirTemp("", "farm-peer-")
		if err != nil {
			peer.err = err
			return
		}
		peer.binary = filepath.Join(out, "capacity-scheduler")
		build := exec.Command("go", "build", "-o", peer.binary, ".")
		build.Dir = dir
		if output, err := build.CombinedOutput(); err != nil {
			peer.err = fmt.Errorf("go build in %s: %w\n%s", dir, err, output)
			return
		}
		moduleDir, err := moduleDirIn(dir, "sigs.k8s.io/scheduler-plugins")
		if err != nil {
			peer.err = err
			return
		}
		peer.crd = filepath.Join(moduleDir, "config", "crd", "bases", "scheduling.x-k8s.io_elasticquotas.yaml")
	})
	if peer.err != nil {
		tb.Fatalf("building the CapacityScheduling peer: %v", peer.err)
	}
	return peer
}

// moduleDirIn returns the directory of a module the peer module in dir requires, in the module
// cache: where the peer's CRDs and manifests are read from.
func moduleDirIn(dir, module string) (string, error) {
	list := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	list.Dir = dir
	output, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("locating %s from %s: %w", module, dir, err)
	}
	return strings.TrimSpace(string(output)), nil
}

// ExecutorRequests is what n executors request (harness.DefaultExecutorResources).
func ExecutorRequests(n int) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range harness.DefaultExecutorResources {
		total := q.DeepCopy()
		total.Mul(int64(n))
		out[name] = total
	}
	return out
}
