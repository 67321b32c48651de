package install

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metricNames returns the metric names a PromQL expression (or a Grafana query using its
// variables) selects. It is not a PromQL parser: it removes what cannot name a metric (strings,
// label matchers, ranges, grouping clauses) and keeps the identifiers that are not functions or
// keywords. The expressions of the dashboard and the alerts are simple enough for that, and the
// table below pins down what it must recognise.
func metricNames(expr string) []string {
	// Grafana's label_values(metric, label): the label is not a metric.
	expr = labelValues.ReplaceAllString(expr, "$1")
	for _, re := range []*regexp.Regexp{quoted, matchers, ranges, grouping} {
		expr = re.ReplaceAllString(expr, " ")
	}
	var names []string
	for _, loc := range identifier.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(expr[loc[0]-1:loc[0]], "0123456789.$") {
			continue // a number's exponent or unit, or a Grafana variable
		}
		if next := strings.TrimLeft(expr[loc[1]:], " \t\n"); strings.HasPrefix(next, "(") {
			continue // a function or an aggregation
		}
		if promqlKeywords[name] || slices.Contains(names, name) {
			continue
		}
		names = append(names, name)
	}
	return names
}

var (
	labelValues = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)[^)]*\)`)
	quoted      = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	matchers    = regexp.MustCompile(`\{[^}]*\}`)
	ranges      = regexp.MustCompile(`\[[^\]]*\]`)
	grouping    = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier  = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

	promqlKeywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true,
	}
)

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{expr: `farm_executors{state="running",namespace=~"$namespace",farm=~"$farm"}`, want: []string{"farm_executors"}},
		{expr: `up`, want: []string{"up"}},
		{
			expr: `(farm_underquota_executors > 0) and on (namespace, farm) (farm_executors{state="pending"} > 0)`,
			want: []string{"farm_underquota_executors", "farm_executors"},
		},
		{
			expr: `histogram_quantile(0.95, sum by (le) (rate(farm_guaranteed_pod_scheduling_duration_seconds_bucket{farm=~"$farm"}[$__rate_interval])))`,
			want: []string{"farm_guaranteed_pod_scheduling_duration_seconds_bucket"},
		},
		{
			expr: `sum by (namespace, farm) (increase(farm_reclaim_evictions_total[30m])) > 20`,
			want: []string{"farm_reclaim_evictions_total"},
		},
		{expr: `absent(up{job="farm-scheduler", namespace="farm-system"} == 1)`, want: []string{"up"}},
		{expr: `count(a > 0) or vector(0)`, want: []string{"a"}},
		{expr: `label_values(farm_executors, cluster)`, want: []string{"farm_executors"}},
		{expr: `label_values(farm_executors{cluster=~"$cluster"}, namespace)`, want: []string{"farm_executors"}},
		{expr: `rate(x_total[5m]) * 1e3 offset 5m`, want: []string{"x_total"}},
	}
	for _, tc := range tests {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
