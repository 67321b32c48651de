package api

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	if err := cluster.CreateNamespace(t.Context(), name); err != nil {
		t.Fatal(err)
	}
}

// readObjects decodes a multi-document YAML file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("decoding %s: %v", path, err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

func TestSeedObjectsApplyUnchanged(t *testing.T) {
	ctx := t.Context()
	createNamespace(t, "svallero")
	for _, obj := range readObjects(t, "testdata/seed.yaml") {
		if err := cluster.Client.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}

	farm := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: "svallero", Name: "jupyter-svallero"}, farm); err != nil {
		t.Fatalf("reading the Farm back: %v", err)
	}
	wantSpec := farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 25, MaxExecutors: 0, ScaledownAfterNTriggers: 5}
	if diff := cmp.Diff(wantSpec, farm.Spec); diff != "" {
		t.Errorf("Farm spec read back (-want +got):\n%s", diff)
	}

	fm := &farmv1alpha1.FarmManager{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Name: "farmmanager-spark"}, fm); err != nil {
		t.Fatalf("reading the FarmManager back: %v", err)
	}
	wantManager := farmv1alpha1.FarmManagerSpec{LabelKey: "spark-role", LabelValue: "executor"}
	if diff := cmp.Diff(wantManager, fm.Spec); diff != "" {
		t.Errorf("FarmManager spec read back (-want +got):\n%s", diff)
	}
}

func TestInvalidFarmsAreRefused(t *testing.T) {
	createNamespace(t, "invalid")
	valid := farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 5}
	tests := []struct {
		name   string
		mutate func(*farmv1alpha1.FarmSpec)
		// field is the path the API server must name; message a part of its explanation.
		field, message string
	}{
		{
			name:    "negative minimum",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.MinExecutors = -1 },
			field:   "spec.minExecutors",
			message: "greater than or equal to 0",
		},
		{
			name:    "ceiling below minimum",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.MaxExecutors = 3 },
			field:   "spec.maxExecutors",
			message: "at least minExecutors",
		},
		{
			name:    "empty label key",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.LabelKey = "" },
			field:   "spec.labelKey",
			message: "at least 1 chars long",
		},
		{
			name:    "label key with a space",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.LabelKey = "spark role" },
			field:   "spec.labelKey",
			message: "must be a valid label key",
		},
		{
			name:    "label value with a slash",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.LabelValue = "a/b" },
			field:   "spec.labelValue",
			message: "must be a valid label value",
		},
		{
			name:    "minimum above the bound",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.MinExecutors = 1_000_001 },
			field:   "spec.minExecutors",
			message: "less than or equal to 1000000",
		},
		{
			name:    "ceiling above the bound",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.MaxExecutors = 1_000_001 },
			field:   "spec.maxExecutors",
			message: "less than or equal to 1000000",
		},
		{
			name:    "hysteresis above the bound",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.ScaledownAfterNTriggers = 10_001 },
			field:   "spec.scaledownAfterNTriggers",
			message: "less than or equal to 10000",
		},
		{
			name:    "negative hysteresis",
			mutate:  func(s *farmv1alpha1.FarmSpec) { s.ScaledownAfterNTriggers = -2 },
			field:   "spec.scaledownAfterNTriggers",
			message: "greater than or equal to 0",
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			farm := &farmv1alpha1.Farm{
				ObjectMeta: metav1.ObjectMeta{Namespace: "invalid", Name: "farm-" + string(rune('a'+i))},
				Spec:       valid,
			}
			tc.mutate(&farm.Spec)
			err := cluster.Client.Create(t.Context(), farm)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("creating the Farm: got %v, want an Invalid error", err)
			}
			var status apierrors.APIStatus
			if !errors.As(err, &status) || status.Status().Details == nil {
				t.Fatalf("error %v carries no field details", err)
			}
			var fields []string
			for _, c := range status.Status().Details.Causes {
				fields = append(fields, c.Field)
				if c.Field == tc.field && strings.Contains(c.Message, tc.message) {
					return
				}
			}
			t.Errorf("error %q: no cause on field %q saying %q (fields: %v)", err, tc.field, tc.message, fields)
		})
	}
}

func TestValidFarmEdgesAreAccepted(t *testing.T) {
	createNamespace(t, "edges")
	specs := map[string]farmv1alpha1.FarmSpec{
		"prefixed-key":  {LabelKey: "farm.toinfn.it/role", LabelValue: "worker", MinExecutors: 0},
		"max-equal-min": {LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 4, MaxExecutors: 4},
		"empty-value":   {LabelKey: "htcondor", LabelValue: "", MinExecutors: 1},
		"at-the-bounds": {LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 1_000_000, MaxExecutors: 1_000_000, ScaledownAfterNTriggers: 10_000},
	}
	for name, spec := range specs {
		farm := &farmv1alpha1.Farm{ObjectMeta: metav1.ObjectMeta{Namespace: "edges", Name: name}, Spec: spec}
		if err := cluster.Client.Create(t.Context(), farm); err != nil {
			t.Errorf("creating Farm %s with %+v: %v", name, spec, err)
		}
	}
}

// TestFarmHasNoScaleSubresource: replicas 0 would have meant maxExecutors 0, no ceiling, the
// opposite of scaling to zero. kubectl scale is refused for a Farm and changes nothing, while the
// same command scales a Deployment; the ceiling is set in the spec.
func TestFarmHasNoScaleSubresource(t *testing.T) {
	ctx := t.Context()
	createNamespace(t, "scale")
	farm := &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: "scale", Name: "tenant"},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: 2, MaxExecutors: 10},
	}
	if err := cluster.Client.Create(ctx, farm); err != nil {
		t.Fatal(err)
	}
	deployment := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "scale", Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}
	if _, err := cluster.Clientset.AppsV1().Deployments("scale").Create(ctx, deployment, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if r := kubectl(t, "scale", "-n", "scale", "deployment/web", "--replicas=0"); r.ExitCode != 0 {
		t.Fatalf("kubectl scale deployment/web --replicas=0 exited %d: %s", r.ExitCode, r.Stderr)
	}
	r := kubectl(t, "scale", "-n", "scale", "farm/tenant", "--replicas=0")
	if r.ExitCode == 0 {
		t.Errorf("kubectl scale farm/tenant --replicas=0 succeeded: %s", r.Stdout)
	}
	if err := cluster.Client.Get(ctx, client.ObjectKeyFromObject(farm), farm); err != nil {
		t.Fatal(err)
	}
	if farm.Spec.MaxExecutors != 10 {
		t.Errorf("maxExecutors after kubectl scale --replicas=0 = %d, want 10 unchanged", farm.Spec.MaxExecutors)
	}

	resources, err := cluster.Clientset.Discovery().ServerResourcesForGroupVersion(farmv1alpha1.GroupVersion.String())
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, r := range resources.APIResources {
		served = append(served, r.Name)
	}
	if !slices.Contains(served, "farms/status") || slices.Contains(served, "farms/scale") {
		t.Errorf("served resources %v: want farms/status and no farms/scale", served)
	}
}

// kubectl runs the kubectl built at the apiserver's version, as the administrator.
func kubectl(t *testing.T, args ...string) harness.CommandResult {
	t.Helper()
	return harness.RunCommand(t.Context(), t, nil, "kubectl", append([]string{"--kubeconfig=" + cluster.Kubeconfig}, args...)...)
}

// TestCategoriesNameNoResource: kubectl expands a category before it looks a resource up, so a
// category of Farm's CRDs that is also a resource's name (a category "farms" once made
// `kubectl get farms` list FarmManagers too, and fail for a tenant) would change what kubectl
// means. The categories are asked of the API server, as kubectl asks.
func TestCategoriesNameNoResource(t *testing.T) {
	lists, err := cluster.Clientset.Discovery().ServerPreferredResources()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	categories := map[string][]string{}
	for _, list := range lists {
		for _, r := range list.APIResources {
			for _, n := range append([]string{r.Name, r.SingularName}, r.ShortNames...) {
				if n != "" {
					names[n] = list.GroupVersion + " " + r.Name
				}
			}
			if strings.HasPrefix(list.GroupVersion, farmv1alpha1.GroupVersion.Group+"/") {
				categories[r.Name] = r.Categories
			}
		}
	}
	if len(categories["farms"]) == 0 || len(categories["farmmanagers"]) == 0 {
		t.Fatalf("categories of Farm's resources: %v, want some for farms and farmmanagers", categories)
	}
	for resource, cats := range categories {
		for _, c := range cats {
			if other, ok := names[c]; ok {
				t.Errorf("%s is in category %q, which names the resource %s", resource, c, other)
			}
		}
	}
}
