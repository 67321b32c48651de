package examples

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}

// documents returns every YAML document under manifests/examples, by file.
func documents(t *testing.T) map[string][]*unstructured.Unstructured {
	t.Helper()
	root := filepath.Join(harness.ModuleRoot(t), "manifests", "examples")
	docs := map[string][]*unstructured.Unstructured{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yaml" && filepath.Ext(path) != ".yml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		objs, err := harness.DecodeObjects(data)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		docs[rel] = append(docs[rel], objs...)
		return nil
	})
	if err != nil {
		t.Fatalf("reading the examples: %v", err)
	}
	return docs
}

func TestEveryExampleIsAccepted(t *testing.T) {
	ctx := t.Context()
	// The executor pod template names the chart's executors' PriorityClass.
	cluster.InstallTenantGuards(ctx, t, "farm-system")
	docs := documents(t)
	for _, want := range []string{"farms/three-tenants.yaml", "spark/executor-pod-template.yaml", "htcondor/worker-farm.yaml"} {
		if len(docs[want]) == 0 {
			t.Errorf("no example documents in %s", want)
		}
	}
	objects := cluster.Objects(t)
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}

	var farms []*unstructured.Unstructured
	for file, objs := range docs {
		for _, obj := range objs {
			gvk := obj.GroupVersionKind()
			t.Run(file+"/"+gvk.Kind+"/"+obj.GetName(), func(t *testing.T) {
				ri, err := objects.Resource(obj, "default")
				if err != nil {
					t.Fatal(err)
				}
				opts := metav1.CreateOptions{FieldValidation: "Strict"}
				real := gvk.Kind == "Namespace" || gvk.GroupVersion() == farmv1alpha1.GroupVersion
				if !real {
					opts.DryRun = []string{metav1.DryRunAll}
				}
				if _, err := ri.Create(ctx, obj, opts); err != nil {
					t.Fatalf("the API server refused it: %v", err)
				}
				if gvk.GroupVersion() == farmv1alpha1.GroupVersion && gvk.Kind == "Farm" {
					farms = append(farms, obj)
				}
			})
		}
	}
	// Each file lists its namespaces before what they hold, and is applied in order.
	farmsResource := farmv1alpha1.GroupVersion.WithResource("farms")
	for _, f := range farms {
		got, err := dyn.Resource(farmsResource).Namespace(f.GetNamespace()).Get(ctx, f.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Errorf("Farm %s/%s after creation: %v", f.GetNamespace(), f.GetName(), err)
			continue
		}
		want, _, _ := unstructured.NestedInt64(f.Object, "spec", "minExecutors")
		if min, _, _ := unstructured.NestedInt64(got.Object, "spec", "minExecutors"); min != want {
			t.Errorf("Farm %s/%s: minExecutors %d, want %d", f.GetNamespace(), f.GetName(), min, want)
		}
	}
	if len(farms) < 4 {
		t.Errorf("created %d Farms from the examples, want at least the three tenants' and the HTCondor farm", len(farms))
	}
}

// TestSparkSettingsUseFarm checks the settings a Spark tenant copies: an executor that is not
// addressed to farm-scheduler or cannot decommission defeats the point.
func TestSparkSettingsUseFarm(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(harness.ModuleRoot(t), "manifests", "examples", "spark", "spark-defaults.conf"))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) == 2 && !strings.HasPrefix(fields[0], "#") {
			settings[fields[0]] = fields[1]
		}
	}
	for key, want := range map[string]string{
		"spark.kubernetes.executor.scheduler.name":  "farm-scheduler",
		"spark.kubernetes.executor.podTemplateFile": "executor-pod-template.yaml",
		"spark.decommission.enabled":                "true",
		"spark.storage.decommission.enabled":        "true",
		"spark.driver.port":                         "7078",
		"spark.driver.blockManager.port":            "7079",
	} {
		if got := settings[key]; got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if _, ok := settings["spark.executor.maxNumFailures"]; !ok {
		t.Error("spark.executor.maxNumFailures is not set where its interaction with reclaim is explained")
	}
	for _, obj := range documents(t)["spark/executor-pod-template.yaml"] {
		if got, _, _ := unstructured.NestedString(obj.Object, "spec", "schedulerName"); got != "farm-scheduler" {
			t.Errorf("executor pod template: schedulerName %q, want farm-scheduler", got)
		}
		if got, _, _ := unstructured.NestedInt64(obj.Object, "spec", "terminationGracePeriodSeconds"); got <= 30 {
			t.Errorf("executor pod template: terminationGracePeriodSeconds %d, want more than the 30 s default for decommissioning", got)
		}
	}
}

// TestExecutorPodTemplatePassesRestricted creates the Spark executor pod template (dry run) in a
// namespace that enforces the restricted Pod Security Standard, the strictest a tenant's
// namespace may have.
func TestExecutorPodTemplatePassesRestricted(t *testing.T) {
	ctx := t.Context()
	cluster.InstallTenantGuards(ctx, t, "farm-system")
	const ns = "restricted-examples"
	if _, err := cluster.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   ns,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	objects := cluster.Objects(t)
	templates := documents(t)["spark/executor-pod-template.yaml"]
	if len(templates) == 0 {
		t.Fatal("no executor pod template")
	}
	for _, obj := range templates {
		obj = obj.DeepCopy()
		obj.SetNamespace(ns)
		ri, err := objects.Resource(obj, ns)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ri.Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Errorf("%s in a namespace enforcing restricted: %v", obj.GetName(), err)
		}
	}
	// The same pod without its security settings is refused there: the namespace does enforce.
	bare := templates[0].DeepCopy()
	bare.SetNamespace(ns)
	unstructured.RemoveNestedField(bare.Object, "spec", "securityContext")
	containers, _, _ := unstructured.NestedSlice(bare.Object, "spec", "containers")
	for _, c := range containers {
		delete(c.(map[string]any), "securityContext")
	}
	if err := unstructured.SetNestedSlice(bare.Object, containers, "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	ri, err := objects.Resource(bare, ns)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ri.Create(ctx, bare, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil || !strings.Contains(err.Error(), `violates PodSecurity "restricted:latest"`) {
		t.Errorf("the template without its security settings in a restricted namespace: got %v, want a restricted violation", err)
	}
}
