package examples

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
