package install

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// metricsReaderRole is the chart's ClusterRole for scrapers.
const metricsReaderRole = "farm-metrics-reader"

// testMetricsAccess scrapes both components as nobody, as an authenticated caller without the
// right, and as one bound to the chart's metrics reader role: only the last is served, so the
// refusals cannot come from an endpoint that is down.
func testMetricsAccess(ctx context.Context, t *testing.T, allowed string, components ...*component) {
	stranger := serviceAccountToken(ctx, t, "install-test-no-metrics")
	for _, c := range components {
		t.Run(c.name, func(t *testing.T) {
			// Served to the reader first: the endpoint is up and the reader's binding in force.
			var code int
			err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
				if c.process.Exited() {
					return false, fmt.Errorf("%s exited", c.name)
				}
				var err error
				code, _, err = get(ctx, c.metricsURL, allowed)
				return err == nil && code == http.StatusOK, nil
			})
			if err != nil {
				t.Fatalf("GET %s as a %s reader: status %d, want 200: %v", c.metricsURL, metricsReaderRole, code, err)
			}
			for _, tc := range []struct {
				who, token string
				want       []int
			}{
				// kube-scheduler lets anonymous requests through to authorization (403);
				// controller-runtime's filter refuses them at authentication (401).
				{"anonymous", "", []int{http.StatusUnauthorized, http.StatusForbidden}},
				{"a service account without get /metrics", stranger, []int{http.StatusForbidden}},
			} {
				code, body, err := get(ctx, c.metricsURL, tc.token)
				if err != nil {
					t.Fatalf("GET %s as %s: %v", c.metricsURL, tc.who, err)
				}
				if !slices.Contains(tc.want, code) {
					t.Errorf("GET %s as %s: status %d, want one of %v; body: %.200s", c.metricsURL, tc.who, code, tc.want, body)
				}
			}
		})
	}
}

// metricsToken returns a token of a service account bound to the chart's metrics reader role,
// as Prometheus's would be: both components check it with the API server.
func metricsToken(ctx context.Context, t *testing.T) string {
	t.Helper()
	const name = "install-test-metrics-reader"
	token := serviceAccountToken(ctx, t, name)
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: metricsReaderRole},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: installNamespace, Name: name}},
	}
	if _, err := cluster.Clientset.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return token
}

// serviceAccountToken creates a service account in the install namespace and returns a token of
// it.
func serviceAccountToken(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: installNamespace, Name: name}}
	if _, err := cluster.Clientset.CoreV1().ServiceAccounts(installNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := cluster.Clientset.CoreV1().ServiceAccounts(installNamespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token for %s: %v", name, err)
	}
	return tr.Status.Token
}

// farmSeries is a series of metric labelled with a Farm's namespace and name.
type farmSeries struct{ metric, namespace, farm string }

func (s farmSeries) in(families map[string]*dto.MetricFamily) bool {
	mf := families[s.metric]
	if mf == nil {
		return false
	}
	return slices.ContainsFunc(mf.GetMetric(), func(m *dto.Metric) bool {
		l := labelMap(m)
		return l["namespace"] == s.namespace && l["farm"] == s.farm
	})
}

// farmLabelProblems lists the series that name a Farm otherwise than by the namespace and farm
// labels: a farm label without a namespace, a farm written namespace/name, or the old
// victim_farm label.
func farmLabelProblems(families map[string]*dto.MetricFamily) []string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(families)) {
		for _, m := range families[name].GetMetric() {
			l := labelMap(m)
			farm, hasFarm := l["farm"]
			switch {
			case hasFarm && l["namespace"] == "":
				problems = append(problems, fmt.Sprintf("%s%v has a farm label but no namespace", name, l))
			case strings.Contains(farm, "/"):
				problems = append(problems, fmt.Sprintf("%s%v names its farm namespace/name", name, l))
			case l["victim_farm"] != "" || l["victim_namespace"] != "":
				problems = append(problems, fmt.Sprintf("%s%v still has victim labels", name, l))
			}
		}
	}
	return problems
}

func labelMap(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func TestFarmLabelProblems(t *testing.T) {
	family := func(name string, labels ...map[string]string) *dto.MetricFamily {
		mf := &dto.MetricFamily{Name: ptr.To(name)}
		for _, l := range labels {
			m := &dto.Metric{}
			for k, v := range l {
				m.Label = append(m.Label, &dto.LabelPair{Name: ptr.To(k), Value: ptr.To(v)})
			}
			mf.Metric = append(mf.Metric, m)
		}
		return mf
	}
	tests := []struct {
		name   string
		family *dto.MetricFamily
		want   int
	}{
		{"namespace and farm", family("farm_executors", map[string]string{"namespace": "a", "farm": "f", "state": "running"}), 0},
		{"no farm at all", family("farm_build_info", map[string]string{"version": "v1"}), 0},
		{"farm without namespace", family("farm_executors", map[string]string{"farm": "f"}), 1},
		{"farm as namespace/name", family("farm_executors", map[string]string{"namespace": "a", "farm": "a/f"}), 1},
		{"victim labels", family("farm_reclaim_evictions_total", map[string]string{"victim_farm": "a/f"}), 1},
		{"one bad series of two", family("farm_min_executors", map[string]string{"namespace": "a", "farm": "f"}, map[string]string{"farm": "a/g"}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := farmLabelProblems(map[string]*dto.MetricFamily{tc.family.GetName(): tc.family})
			if len(got) != tc.want {
				t.Errorf("farmLabelProblems = %q, want %d problems", got, tc.want)
			}
		})
	}
}
