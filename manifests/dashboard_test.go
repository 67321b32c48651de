package manifests

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// dashboard is the part of a Grafana dashboard these tests read.
type dashboard struct {
	Templating struct {
		List []dashboardVariable `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID      int    `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

type dashboardVariable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Definition string `json:"definition"`
	// Query is an object for a query variable, a string for a data source variable.
	Query      json.RawMessage `json:"query"`
	IncludeAll bool            `json:"includeAll"`
	Multi      bool            `json:"multi"`
	AllValue   string          `json:"allValue"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile("dashboards/farm.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("decoding dashboards/farm.json: %v", err)
	}
	return d
}

// TestDashboardVariables checks the variables a cluster admin and a tenant select with. "All"
// must be ".*", not the list of values found: a Prometheus that adds no cluster label finds none,
// and `cluster=~".*"` still matches its series.
func TestDashboardVariables(t *testing.T) {
	d := readDashboard(t)
	vars := map[string]dashboardVariable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	tests := []struct {
		name, query string
		multi       bool
	}{
		{name: "cluster", query: `label_values(farm_executors, cluster)`},
		{name: "namespace", query: `label_values(farm_executors{cluster=~"$cluster"}, namespace)`, multi: true},
		{name: "farm", query: `label_values(farm_executors{cluster=~"$cluster",namespace=~"$namespace"}, farm)`, multi: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := vars[tc.name]
			if !ok {
				t.Fatalf("no variable %q among %v", tc.name, d.Templating.List)
			}
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Fatalf("variable %s: decoding its query: %v", tc.name, err)
			}
			if v.Type != "query" || v.Definition != tc.query || q.Query != tc.query {
				t.Errorf("variable %s: type %q, definition %q, query %q; want a query of %q", tc.name, v.Type, v.Definition, q.Query, tc.query)
			}
			if !v.IncludeAll || v.AllValue != ".*" {
				t.Errorf("variable %s: includeAll %v, allValue %q; want All as \".*\"", tc.name, v.IncludeAll, v.AllValue)
			}
			if v.Multi != tc.multi {
				t.Errorf("variable %s: multi %v, want %v", tc.name, v.Multi, tc.multi)
			}
		})
	}
}

// notByNamespace are the panels whose queries cannot select a namespace, and why.
var notByNamespace = map[string]string{
	"farm-scheduler scheduling attempts": "kube-scheduler's own metric, which carries no Farm labels",
}

// farmSelector finds each selector of a Farm metric in a query, with its label matchers.
var farmSelector = regexp.MustCompile(`\bfarm_[a-z_]+(\{[^}]*\})?`)

// TestDashboardQueriesSelectClusterAndNamespace checks that every panel follows the variables:
// each query names $cluster and $namespace, and each selector of a Farm metric in it matches all
// three variables, so that no series of another namespace enters a sum or a join.
func TestDashboardQueriesSelectClusterAndNamespace(t *testing.T) {
	d := readDashboard(t)
	matchers := []string{`cluster=~"$cluster"`, `namespace=~"$namespace"`, `farm=~"$farm"`}
	queries := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			queries++
			e := target.Expr
			if !strings.Contains(e, "$cluster") {
				t.Errorf("panel %q: query %q does not select $cluster", p.Title, e)
			}
			if why, ok := notByNamespace[p.Title]; ok {
				if strings.Contains(e, "farm_") {
					t.Errorf("panel %q is exempt from $namespace (%s) but queries a Farm metric: %q", p.Title, why, e)
				}
				continue
			}
			if !strings.Contains(e, "$namespace") {
				t.Errorf("panel %q: query %q does not select $namespace", p.Title, e)
			}
			for _, sel := range farmSelector.FindAllStringSubmatch(e, -1) {
				for _, m := range matchers {
					if !strings.Contains(sel[1], m) {
						t.Errorf("panel %q: selector %s lacks %s", p.Title, sel[0], m)
					}
				}
			}
		}
	}
	if queries == 0 {
		t.Fatal("the dashboard has no queries")
	}
}
