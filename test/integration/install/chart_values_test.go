package install

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/toinfn/farm/test/harness"
)

// deployments are the chart's two Deployments, which take the same pod values.
var deployments = []string{"farm-scheduler", "farm-controller"}

// podTemplate returns a rendered Deployment's pod template metadata and spec, and its one
// container.
func podTemplate(t *testing.T, objs []*unstructured.Unstructured, name string) (meta, spec, container map[string]any) {
	t.Helper()
	deploy := find(t, objs, "Deployment", name)
	meta, _, _ = unstructured.NestedMap(deploy.Object, "spec", "template", "metadata")
	spec, _, _ = unstructured.NestedMap(deploy.Object, "spec", "template", "spec")
	containers, _, _ := unstructured.NestedSlice(spec, "containers")
	if len(containers) != 1 {
		t.Fatalf("Deployment %s has %d containers, want 1", name, len(containers))
	}
	return meta, spec, containers[0].(map[string]any)
}

// selectorOf returns the pod selector labels of a rendered Deployment.
func selectorOf(t *testing.T, objs []*unstructured.Unstructured, name string) map[string]any {
	t.Helper()
	sel, _, _ := unstructured.NestedMap(find(t, objs, "Deployment", name).Object, "spec", "selector", "matchLabels")
	if len(sel) == 0 {
		t.Fatalf("Deployment %s has no selector", name)
	}
	return sel
}

// The pod values of both Deployments (image digest, pod annotations, spread, extra environment)
// and the CRD values reach the rendered objects; with the defaults, the pods are as before
// these values existed but for a soft spread of the replicas over nodes.
func TestChartPodAndCRDValues(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(moduleFile(t, chartDir+"/Chart.yaml"), &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("reading the chart's appVersion: %v (%q)", err, chart.AppVersion)
	}
	tests := []struct {
		name string
		set  []string
		// check runs on the rendered objects, for each Deployment.
		check func(t *testing.T, objs []*unstructured.Unstructured, deploy string)
		// checkAll runs once on the rendered objects.
		checkAll func(t *testing.T, objs []*unstructured.Unstructured)
		// wantHelmRefused is what helm must say when the chart's schema refuses the values.
		wantHelmRefused string
	}{
		{
			name: "defaults",
			check: func(t *testing.T, objs []*unstructured.Unstructured, deploy string) {
				meta, spec, c := podTemplate(t, objs, deploy)
				wantEqual(t, deploy+" image", c["image"], any("ghcr.io/toinfn/farm:"+chart.AppVersion))
				if env, ok := c["env"]; ok {
					t.Errorf("%s has env %v by default, want none", deploy, env)
				}
				annotations, _, _ := unstructured.NestedStringMap(meta, "annotations")
				delete(annotations, "checksum/config") // the scheduler's, checked below
				if len(annotations) != 0 {
					t.Errorf("%s pods annotated %v by default, want none", deploy, annotations)
				}
				want := []any{map[string]any{
					"maxSkew": int64(1), "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
					"labelSelector": map[string]any{"matchLabels": selectorOf(t, objs, deploy)},
				}}
				if !jsonEqual(t, spec["topologySpreadConstraints"], want) {
					t.Errorf("%s topologySpreadConstraints %v, want %v", deploy, spec["topologySpreadConstraints"], want)
				}
			},
			checkAll: func(t *testing.T, objs []*unstructured.Unstructured) {
				meta, _, _ := podTemplate(t, objs, "farm-scheduler")
				if sum, _, _ := unstructured.NestedString(meta, "annotations", "checksum/config"); len(sum) != 64 {
					t.Errorf("farm-scheduler pods lack the configuration checksum that rolls them on a change: %q", sum)
				}
				if n := len(ofKind(objs, "CustomResourceDefinition")); n != 2 {
					t.Errorf("%d CRDs rendered by default, want Farm and FarmManager", n)
				}
			},
		},
		{
			name: "image digest wins over the tag",
			set:  []string{"--set", "image.digest=" + digest, "--set", "image.tag=v9.9.9"},
			check: func(t *testing.T, objs []*unstructured.Unstructured, deploy string) {
				_, _, c := podTemplate(t, objs, deploy)
				wantEqual(t, deploy+" image", c["image"], any("ghcr.io/toinfn/farm@"+digest))
			},
		},
		{
			name: "pod annotations",
			set: []string{"--set", "scheduler.podAnnotations.team=platform", "--set", "controller.podAnnotations.team=platform",
				"--set", "scheduler.podAnnotations.checksum/config=mine"},
			check: func(t *testing.T, objs []*unstructured.Unstructured, deploy string) {
				meta, _, _ := podTemplate(t, objs, deploy)
				got, _, _ := unstructured.NestedString(meta, "annotations", "team")
				wantEqual(t, deploy+" pod annotation team", got, "platform")
			},
			checkAll: func(t *testing.T, objs []*unstructured.Unstructured) {
				// The chart's checksum is not the values' to replace: it is what rolls the pods.
				meta, _, _ := podTemplate(t, objs, "farm-scheduler")
				if sum, _, _ := unstructured.NestedString(meta, "annotations", "checksum/config"); len(sum) != 64 {
					t.Errorf("farm-scheduler checksum/config = %q, want the configuration's sha256", sum)
				}
			},
		},
		{
			name: "extra environment",
			set: []string{"--set-json", `scheduler.extraEnv=[{"name":"GOMEMLIMIT","value":"200MiB"}]`,
				"--set-json", `controller.extraEnv=[{"name":"GOMEMLIMIT","value":"200MiB"}]`},
			check: func(t *testing.T, objs []*unstructured.Unstructured, deploy string) {
				_, _, c := podTemplate(t, objs, deploy)
				want := []any{map[string]any{"name": "GOMEMLIMIT", "value": "200MiB"}}
				if !jsonEqual(t, c["env"], want) {
					t.Errorf("%s env %v, want %v", deploy, c["env"], want)
				}
			},
		},
		{
			name: "no spread",
			set:  []string{"--set-json", "scheduler.topologySpreadConstraints=[]", "--set-json", "controller.topologySpreadConstraints=[]"},
			check: func(t *testing.T, objs []*unstructured.Unstructured, deploy string) {
				if _, spec, _ := podTemplate(t, objs, deploy); spec["topologySpreadConstraints"] != nil {
					t.Errorf("%s topologySpreadConstraints %v, want none", deploy, spec["topologySpreadConstraints"])
				}
			},
		},
		{
			name: "spread over zones with a selector of one's own",
			set: []string{
				"--set-json", `scheduler.topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"x"}}}]`,
				"--set-json", `controller.topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"x"}}}]`,
			},
			check: func(t *testing.T, objs []*unstructured.Unstructured, deploy string) {
				_, spec, _ := podTemplate(t, objs, deploy)
				want := []any{map[string]any{
					"maxSkew": int64(1), "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
					"labelSelector": map[string]any{"matchLabels": map[string]any{"app": "x"}},
				}}
				if !jsonEqual(t, spec["topologySpreadConstraints"], want) {
					t.Errorf("%s topologySpreadConstraints %v, want %v", deploy, spec["topologySpreadConstraints"], want)
				}
			},
		},
		{
			name: "CRDs managed elsewhere",
			set:  []string{"--set", "crds.install=false"},
			checkAll: func(t *testing.T, objs []*unstructured.Unstructured) {
				if crds := ofKind(objs, "CustomResourceDefinition"); len(crds) != 0 {
					t.Errorf("%d CRDs rendered with crds.install=false, want none", len(crds))
				}
			},
		},
		{
			name: "CRDs uninstalled with the release",
			set:  []string{"--set", "crds.keep=false"},
			checkAll: func(t *testing.T, objs []*unstructured.Unstructured) {
				crds := ofKind(objs, "CustomResourceDefinition")
				if len(crds) != 2 {
					t.Fatalf("%d CRDs rendered, want 2", len(crds))
				}
				for _, crd := range crds {
					if p, ok := crd.GetAnnotations()["helm.sh/resource-policy"]; ok {
						t.Errorf("CRD %s has helm.sh/resource-policy %q with crds.keep=false", crd.GetName(), p)
					}
				}
			},
		},
		{
			name:            "a tag given as a digest",
			set:             []string{"--set", "image.digest=latest"},
			wantHelmRefused: "at '/image/digest': 'latest' does not match pattern",
		},
		{
			name:            "an environment variable without a name",
			set:             []string{"--set-json", `controller.extraEnv=[{"value":"x"}]`},
			wantHelmRefused: "at '/controller/extraEnv/0': missing property 'name'",
		},
		{
			name:            "a spread that is neither hard nor soft",
			set:             []string{"--set-json", `scheduler.topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"kubernetes.io/hostname","whenUnsatisfiable":"Sometimes"}]`},
			wantHelmRefused: "at '/scheduler/topologySpreadConstraints/0/whenUnsatisfiable'",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, installArgs...), tc.set...)
			if tc.wantHelmRefused != "" {
				_, _, err := harness.RunHelm(t, args...)
				if err == nil || !strings.Contains(err.Error(), tc.wantHelmRefused) {
					t.Fatalf("helm template: %v, want an error saying %q", err, tc.wantHelmRefused)
				}
				return
			}
			objs := render(t, args...)
			if tc.check != nil {
				for _, d := range deployments {
					tc.check(t, objs, d)
				}
			}
			if tc.checkAll != nil {
				tc.checkAll(t, objs)
			}
		})
	}
}
