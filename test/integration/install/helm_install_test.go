package install

import (
	"encoding/json"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/toinfn/farm/test/harness"
)

// TestHelmInstallAsTheREADMESays runs the README's install command, `helm install` itself, on a
// control plane of its own and without CRDs, as a new cluster is (the package's shared one
// already holds the chart's objects and CRDs, applied server-side, which helm would refuse to
// adopt): the release is deployed with both components and the admission policy, and `helm
// uninstall` removes them.
func TestHelmInstallAsTheREADMESays(t *testing.T) {
	cp := harness.StartControlPlaneWithoutCRDs(t)
	kubeconfig := "--kubeconfig=" + cp.Kubeconfig

	if _, _, err := harness.RunHelm(t, "install", installRelease, chartDir, "--namespace", installNamespace, "--create-namespace", kubeconfig); err != nil {
		t.Fatal(err)
	}
	out, _, err := harness.RunHelm(t, "status", installRelease, "--namespace", installNamespace, "--output", "json", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Info struct {
			Status string `json:"status"`
		} `json:"info"`
	}
	if err := json.Unmarshal(out, &status); err != nil {
		t.Fatalf("decoding helm status: %v\n%s", err, out)
	}
	if status.Info.Status != "deployed" {
		t.Fatalf("release %s is %q, want deployed", installRelease, status.Info.Status)
	}
	ctx := t.Context()
	for _, name := range []string{"farm-scheduler", "farm-controller"} {
		if _, err := cp.Clientset.AppsV1().Deployments(installNamespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("Deployment %s/%s after helm install: %v", installNamespace, name, err)
		}
	}
	if _, err := cp.Clientset.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, "farm-spec-admins-only", metav1.GetOptions{}); err != nil {
		t.Errorf("ValidatingAdmissionPolicy farm-spec-admins-only after helm install: %v", err)
	}

	if _, _, err := harness.RunHelm(t, "uninstall", installRelease, "--namespace", installNamespace, kubeconfig); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"farm-scheduler", "farm-controller"} {
		d, err := cp.Clientset.AppsV1().Deployments(installNamespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil && d.DeletionTimestamp == nil {
			t.Errorf("Deployment %s/%s still there after helm uninstall", installNamespace, name)
		} else if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("Deployment %s/%s: %v", installNamespace, name, err)
		}
	}
}
