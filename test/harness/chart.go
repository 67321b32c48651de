package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// ChartDir is Farm's Helm chart, relative to the module root.
const ChartDir = "manifests/charts/farm-scheduler"

// ChartKubeVersion is the oldest Kubernetes the chart supports (its kubeVersion): helm template
// assumes an older one unless told.
const ChartKubeVersion = "1.30.0"

// RenderChart runs helm template with args and decodes the objects it prints.
func RenderChart(tb TB, args ...string) []*unstructured.Unstructured {
	tb.Helper()
	out, _, err := RunHelm(tb, args...)
	if err != nil {
		tb.Fatal(err)
	}
	objs, err := DecodeObjects(out)
	if err != nil {
		tb.Fatalf("decoding helm template output: %v", err)
	}
	if len(objs) == 0 {
		tb.Fatalf("helm %v rendered no objects", args)
	}
	return objs
}

// applyOrder puts namespaces first and CRDs next, as kubectl apply would need them.
func applyOrder(o *unstructured.Unstructured) int {
	switch o.GetKind() {
	case "Namespace":
		return 0
	case "CustomResourceDefinition":
		return 1
	default:
		return 2
	}
}

// Apply applies objs server-side as the administrator, as `kubectl apply --server-side` does,
// and returns the errors by object.
func (cp *ControlPlane) Apply(ctx context.Context, tb TB, objs []*unstructured.Unstructured) map[string]error {
	tb.Helper()
	objects := cp.Objects(tb)
	sorted := slices.Clone(objs)
	slices.SortStableFunc(sorted, func(a, b *unstructured.Unstructured) int { return applyOrder(a) - applyOrder(b) })
	errs := map[string]error{}
	for _, o := range sorted {
		id := fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
		ri, err := objects.Resource(o, "")
		if err != nil {
			errs[id] = err
			continue
		}
		data, err := json.Marshal(o.Object)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "farm-install-test", Force: ptr.To(true)}); err != nil {
			errs[id] = err
		}
	}
	return errs
}

// tenantGuards are the kinds of the chart's objects that guard tenants from each other without
// any component running: the admission policies and the executors' PriorityClass.
var tenantGuards = []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "PriorityClass"}

// InstallTenantGuards renders the chart with its defaults (release namespace namespace) and
// applies its admission policies and the executors' PriorityClass, for tests of what a tenant
// may do. The policies take effect a moment later: poll for a refusal before relying on one.
func (cp *ControlPlane) InstallTenantGuards(ctx context.Context, tb TB, namespace string) {
	tb.Helper()
	var guards []*unstructured.Unstructured
	for _, o := range RenderChart(tb, "template", "farm-scheduler", ChartDir, "--namespace", namespace, "--kube-version", ChartKubeVersion) {
		if slices.Contains(tenantGuards, o.GetKind()) {
			guards = append(guards, o)
		}
	}
	if len(guards) == 0 {
		tb.Fatalf("the chart renders none of %v", tenantGuards)
	}
	for id, err := range cp.Apply(ctx, tb, guards) {
		tb.Errorf("the API server refused %s: %v", id, err)
	}
}
