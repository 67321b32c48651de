package tenant

import (
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/toinfn/farm/pkg/tenant"
)

// warnings keeps the warnings the API server sends with its answers.
type warnings struct {
	mu   sync.Mutex
	text []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.text = append(w.text, text)
}

func (w *warnings) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.text, "\n")
}

// TestPodSecurity: a tenant's namespace enforces baseline by default, so the tenant cannot run
// a privileged pod, from which it could take a node and the components' credentials; the same
// pod passes in a namespace tenant add set to privileged, so the refusal is Pod Security's.
func TestPodSecurity(t *testing.T) {
	ctx := t.Context()
	_, baselineCfg := newTenant(t, "psa-baseline")
	privileged, _ := newTenant(t, "psa-privileged", "--pod-security", "privileged")
	for ns, level := range map[string]string{"psa-baseline": "baseline", "psa-privileged": "privileged"} {
		n, err := cluster.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tenant.PodSecurityLabels(level) {
			if n.Labels[k] != v {
				t.Errorf("namespace %s: label %s=%q, want %q", ns, k, n.Labels[k], v)
			}
		}
	}
	warned := &warnings{}
	cfg := rest.CopyConfig(baselineCfg)
	cfg.WarningHandler = warned
	baseline, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// The node's processes and files, and a capability to use them: enough to read any pod's
	// service account token on the node. (privileged: true itself is refused by this API server
	// before admission: it runs without --allow-privileged.)
	privilegedPod := func(ns string) *corev1.Pod {
		p := pod(ns, "root-on-the-node", "100m", "128Mi", nil)
		p.Spec.HostPID = true
		p.Spec.Volumes = []corev1.Volume{{Name: "node", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "node", MountPath: "/node"}}
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}
		return p
	}
	_, err = baseline.CoreV1().Pods("psa-baseline").Create(ctx, privilegedPod("psa-baseline"), metav1.CreateOptions{})
	wantRefused(t, err, `violates PodSecurity "baseline:latest"`, "hostPID=true", `hostPath volumes (volume "node")`, `non-default capabilities (container "executor" must not include "SYS_ADMIN"`)
	if _, err := privileged.CoreV1().Pods("psa-privileged").Create(ctx, privilegedPod("psa-privileged"), metav1.CreateOptions{}); err != nil {
		t.Errorf("the same pod in a namespace tenant add set to privileged: %v", err)
	}

	// Baseline admits an ordinary pod and warns of what restricted would refuse.
	if _, err := baseline.CoreV1().Pods("psa-baseline").Create(ctx, pod("psa-baseline", "ordinary", "100m", "128Mi", nil), metav1.CreateOptions{}); err != nil {
		t.Fatalf("an ordinary pod in a baseline namespace: %v", err)
	}
	if !strings.Contains(warned.String(), `would violate PodSecurity "restricted:latest"`) {
		t.Errorf("no restricted warning for a pod that does not pass restricted; warnings: %q", warned.String())
	}
}

// TestPodSecurityOnAnExistingNamespace: a namespace tenant add did not create keeps its own
// labels but gets the tenant's Pod Security ones.
func TestPodSecurityOnAnExistingNamespace(t *testing.T) {
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "psa-existing", Labels: map[string]string{"team": "physics"}}}
	if _, err := cluster.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mustKubectlFarm(t, "tenant", "add", "psa-existing-tenant", "--min", "1", "-n", "psa-existing", "--pod-security", "restricted")
	got, err := cluster.Clientset.CoreV1().Namespaces().Get(ctx, "psa-existing", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := tenant.PodSecurityLabels("restricted")
	want["team"] = "physics"
	want[corev1.LabelMetadataName] = "psa-existing"
	for k, v := range want {
		if got.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, got.Labels[k], v)
		}
	}
	if owner := got.Labels[tenant.LabelTenant]; owner != "" {
		t.Errorf("the existing namespace is labelled as tenant %q's: removal would delete it", owner)
	}
}
