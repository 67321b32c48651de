package install

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/toinfn/farm/manifests"
	"github.com/toinfn/farm/pkg/controller"
	"github.com/toinfn/farm/test/harness"
)

func TestHelmLint(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "defaults"},
		{name: "everything on", args: append([]string{"--set", "createNamespace=true"}, everythingOn...)},
		{name: "no admission policy, one replica each", args: []string{
			"--set", "admissionPolicy.enabled=false", "--set", "scheduler.replicas=1", "--set", "controller.replicas=1",
		}},
		{name: "scheduler settings", args: nonDefaultSchedulerSettings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := harness.RunHelm(t, append([]string{"lint", "--strict", chartDir}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !bytes.Contains(out, []byte("1 chart(s) linted, 0 chart(s) failed")) {
				t.Errorf("helm lint did not report the chart clean:\n%s", out)
			}
		})
	}
}

func TestPlainManifestsAreFresh(t *testing.T) {
	out, _, err := harness.RunHelm(t, installArgs...)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte(manifestHeader), out...)
	if got := moduleFile(t, installManifest); !bytes.Equal(got, want) {
		t.Errorf("%s differs from a fresh render of the chart: run `make manifests` and commit the result", installManifest)
	}
}

// The chart's copies of the CRDs, the scheduler configuration and the dashboard are the files of
// manifests/, byte for byte (`make chart-files` writes them), and no other CRD is in the chart.
func TestChartCopiesAreFresh(t *testing.T) {
	copies := map[string]string{
		"manifests/scheduler/scheduler-config.yaml": chartDir + "/files/scheduler-config.yaml",
		"manifests/dashboards/farm.json":            chartDir + "/files/farm-dashboard.json",
	}
	crds, err := fs.Glob(manifests.CRDs, "crds/*.yaml")
	if err != nil || len(crds) == 0 {
		t.Fatalf("no embedded CRDs (%v)", err)
	}
	for _, f := range crds {
		copies["manifests/"+f] = chartDir + "/files/" + f
	}
	chartCRDs, err := filepath.Glob(filepath.Join(harness.ModuleRoot(t), chartDir, "files", "crds", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(chartCRDs) != len(crds) {
		t.Errorf("the chart has %d files in files/crds/, manifests/crds has %d: run `make chart-files`", len(chartCRDs), len(crds))
	}
	// Helm would install a crds/ directory once and never upgrade it: the CRDs are templates.
	if _, err := os.Stat(filepath.Join(harness.ModuleRoot(t), chartDir, "crds")); !os.IsNotExist(err) {
		t.Errorf("the chart has a crds/ directory (%v): helm never upgrades it; the CRDs belong in files/crds/", err)
	}
	for source, copied := range copies {
		if !bytes.Equal(moduleFile(t, source), moduleFile(t, copied)) {
			t.Errorf("%s differs from %s: run `make chart-files` and commit the result", copied, source)
		}
	}
}

// What the chart renders is what is shipped: the ConfigMaps hold the shipped scheduler
// configuration and dashboard, and the CRDs are the generated ones.
func TestChartShipsTheShippedFiles(t *testing.T) {
	objs := render(t, append(append([]string{}, installArgs...), everythingOn...)...)

	t.Run("scheduler configuration", func(t *testing.T) {
		// With the chart's default values, the shipped configuration with its Lease in the
		// release namespace and kube-scheduler's default percentageOfNodesToScore said aloud.
		want := map[string]any{}
		if err := yaml.Unmarshal(manifests.SchedulerConfig, &want); err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(want, installNamespace, "leaderElection", "resourceNamespace"); err != nil {
			t.Fatal(err)
		}
		want["percentageOfNodesToScore"] = int64(0)
		// And the Farm plugin's defaults said aloud, as the chart renders every argument.
		args := farmArgs(t, want)
		args["drivers"] = []any{map[string]any{"labelKey": "spark-role", "labelValue": "driver"}}
		args["maxReclaimingDrivers"] = int64(1)
		args["minimumRuntime"] = "0s"
		args["thrashingReclaims"] = int64(3)
		args["thrashingWindow"] = "10m"
		args["borrowCooldown"] = "0s"
		if got := renderedSchedulerConfig(t, objs); !jsonEqual(t, got, want) {
			t.Errorf("ConfigMap farm-scheduler-config differs from manifests/scheduler/scheduler-config.yaml:\n%v\nwant\n%v", got, want)
		}
	})

	t.Run("CRDs", func(t *testing.T) {
		files, err := fs.Glob(manifests.CRDs, "crds/*.yaml")
		if err != nil || len(files) == 0 {
			t.Fatalf("no embedded CRDs (%v)", err)
		}
		for _, f := range files {
			data, err := fs.ReadFile(manifests.CRDs, f)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{}
			if err := yaml.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			name, _, _ := unstructured.NestedString(want, "metadata", "name")
			got := find(t, objs, "CustomResourceDefinition", name)
			if !jsonEqual(t, got.Object["spec"], want["spec"]) {
				t.Errorf("rendered CRD %s differs from %s", name, f)
			}
			// The chart adds its labels and the keep policy to the generated metadata.
			if policy := got.GetAnnotations()["helm.sh/resource-policy"]; policy != "keep" {
				t.Errorf("rendered CRD %s: helm.sh/resource-policy %q, want keep: helm uninstall would delete every Farm", name, policy)
			}
			for k, v := range want["metadata"].(map[string]any)["annotations"].(map[string]any) {
				if got.GetAnnotations()[k] != v {
					t.Errorf("rendered CRD %s: annotation %s = %q, want %q", name, k, got.GetAnnotations()[k], v)
				}
			}
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		cm := find(t, objs, "ConfigMap", "farm-dashboard")
		if cm.GetLabels()["grafana_dashboard"] != "1" {
			t.Errorf("dashboard ConfigMap labels = %v, want grafana_dashboard=1 for Grafana's sidecar", cm.GetLabels())
		}
		data, _, _ := unstructured.NestedString(cm.Object, "data", "farm.json")
		if data != string(moduleFile(t, "manifests/dashboards/farm.json")) {
			t.Errorf("dashboard ConfigMap differs from manifests/dashboards/farm.json")
		}
	})
}

// Least privilege: no rule may grant every verb, resource or API group, and the leases the
// components may take are exactly theirs.
func TestRBACIsLeastPrivilege(t *testing.T) {
	objs := render(t, installArgs...)
	var rules []struct {
		owner string
		rule  rbacv1.PolicyRule
	}
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, o := range ofKind(objs, kind) {
			var role rbacv1.ClusterRole // a Role has the same rules
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
				t.Fatalf("%s %s: %v", kind, o.GetName(), err)
			}
			for _, r := range role.Rules {
				rules = append(rules, struct {
					owner string
					rule  rbacv1.PolicyRule
				}{kind + " " + o.GetNamespace() + "/" + o.GetName(), r})
			}
		}
	}
	if len(rules) == 0 {
		t.Fatal("the chart renders no RBAC rules")
	}
	for _, r := range rules {
		for field, values := range map[string][]string{"verbs": r.rule.Verbs, "resources": r.rule.Resources, "apiGroups": r.rule.APIGroups, "nonResourceURLs": r.rule.NonResourceURLs} {
			if slices.ContainsFunc(values, func(v string) bool { return strings.Contains(v, "*") }) {
				t.Errorf("%s grants %s %v: no wildcards", r.owner, field, values)
			}
		}
	}

	leases := map[string][]string{}
	for _, r := range rules {
		if slices.Contains(r.rule.Resources, "leases") && slices.Contains(r.rule.Verbs, "update") {
			leases[r.owner] = append(leases[r.owner], r.rule.ResourceNames...)
		}
	}
	cfg := map[string]any{}
	if err := yaml.Unmarshal(manifests.SchedulerConfig, &cfg); err != nil {
		t.Fatal(err)
	}
	schedulerLease, _, _ := unstructured.NestedString(cfg, "leaderElection", "resourceName")
	// Both Leases in the release namespace: the components write nothing in kube-system.
	want := map[string][]string{
		"Role " + installNamespace + "/farm-scheduler-leader-election":  {schedulerLease},
		"Role " + installNamespace + "/farm-controller-leader-election": {controller.LeaderElectionID},
	}
	if !jsonEqual(t, leases, want) {
		t.Errorf("leases the components may update = %v, want %v", leases, want)
	}
}

// jsonEqual compares two values by their JSON encoding, so numbers decoded differently compare
// equal.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	// Decoded again into generic values and encoded with sorted keys, the two are comparable.
	var va, vb any
	if err := json.Unmarshal(ja, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(jb, &vb); err != nil {
		t.Fatal(err)
	}
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	return bytes.Equal(ca, cb)
}
