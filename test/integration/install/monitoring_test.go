package install

import (
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// alertRule is one rule of the chart's PrometheusRule.
type alertRule struct {
	Alert, Expr string
	Summary     string
}

// alertRules renders the chart with monitoring on and returns its alert rules.
func alertRules(t *testing.T) []alertRule {
	t.Helper()
	rules := ofKind(render(t, append(append([]string{}, installArgs...), everythingOn...)...), "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("the chart renders %d PrometheusRules, want 1", len(rules))
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	var out []alertRule
	for _, g := range groups {
		rs, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rs {
			m := r.(map[string]any)
			var a alertRule
			a.Alert, _, _ = unstructured.NestedString(m, "alert")
			a.Expr, _, _ = unstructured.NestedString(m, "expr")
			a.Summary, _, _ = unstructured.NestedString(m, "annotations", "summary")
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		t.Fatal("the PrometheusRule has no rules")
	}
	return out
}

// labelClause is a PromQL grouping or join clause and its label list.
var labelClause = regexp.MustCompile(`\b(by|without|on|ignoring)\s*\(([^)]*)\)`)

// An alert about a farm says which one: its aggregations and joins keep namespace and farm
// together (farm alone would add up or match farms of the same name in other namespaces), and
// its summary names both.
func TestFarmAlertsNameNamespaceAndFarm(t *testing.T) {
	farmAlerts := 0
	for _, r := range alertRules(t) {
		if !strings.Contains(r.Expr, "farm_") {
			continue
		}
		farmAlerts++
		t.Run(r.Alert, func(t *testing.T) {
			for _, c := range labelClause.FindAllStringSubmatch(r.Expr, -1) {
				labels := map[string]bool{}
				for _, l := range strings.Split(c[2], ",") {
					labels[strings.TrimSpace(l)] = true
				}
				if c[1] == "by" || c[1] == "on" {
					if !labels["namespace"] || !labels["farm"] {
						t.Errorf("%s keeps %s, want namespace and farm", c[0], c[2])
					}
				} else if labels["namespace"] || labels["farm"] {
					t.Errorf("%s drops a Farm's labels", c[0])
				}
			}
			if strings.Contains(r.Expr, "victim_") {
				t.Errorf("expr %q uses the victim_ labels the metrics no longer have", r.Expr)
			}
			for _, want := range []string{"{{ $labels.namespace }}", "{{ $labels.farm }}"} {
				if !strings.Contains(r.Summary, want) {
					t.Errorf("summary %q does not name %s", r.Summary, want)
				}
			}
		})
	}
	if farmAlerts == 0 {
		t.Fatal("no alert on a Farm metric")
	}
}

// The Prometheus Operator labels every scraped series with the target's namespace; honorLabels
// keeps the Farm's own namespace label instead of renaming it exported_namespace.
func TestServiceMonitorsKeepFarmNamespaces(t *testing.T) {
	monitors := ofKind(render(t, append(append([]string{}, installArgs...), everythingOn...)...), "ServiceMonitor")
	if len(monitors) != 2 {
		t.Fatalf("the chart renders %d ServiceMonitors, want 2 (farm-scheduler and farm-controller)", len(monitors))
	}
	for _, m := range monitors {
		endpoints, _, _ := unstructured.NestedSlice(m.Object, "spec", "endpoints")
		if len(endpoints) == 0 {
			t.Errorf("ServiceMonitor %s has no endpoints", m.GetName())
		}
		for _, e := range endpoints {
			if honor, _, _ := unstructured.NestedBool(e.(map[string]any), "honorLabels"); !honor {
				t.Errorf("ServiceMonitor %s endpoint %v does not honor the scraped labels", m.GetName(), e)
			}
		}
	}
}
