package contender

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/toinfn/farm/test/harness"
)

// Kueue is Kueue (sigs.k8s.io/kueue v0.17.0, its manager cmd/kueue built unchanged from the
// nested module test/benchmark/peer/kueue) with its pod integration, and kube-scheduler's default
// profile (harness.StartDefaultScheduler) placing the pods Kueue admits. Kueue is not a
// scheduler: its pod webhook gates every executor (scheduling gate kueue.x-k8s.io/admission),
// Kueue admits the executor's Workload against its ClusterQueue's quota, preempting workloads of
// queues that borrow in the cohort when a queue below its nominal quota needs it back
// (reclaimWithinCohort), and only then lifts the gate for kube-scheduler. Kueue's webhooks run
// for real: the apiserver calls them on 127.0.0.1 (see installKueue).
type Kueue struct {
	Limits ClientLimits
	// CohortQuota gives each run's cohort a nominal quota of its own for the capacity no tenant
	// is guaranteed (Lend), which every queue of the cohort may borrow: Kueue's way, with
	// hierarchical cohorts, to lend idle capacity. Without it a queue borrows only the other
	// queues' unused nominal quota, and capacity beyond the sum of the minimums stays idle.
	CohortQuota bool
}

func (k Kueue) Name() string {
	if k.CohortQuota {
		return "kueue-cohort-quota"
	}
	return "kueue"
}

// SchedulerName is kube-scheduler's: Kueue only decides when a pod may be scheduled.
func (Kueue) SchedulerName() string { return corev1.DefaultSchedulerName }

// executorLabels name the LocalQueue every tenant's executors are submitted to, as a Spark
// executor pod template would (spark.kubernetes.executor.label.kueue.x-k8s.io/queue-name).
func (Kueue) executorLabels() map[string]string {
	return map[string]string{kueueQueueLabel: kueueLocalQueue}
}

const (
	kueueQueueLabel = "kueue.x-k8s.io/queue-name"
	// kueueLocalQueue is the LocalQueue in every tenant namespace.
	kueueLocalQueue = "spark"
	// kueueFlavor is the one ResourceFlavor: the simulated nodes are all alike.
	kueueFlavor = "default-flavor"
	// kueueNamespaceLabel marks the namespaces Kueue manages: its pod webhooks and its
	// managedJobsNamespaceSelector match them only, so that Kueue leaves the other contenders'
	// namespaces on a shared control plane alone.
	kueueNamespaceLabel = "farm.toinfn.it/kueue-benchmark"
	// kueueSystemNamespace is Kueue's own namespace (its default): the webhook certificate's
	// Secret lives there.
	kueueSystemNamespace = "kueue-system"
	// kueueDefaultCohort holds the ClusterQueues of namespaces that name no run.
	kueueDefaultCohort = "farm-benchmark"
)

// RunLabel labels the namespaces of one benchmark run with the run's name. A contender whose
// tenants share quota in a group (Kueue's cohort) groups the namespaces of one run, so that
// runs on a shared control plane do not lend to each other.
const RunLabel = "farm.toinfn.it/benchmark-run"

// kueueConfig is Kueue's Configuration: the shipped one (config/components/manager) with the pod
// integration only, on this machine's loopback, without leader election, its client limits
// equal to the other contenders', and the visibility API server (an aggregated apiserver the
// benchmarks do not use) off. Arguments: namespace label, webhook port, certificate directory,
// health probe address, QPS, burst.
const kueueConfig = `apiVersion: config.kueue.x-k8s.io/v1beta2
kind: Configuration
namespace: ` + kueueSystemNamespace + `
health:
  healthProbeBindAddress: %[4]s
metrics:
  bindAddress: "0"
webhook:
  host: 127.0.0.1
  port: %[2]d
  certDir: %[3]s
leaderElection:
  leaderElect: false
controller:
  groupKindConcurrency:
    Job.batch: 5
    Pod: 5
    Workload.kueue.x-k8s.io: 5
    LocalQueue.kueue.x-k8s.io: 1
    Cohort.kueue.x-k8s.io: 1
    ClusterQueue.kueue.x-k8s.io: 1
    ResourceFlavor.kueue.x-k8s.io: 1
clientConnection:
  qps: %[5]v
  burst: %[6]v
managedJobsNamespaceSelector:
  matchLabels:
    %[1]s: "true"
internalCertManagement:
  enable: true
  webhookServiceName: kueue-webhook-service
  webhookSecretName: kueue-webhook-server-cert
integrations:
  frameworks:
  - pod
featureGates:
  VisibilityOnDemand: false
`

func (k Kueue) Start(tb testing.TB, cp *harness.ControlPlane) *harness.ChildProcess {
	tb.Helper()
	setup := installKueue(tb, cp)
	limits := k.Limits
	if limits.QPS == 0 {
		limits = ClientLimits{QPS: 200, Burst: 400}
	}
	health := harness.FreeLocalAddress(tb)
	config := filepath.Join(tb.TempDir(), "kueue-config.yaml")
	data := fmt.Appendf(nil, kueueConfig, kueueNamespaceLabel, setup.port, setup.certDir, health, limits.QPS, limits.Burst)
	if err := os.WriteFile(config, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	proc := harness.StartProcess(tb, setup.build.binary, "--config="+config, "--kubeconfig="+cp.Kubeconfig)

	// Ready means the certificates were found and the webhook server listens.
	probe := &http.Client{Timeout: time.Second}
	err := wait.PollUntilContextTimeout(tb.Context(), 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if proc.Exited() {
			return false, fmt.Errorf("kueue exited:\n%s", proc.Output())
		}
		resp, err := probe.Get("http://" + health + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		tb.Fatalf("waiting for kueue to be ready: %v\n%s", err, proc.Output())
	}
	// The webhook configurations exist only while this Kueue runs: their failure policy is Fail,
	// and a Kueue that is gone must not hold up the control plane's later users.
	for _, wh := range setup.webhooks {
		obj := wh.DeepCopy()
		if err := cp.Client.Create(tb.Context(), obj); err != nil && !apierrors.IsAlreadyExists(err) {
			tb.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		tb.Cleanup(func() {
			if err := cp.Client.Delete(context.Background(), wh.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
				tb.Errorf("deleting %s %s: %v", wh.GetKind(), wh.GetName(), err)
			}
		})
	}
	// The flavor goes through Kueue's own webhook: creating it shows the apiserver reaches Kueue.
	flavor := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2",
		"kind":       "ResourceFlavor",
		"metadata":   map[string]any{"name": kueueFlavor},
		"spec":       map[string]any{},
	}}
	err = wait.PollUntilContextTimeout(tb.Context(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := cp.Client.Create(ctx, flavor.DeepCopy())
		if err == nil || apierrors.IsAlreadyExists(err) {
			return true, nil
		}
		tb.Logf("creating the ResourceFlavor through Kueue's webhook: %v", err)
		return false, nil
	})
	if err != nil {
		tb.Fatalf("creating the ResourceFlavor: %v", err)
	}
	cp.StartDefaultScheduler(tb)
	go collectOrphanWorkloads(tb.Context(), cp)
	return proc
}

// collectOrphanWorkloads stands in, until ctx ends, for kube-controller-manager's garbage
// collector, which the harness does not run: it deletes the Workloads whose pod is gone (Kueue
// makes the pod their owner). Without it, the Workload of a preempted pod outlives the pod: the
// kubelet stand-in removes a pod without first reporting a terminal phase, so Kueue does not see
// it finish, and requeues it as a pending workload that can never run.
func collectOrphanWorkloads(ctx context.Context, cp *harness.ControlPlane) {
	_ = wait.PollUntilContextCancel(ctx, time.Second, false, func(ctx context.Context) (bool, error) {
		workloads := &unstructured.UnstructuredList{}
		workloads.SetAPIVersion("kueue.x-k8s.io/v1beta2")
		workloads.SetKind("WorkloadList")
		if err := cp.Client.List(ctx, workloads); err != nil {
			return false, nil
		}
		pods := map[string]map[types.UID]bool{} // namespace -> UIDs of its pods
		for i := range workloads.Items {
			w := &workloads.Items[i]
			for _, owner := range w.GetOwnerReferences() {
				if owner.Kind != "Pod" {
					continue
				}
				if pods[w.GetNamespace()] == nil {
					list, err := cp.Clientset.CoreV1().Pods(w.GetNamespace()).List(ctx, metav1.ListOptions{})
					if err != nil {
						return false, nil
					}
					pods[w.GetNamespace()] = map[types.UID]bool{}
					for _, p := range list.Items {
						pods[w.GetNamespace()][p.UID] = true
					}
				}
				if !pods[w.GetNamespace()][owner.UID] {
					_ = cp.Client.Delete(ctx, w, client.Preconditions{UID: ptr.To(w.GetUID())})
				}
			}
		}
		return false, nil
	})
}

// Guarantee gives the tenant a ClusterQueue whose nominal quota is min executors' requests
// and whose borrowing is limited to max-min executors' (none when max is 0).
func (k Kueue) Guarantee(tb testing.TB, cp *harness.ControlPlane, ns string, min, max int) {
	tb.Helper()
	var borrowing corev1.ResourceList
	if max > 0 {
		borrowing = ExecutorRequests(max - min)
	}
	k.guarantee(tb, cp, ns, ExecutorRequests(min), borrowing)
}

// GuaranteeResources gives the tenant a ClusterQueue whose nominal quota is min, borrowing
// without limit.
func (k Kueue) GuaranteeResources(tb testing.TB, cp *harness.ControlPlane, ns string, min corev1.ResourceList) {
	tb.Helper()
	k.guarantee(tb, cp, ns, min, nil)
}

// guarantee labels the namespace for Kueue's webhooks and creates its ClusterQueue (named as
// the namespace, in the cohort of its run, preemption as the issue and Kueue's documentation of
// cohorts describe it) and a LocalQueue pointing to it, then waits until both are active.
func (Kueue) guarantee(tb testing.TB, cp *harness.ControlPlane, ns string, nominal, borrowing corev1.ResourceList) {
	tb.Helper()
	ctx := tb.Context()
	namespace := &corev1.Namespace{}
	if err := cp.Client.Get(ctx, types.NamespacedName{Name: ns}, namespace); err != nil {
		tb.Fatal(err)
	}
	cohort := namespace.Labels[RunLabel]
	if cohort == "" {
		cohort = kueueDefaultCohort
	}
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"labels":{%q:"true"}}}`, kueueNamespaceLabel))
	if err := cp.Client.Patch(ctx, namespace, patch); err != nil {
		tb.Fatal(err)
	}

	cq := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2",
		"kind":       "ClusterQueue",
		"metadata":   map[string]any{"name": ns},
		"spec": map[string]any{
			"cohortName":        cohort,
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{corev1.LabelMetadataName: ns}},
			"resourceGroups":    kueueResourceGroups(nominal, borrowing),
			"preemption":        map[string]any{"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
		},
	}}
	lq := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2",
		"kind":       "LocalQueue",
		"metadata":   map[string]any{"name": kueueLocalQueue, "namespace": ns},
		"spec":       map[string]any{"clusterQueue": ns},
	}}
	for _, obj := range []*unstructured.Unstructured{cq, lq} {
		if err := cp.Client.Create(ctx, obj); err != nil {
			tb.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	// Executors submitted to a queue Kueue does not know yet wait for its next requeue.
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, obj := range []*unstructured.Unstructured{cq, lq} {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(obj.GroupVersionKind())
			if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
				return false, err
			}
			conditions, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			var list []metav1.Condition
			for _, c := range conditions {
				c, _ := c.(map[string]any)
				t, _ := c["type"].(string)
				s, _ := c["status"].(string)
				list = append(list, metav1.Condition{Type: t, Status: metav1.ConditionStatus(s)})
			}
			if !meta.IsStatusConditionTrue(list, "Active") {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		tb.Fatalf("waiting for the queues of %s to be active: %v", ns, err)
	}
}

// Lend gives the run's cohort a nominal quota of idle, when the contender has CohortQuota.
func (k Kueue) Lend(tb testing.TB, cp *harness.ControlPlane, run string, idle corev1.ResourceList) {
	tb.Helper()
	if !k.CohortQuota {
		return
	}
	cohort := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2",
		"kind":       "Cohort",
		"metadata":   map[string]any{"name": run},
		"spec":       map[string]any{"resourceGroups": kueueResourceGroups(idle, nil)},
	}}
	if err := cp.Client.Create(tb.Context(), cohort); err != nil {
		tb.Fatalf("creating Cohort %s: %v", run, err)
	}
}

// kueueResourceGroups is the one resource group of a ClusterQueue or Cohort: CPU and memory of
// the one flavor, nominal quotas and borrowing limits as given (none when missing).
func kueueResourceGroups(nominal, borrowing corev1.ResourceList) []any {
	var resources, covered []any
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		q := nominal[name]
		quota := map[string]any{"name": string(name), "nominalQuota": q.String()}
		if b, ok := borrowing[name]; ok {
			quota["borrowingLimit"] = b.String()
		}
		resources = append(resources, quota)
		covered = append(covered, string(name))
	}
	return []any{map[string]any{
		"coveredResources": covered,
		"flavors":          []any{map[string]any{"name": kueueFlavor, "resources": resources}},
	}}
}

// kueueSetup is what Kueue needs on one control plane, made once: its CRDs, the webhook
// port and certificate, and the webhook configurations to create while it runs.
type kueueSetup struct {
	build    kueueBuild
	port     int
	certDir  string
	webhooks []*unstructured.Unstructured
}

var (
	kueueSetupsMu sync.Mutex
	kueueSetups   = map[*harness.ControlPlane]*kueueSetup{}
)

// installKueue prepares the control plane for Kueue, once however often it is called.
//
// Kueue's webhooks are served on 127.0.0.1 and called there by the apiserver (URL client
// configurations), with a certificate made here. Kueue keeps its internal certificate
// management on, as shipped, because with it off its manager reads the metrics server's
// certificate from the fixed path /etc/kueue/metrics/certs: its certificate rotator adopts the
// Secret made here (a CA, and a serving certificate valid for both the webhook Service's DNS
// name, which the rotator checks, and 127.0.0.1, which the apiserver checks), finds the
// certificate in its certDir as a mounted Secret would put it there, and injects the CA into the
// webhook configurations and the CRDs' conversion webhooks, as in a real installation.
func installKueue(tb testing.TB, cp *harness.ControlPlane) *kueueSetup {
	tb.Helper()
	kueueSetupsMu.Lock()
	defer kueueSetupsMu.Unlock()
	if s, ok := kueueSetups[cp]; ok {
		return s
	}
	s := &kueueSetup{build: buildKueue(tb), certDir: filepath.Join(cp.Dir, "kueue-certs")}
	port, err := strconv.Atoi(harness.FreePort(tb))
	if err != nil {
		tb.Fatal(err)
	}
	s.port = port
	ctx := tb.Context()

	caPEM, caKeyPEM, certPEM, keyPEM, err := kueueCertificates()
	if err != nil {
		tb.Fatalf("making Kueue's webhook certificate: %v", err)
	}
	if err := os.MkdirAll(s.certDir, 0o700); err != nil {
		tb.Fatal(err)
	}
	for name, data := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(s.certDir, name), data, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	if err := cp.CreateNamespace(ctx, kueueSystemNamespace); err != nil {
		tb.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: kueueSystemNamespace, Name: "kueue-webhook-server-cert"},
		Data:       map[string][]byte{"ca.crt": caPEM, "ca.key": caKeyPEM, "tls.crt": certPEM, "tls.key": keyPEM},
	}
	if _, err := cp.Clientset.CoreV1().Secrets(kueueSystemNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		tb.Fatal(err)
	}

	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	// Unstructured objects hold JSON values only: the bundle as its JSON encoding.
	caBundle := base64.StdEncoding.EncodeToString(caPEM)
	// The CRDs as Kueue's kustomization installs them: the versioned ones convert through
	// Kueue's /convert endpoint (config/components/crd/patches/webhook_in_*.yaml).
	crds, err := filepath.Glob(filepath.Join(s.build.moduleDir, "config", "components", "crd", "bases", "*.yaml"))
	if err != nil || len(crds) == 0 {
		tb.Fatalf("no Kueue CRDs in %s: %v", s.build.moduleDir, err)
	}
	converted := map[string]bool{"localqueues": true, "clusterqueues": true, "cohorts": true, "workloads": true, "multikueueclusters": true}
	for _, file := range crds {
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		crd := map[string]any{}
		if err := yaml.Unmarshal(data, &crd); err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		plural, _, _ := unstructured.NestedString(crd, "spec", "names", "plural")
		if converted[plural] {
			crd["spec"].(map[string]any)["conversion"] = map[string]any{
				"strategy": "Webhook",
				"webhook": map[string]any{
					"clientConfig":             map[string]any{"url": base + "/convert", "caBundle": caBundle},
					"conversionReviewVersions": []any{"v1"},
				},
			}
		}
		if data, err = yaml.Marshal(crd); err != nil {
			tb.Fatal(err)
		}
		if err := harness.InstallCRD(ctx, cp.Config, data); err != nil {
			tb.Fatalf("installing %s: %v", filepath.Base(file), err)
		}
	}

	// The webhook configurations of config/components/webhook, for pods and Kueue's own
	// objects only (the other integrations are off), called by URL, the pod webhooks limited
	// to Kueue's namespaces (shipped: every namespace but kube-system and kueue-system).
	manifests, err := os.ReadFile(filepath.Join(s.build.moduleDir, "config", "components", "webhook", "manifests.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	objs, err := harness.DecodeObjects(manifests)
	if err != nil {
		tb.Fatalf("decoding Kueue's webhook manifests: %v", err)
	}
	for _, obj := range objs {
		webhooks, _, _ := unstructured.NestedSlice(obj.Object, "webhooks")
		var kept []any
		for _, w := range webhooks {
			w := w.(map[string]any)
			path, _, _ := unstructured.NestedString(w, "clientConfig", "service", "path")
			isPod := path == "/mutate--v1-pod" || path == "/validate--v1-pod"
			if !isPod && !strings.Contains(path, "-kueue-x-k8s-io-") {
				continue
			}
			w["clientConfig"] = map[string]any{"url": base + path, "caBundle": caBundle}
			if isPod {
				w["namespaceSelector"] = map[string]any{"matchLabels": map[string]any{kueueNamespaceLabel: "true"}}
			}
			kept = append(kept, w)
		}
		if len(kept) == 0 {
			continue
		}
		if err := unstructured.SetNestedSlice(obj.Object, kept, "webhooks"); err != nil {
			tb.Fatal(err)
		}
		// The names Kueue's certificate rotator looks for (<service name less -webhook-service>-...).
		obj.SetName("kueue-" + obj.GetName())
		s.webhooks = append(s.webhooks, obj)
	}
	if len(s.webhooks) != 2 {
		tb.Fatalf("found %d webhook configurations in Kueue's manifests, want 2", len(s.webhooks))
	}
	kueueSetups[cp] = s
	return s
}

// kueueCertificates makes a CA and a serving certificate it signs, as Kueue's rotator would
// (RSA keys in PKCS #1, the CA named kueue-ca), the serving certificate also valid for
// 127.0.0.1.
func kueueCertificates() (caPEM, caKeyPEM, certPEM, keyPEM []byte, err error) {
	now := time.Now()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kueue-ca", Organization: []string{"kueue"}},
		DNSNames:              []string{"kueue-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	serving := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kueue-webhook-service." + kueueSystemNamespace + ".svc"},
		DNSNames:     []string{"kueue-webhook-service." + kueueSystemNamespace + ".svc"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	certDER, err := x509.CreateCertificate(rand.Reader, serving, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	encode := func(typ string, der []byte) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	return encode("CERTIFICATE", caDER), encode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(caKey)),
		encode("CERTIFICATE", certDER), encode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), nil
}

// kueueBuild is the built Kueue manager and the directory of the module it was built from.
type kueueBuild struct {
	binary    string
	moduleDir string
	err       error
}

var (
	kueueOnce  sync.Once
	kueueBuilt kueueBuild
)

// buildKueue builds Kueue's manager once per process from the nested module, as the module's
// tool (go tool -n prints the path of the binary, which the build cache keeps, so a warm run
// does not link it again; the first build downloads and compiles Kueue and its Kubernetes 0.35
// libraries: minutes). Built so, it reports its version as v0.0.0-main in its log; the module's
// version is in the binary's build information (go version -m).
func buildKueue(tb testing.TB) kueueBuild {
	tb.Helper()
	kueueOnce.Do(func() {
		dir := filepath.Join(harness.ModuleRoot(tb), "test", "benchmark", "peer", "kueue")
		moduleDir, err := moduleDirIn(dir, "sigs.k8s.io/kueue")
		if err != nil {
			kueueBuilt.err = err
			return
		}
		kueueBuilt.moduleDir = moduleDir
		build := exec.Command("go", "tool", "-n", "kueue")
		build.Dir = dir
		var stderr bytes.Buffer
		build.Stderr = &stderr
		output, err := build.Output()
		if err != nil {
			kueueBuilt.err = fmt.Errorf("go tool -n kueue in %s: %w\n%s", dir, err, stderr.String())
			return
		}
		kueueBuilt.binary = strings.TrimSpace(string(output))
	})
	if kueueBuilt.err != nil {
		tb.Fatalf("building the Kueue peer: %v", kueueBuilt.err)
	}
	return kueueBuilt
}
