package install

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/component-base/metrics/testutil"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/controller"
	"github.com/toinfn/farm/pkg/quota"
	"github.com/toinfn/farm/test/harness"
)

var farmsResource = farmv1alpha1.GroupVersion.WithResource("farms")

// TestInstalledChart installs the rendered chart into the control plane and runs farm-scheduler
// and farm-controller as the chart would: with its scheduler configuration and arguments, as its
// service accounts (so with exactly its RBAC), with leader election. Then it checks what an admin
// relies on after `helm install`.
func TestInstalledChart(t *testing.T) {
	ctx := t.Context()
	objs := render(t, installArgs...)
	if errs := apply(ctx, t, objs); len(errs) > 0 {
		for id, err := range errs {
			t.Errorf("the API server refused %s: %v", id, err)
		}
		t.FailNow()
	}

	sched := startScheduler(ctx, t, objs)
	ctrl := startController(ctx, t, objs)

	t.Run("probes", func(t *testing.T) {
		for _, c := range []*component{sched, ctrl} {
			for _, probe := range []string{"livenessProbe", "readinessProbe"} {
				path, _, _ := unstructured.NestedString(c.container, probe, "httpGet", "path")
				if path == "" {
					t.Errorf("%s has no %s", c.name, probe)
					continue
				}
				url := c.probeBase + path
				err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
					if c.process.Exited() {
						return false, fmt.Errorf("%s exited", c.name)
					}
					code, _, err := get(ctx, url, "")
					return err == nil && code == http.StatusOK, nil
				})
				if err != nil {
					t.Errorf("%s %s %s did not answer 200: %v", c.name, probe, url, err)
				}
			}
		}
	})

	t.Run("scheduler from the chart's configuration schedules a farm pod", func(t *testing.T) {
		testSchedulesFarmPod(ctx, t, sched)
	})

	t.Run("admission policy", func(t *testing.T) {
		testAdmissionPolicy(ctx, t, objs)
	})

	t.Run("controller writes status", func(t *testing.T) {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			f := &farmv1alpha1.Farm{}
			if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: "install-tenant", Name: "tenant"}, f); err != nil {
				return false, err
			}
			return f.Status.ObservedGeneration == f.Generation && f.Status.RunningExecutors == 1, nil
		})
		if err != nil {
			t.Errorf("farm-controller did not write the status of install-tenant/tenant: %v", err)
		}
	})

	// Prometheus's identity: a service account bound to the chart's metrics reader role.
	token := metricsToken(ctx, t)
	t.Run("dashboard and alert metrics are exported", func(t *testing.T) {
		testMetricsExported(ctx, t, sched, ctrl, token)
	})

	t.Run("build info names the stamped version", func(t *testing.T) {
		testBuildInfo(ctx, t, token, sched, ctrl)
	})

	t.Run("metrics only for callers allowed to get /metrics", func(t *testing.T) {
		testMetricsAccess(ctx, t, token, sched, ctrl)
	})

	t.Run("farm-controller deletes only Failed pods", func(t *testing.T) {
		testControllerDeletesOnlyFailedPods(ctx, t, objs)
	})

	// Run with the chart's RBAC, a missing permission shows as a refused list, watch, lease or
	// event in the components' logs.
	for _, c := range []*component{sched, ctrl} {
		if out := c.process.Output(); strings.Contains(strings.ToLower(out), "forbidden") {
			t.Errorf("%s was refused something with the chart's RBAC:\n%s", c.name, forbiddenLines(out))
		}
	}
}

// component is farm-scheduler or farm-controller started from the rendered chart.
type component struct {
	name      string
	process   *harness.ChildProcess
	container map[string]any
	// probeBase is where its probes answer; metricsURL where its metrics are served.
	probeBase, metricsURL string
}

func deploymentContainer(t *testing.T, deploy *unstructured.Unstructured) (map[string]any, string) {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("Deployment %s has %d containers, want 1", deploy.GetName(), len(containers))
	}
	sa, _, _ := unstructured.NestedString(deploy.Object, "spec", "template", "spec", "serviceAccountName")
	if sa == "" {
		t.Fatalf("Deployment %s runs as no service account", deploy.GetName())
	}
	return containers[0].(map[string]any), "system:serviceaccount:" + deploy.GetNamespace() + ":" + sa
}

// startScheduler runs farm-scheduler with the rendered ConfigMap's configuration and the
// Deployment's arguments, as the Deployment's service account. Only what differs between a pod
// and this test changes: the kubeconfig (in a pod: the service account's in-cluster config), the
// files and the port. Leader election stays on, so the lease RBAC is exercised.
func startScheduler(ctx context.Context, t *testing.T, objs []*unstructured.Unstructured) *component {
	t.Helper()
	deploy := find(t, objs, "Deployment", "farm-scheduler")
	container, user := deploymentContainer(t, deploy)
	cm := find(t, objs, "ConfigMap", "farm-scheduler-config")
	data, _, _ := unstructured.NestedString(cm.Object, "data", "scheduler-config.yaml")
	cfg := map[string]any{}
	if err := yaml.Unmarshal([]byte(data), &cfg); err != nil {
		t.Fatalf("decoding the rendered scheduler configuration: %v", err)
	}
	lease, _ := cfg["leaderElection"].(map[string]any)
	if lease == nil || lease["leaderElect"] != true {
		t.Fatalf("the rendered scheduler configuration does not elect a leader: %v", lease)
	}
	kubeconfig := cluster.ImpersonatingKubeconfig(t, user)
	conn, _ := cfg["clientConnection"].(map[string]any)
	if conn == nil {
		conn = map[string]any{}
	}
	conn["kubeconfig"] = kubeconfig
	cfg["clientConnection"] = conn
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/scheduler-config.yaml"
	if err := writeFile(path, out); err != nil {
		t.Fatal(err)
	}

	waitAllowed(ctx, t, user,
		access{Verb: "list", Group: farmv1alpha1.GroupVersion.Group, Resource: "farms"},
		access{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: fmt.Sprint(lease["resourceNamespace"]), Name: fmt.Sprint(lease["resourceName"])},
		access{Verb: "get", Resource: "configmaps", Namespace: "kube-system", Name: "extension-apiserver-authentication"},
	)

	port := harness.FreePort(t)
	args := replaceArgs(containerArgs(t, deploy), map[string]string{
		"--config":                    path,
		"--secure-port":               port,
		"--bind-address":              "127.0.0.1",
		"--authentication-kubeconfig": kubeconfig,
		"--authorization-kubeconfig":  kubeconfig,
	})
	p := harness.StartProcess(t, harness.Binary(t, "farm-scheduler"), args...)
	base := "https://127.0.0.1:" + port
	return &component{name: "farm-scheduler", process: p, container: container, probeBase: base, metricsURL: base + "/metrics"}
}

// startController runs farm-controller with the Deployment's arguments as its service account.
// Outside a pod the lease namespace must be given (in a pod it is the pod's own), and Failed
// executors are kept a second instead of a minute so the cleanup metric shows up soon.
func startController(ctx context.Context, t *testing.T, objs []*unstructured.Unstructured) *component {
	t.Helper()
	deploy := find(t, objs, "Deployment", "farm-controller")
	container, user := deploymentContainer(t, deploy)
	waitAllowed(ctx, t, user,
		access{Verb: "list", Group: farmv1alpha1.GroupVersion.Group, Resource: "farmmanagers"},
		access{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: deploy.GetNamespace(), Name: controller.LeaderElectionID},
	)
	metrics, health := harness.FreePort(t), harness.FreePort(t)
	args := replaceArgs(containerArgs(t, deploy), map[string]string{
		"--kubeconfig":                cluster.ImpersonatingKubeconfig(t, user),
		"--leader-election-namespace": deploy.GetNamespace(),
		"--metrics-bind-address":      "127.0.0.1:" + metrics,
		"--health-probe-bind-address": "127.0.0.1:" + health,
		"--failed-executor-retention": "1s",
	})
	if !slices.Contains(args, "--leader-elect") {
		t.Fatalf("the chart runs farm-controller without --leader-elect: %q", args)
	}
	p := harness.StartProcess(t, harness.Binary(t, "farm-controller"), args...)
	return &component{name: "farm-controller", process: p, container: container,
		probeBase: "http://127.0.0.1:" + health, metricsURL: "https://127.0.0.1:" + metrics + "/metrics"}
}

// testSchedulesFarmPod creates a Farm and an executor for farm-scheduler and waits until it runs
// on a node of its own pool, with the scheduler's event recorded.
func testSchedulesFarmPod(ctx context.Context, t *testing.T, sched *component) {
	createPool(ctx, t, "install", 1)
	createNamespace(ctx, t, "install-tenant")
	createFarm(ctx, t, "install-tenant", "tenant", 2, 0)
	pod := executor("install-tenant", "exec-0", "install")
	if _, err := cluster.Clientset.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var got *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if sched.process.Exited() {
			return false, errors.New("farm-scheduler exited")
		}
		p, err := cluster.Clientset.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got = p
		return p.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("waiting for the executor to run: %v (node %q, phase %q)", err, got.Spec.NodeName, got.Status.Phase)
	}
	if got.Spec.NodeName != "install-0" {
		t.Errorf("executor bound to %q, want install-0", got.Spec.NodeName)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		events, err := cluster.Clientset.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(events.Items, func(e corev1.Event) bool {
			return e.Reason == "Scheduled" && e.InvolvedObject.Name == pod.Name
		}), nil
	})
	if err != nil {
		t.Errorf("no Scheduled event for %s/%s: farm-scheduler could not record events: %v", pod.Namespace, pod.Name, err)
	}
}

// Users of the admission policy test. Both may edit Farms as far as RBAC goes; only one is in an
// admin group of the chart's defaults.
const (
	tenantUser = "alice"
	adminUser  = "bob"
	adminGroup = "farm-admins"
)

func testAdmissionPolicy(ctx context.Context, t *testing.T, objs []*unstructured.Unstructured) {
	policyName := find(t, objs, "ValidatingAdmissionPolicy", "farm-spec-admins-only").GetName()
	const ns = "install-vap"
	createNamespace(ctx, t, ns)
	grantFarmEditing(ctx, t, tenantUser, adminUser)

	tenant := dynamicFor(t, tenantUser, "tenants")
	admin := dynamicFor(t, adminUser, adminGroup)
	schedulerSA := dynamicFor(t, "system:serviceaccount:"+installNamespace+":farm-scheduler")
	controllerSA := dynamicFor(t, "system:serviceaccount:"+installNamespace+":farm-controller")

	// The policy reaches the API server's admission through an informer: wait until it refuses a
	// tenant's (dry-run) create before testing.
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := tenant.Resource(farmsResource).Namespace(ns).Create(ctx, farmObject(ns, "probe", 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), policyName), nil
	})
	if err != nil {
		t.Fatalf("ValidatingAdmissionPolicy %s never refused a tenant's Farm: %v", policyName, err)
	}

	tests := []struct {
		name string
		do   func(ctx context.Context, farm string) error
		// wantRefused lists what the 403 message must name; nil means the request is allowed.
		wantRefused []string
		// check, when set, verifies the allowed request's effect.
		check func(t *testing.T, f *farmv1alpha1.Farm)
	}{
		{
			name:        "tenant raises its minimum",
			do:          patchSpec(tenant, ns, `{"spec":{"minExecutors":50}}`),
			wantRefused: []string{policyName, "spec.minExecutors", tenantUser},
		},
		{
			name: "tenant creates a Farm",
			do: func(ctx context.Context, farm string) error {
				_, err := tenant.Resource(farmsResource).Namespace(ns).Create(ctx, farmObject(ns, farm+"-new", 5), metav1.CreateOptions{})
				return err
			},
			wantRefused: []string{policyName, "may not create"},
		},
		{
			name:        "tenant lifts its ceiling",
			do:          patchSpec(tenant, ns, `{"spec":{"maxExecutors":40}}`),
			wantRefused: []string{policyName, "spec.maxExecutors"},
		},
		{
			name:        "tenant changes two spec fields",
			do:          patchSpec(tenant, ns, `{"spec":{"labelValue":"other","scaledownAfterNTriggers":9}}`),
			wantRefused: []string{"spec.labelValue", "spec.scaledownAfterNTriggers"},
		},
		{
			name:  "tenant labels its Farm (metadata only)",
			do:    patchSpec(tenant, ns, `{"metadata":{"labels":{"team":"physics"}}}`),
			check: func(t *testing.T, f *farmv1alpha1.Farm) { wantEqual(t, "label team", f.Labels["team"], "physics") },
		},
		{
			name:  "admin raises the minimum",
			do:    patchSpec(admin, ns, `{"spec":{"minExecutors":3}}`),
			check: func(t *testing.T, f *farmv1alpha1.Farm) { wantEqual(t, "minExecutors", f.Spec.MinExecutors, int32(3)) },
		},
		{
			name:  "admin sets the ceiling",
			do:    patchSpec(admin, ns, `{"spec":{"maxExecutors":7}}`),
			check: func(t *testing.T, f *farmv1alpha1.Farm) { wantEqual(t, "maxExecutors", f.Spec.MaxExecutors, int32(7)) },
		},
		{
			name: "farm-scheduler writes scaledownTriggered",
			do:   applyStatus(schedulerSA, ns, "farm-scheduler", map[string]any{"scaledownTriggered": int64(2)}),
			check: func(t *testing.T, f *farmv1alpha1.Farm) {
				wantEqual(t, "scaledownTriggered", f.Status.ScaledownTriggered, int32(2))
			},
		},
		{
			// No check of the value: the running farm-controller owns these fields and puts its
			// own count back at once. That it is not refused is the point.
			name: "farm-controller writes status",
			do:   applyStatus(controllerSA, ns, "install-test-controller", map[string]any{"errorExecutors": int64(4)}),
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			farm := fmt.Sprintf("farm-%d", i)
			// A label type of its own: these Farms select no executor and never take part in
			// scheduling.
			if err := cluster.Client.Create(ctx, &farmv1alpha1.Farm{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: farm},
				Spec:       farmv1alpha1.FarmSpec{LabelKey: "install-test", LabelValue: "vap", MinExecutors: 1},
			}); err != nil {
				t.Fatalf("creating Farm as the cluster admin: %v", err)
			}
			err := tc.do(ctx, farm)
			if tc.wantRefused != nil {
				if !apierrors.IsForbidden(err) {
					t.Fatalf("got %v, want 403 Forbidden", err)
				}
				for _, s := range tc.wantRefused {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("refusal %q does not name %q", err.Error(), s)
					}
				}
				f := getFarm(ctx, t, ns, farm)
				wantEqual(t, "minExecutors after refusal", f.Spec.MinExecutors, int32(1))
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.check != nil {
				tc.check(t, getFarm(ctx, t, ns, farm))
			}
		})
	}
}

func patchSpec(c dynamic.Interface, ns, patch string) func(context.Context, string) error {
	return func(ctx context.Context, farm string) error {
		_, err := c.Resource(farmsResource).Namespace(ns).Patch(ctx, farm, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		return err
	}
}

func applyStatus(c dynamic.Interface, ns, manager string, status map[string]any) func(context.Context, string) error {
	return func(ctx context.Context, farm string) error {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": farmv1alpha1.GroupVersion.String(),
			"kind":       "Farm",
			"metadata":   map[string]any{"name": farm, "namespace": ns},
			"status":     status,
		}}
		_, err := c.Resource(farmsResource).Namespace(ns).ApplyStatus(ctx, farm, obj, metav1.ApplyOptions{FieldManager: manager, Force: true})
		return err
	}
}

func farmObject(ns, name string, min int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": farmv1alpha1.GroupVersion.String(),
		"kind":       "Farm",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       map[string]any{"labelKey": "install-test", "labelValue": "vap", "minExecutors": min},
	}}
}

// grantFarmEditing lets users do everything with Farms that RBAC can grant, so only the admission
// policy stands between a tenant and its guarantee.
func grantFarmEditing(ctx context.Context, t *testing.T, users ...string) {
	t.Helper()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "install-test-farm-editor"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{farmv1alpha1.GroupVersion.Group}, Resources: []string{"farms"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		},
	}
	if _, err := cluster.Clientset.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
	}
	for _, u := range users {
		binding.Subjects = append(binding.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "User", Name: u})
	}
	if _, err := cluster.Clientset.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		waitAllowed(ctx, t, u, access{Verb: "patch", Group: farmv1alpha1.GroupVersion.Group, Resource: "farms"})
	}
}

func dynamicFor(t *testing.T, user string, groups ...string) dynamic.Interface {
	t.Helper()
	c, err := dynamic.NewForConfig(cluster.ImpersonatingConfig(user, groups...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getFarm(ctx context.Context, t *testing.T, ns, name string) *farmv1alpha1.Farm {
	t.Helper()
	f := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, f); err != nil {
		t.Fatal(err)
	}
	return f
}

func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// testMetricsExported drives reclaim, a scale-down and a Failed executor so every per-farm series
// exists, then scrapes both components until each metric the dashboard and the alerts use is
// there, with the series of the story's farms under their namespace and farm labels.
func testMetricsExported(ctx context.Context, t *testing.T, sched, ctrl *component, token string) {
	want := usedMetrics(t)
	t.Logf("metrics used by the dashboard and the alerts: %v", want)

	// One node holds four executors. lender (min 0) borrows all of it; then an executor of
	// guaranteed (min 1) fits nowhere and reclaim evicts one of lender's.
	createPool(ctx, t, "metrics", 1)
	createNamespace(ctx, t, "install-lender")
	createNamespace(ctx, t, "install-guaranteed")
	createFarm(ctx, t, "install-lender", "lender", 0, 0)
	createFarm(ctx, t, "install-guaranteed", "guaranteed", 1, 0)
	for i := range 4 {
		createExecutor(ctx, t, executor("install-lender", fmt.Sprintf("exec-%d", i), "metrics"))
	}
	waitRunning(ctx, t, "install-lender", 4)
	createExecutor(ctx, t, executor("install-guaranteed", "exec-0", "metrics"))
	waitRunning(ctx, t, "install-guaranteed", 1)

	// A Failed executor for the controller to clean up, then a ceiling below lender's count for
	// it to enforce.
	pods, err := cluster.Clientset.CoreV1().Pods("install-lender").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pods.Items, func(p corev1.Pod) bool { return quota.IsRunning(&p) })
	if i < 0 {
		t.Fatal("no running lender executor left to fail")
	}
	failed := pods.Items[i].DeepCopy()
	failed.Status.Phase = corev1.PodFailed
	if _, err := cluster.Clientset.CoreV1().Pods(failed.Namespace).UpdateStatus(ctx, failed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The controller must delete it as a Failed executor before the scale-down below, which
	// would otherwise evict it first.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cluster.Clientset.CoreV1().Pods(failed.Namespace).Get(ctx, failed.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("farm-controller did not delete the Failed executor %s/%s: %v", failed.Namespace, failed.Name, err)
	}
	if err := cluster.Client.Patch(ctx, &farmv1alpha1.Farm{ObjectMeta: metav1.ObjectMeta{Namespace: "install-lender", Name: "lender"}},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"maxExecutors":1}}`))); err != nil {
		t.Fatalf("lowering lender's maxExecutors as the cluster admin: %v", err)
	}

	// Series the story leaves, each under its Farm's namespace and name as separate labels:
	// attempts and binding time under the waiting executor's farm, evictions under the evicted's.
	wantSeries := []farmSeries{
		{"farm_reclaim_attempts_total", "install-guaranteed", "guaranteed"},
		{"farm_guaranteed_pod_scheduling_duration_seconds", "install-guaranteed", "guaranteed"},
		{"farm_reclaim_evictions_total", "install-lender", "lender"},
		{"farm_failed_executors_deleted_total", "install-lender", "lender"},
		{"farm_scaledown_evictions_total", "install-lender", "lender"},
		{"farm_executors", "install-lender", "lender"},
		{"farm_underquota_executors", "install-guaranteed", "guaranteed"},
	}
	var missing []string
	var missingSeries []farmSeries
	var families map[string]*dto.MetricFamily
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		exported := map[string]bool{}
		families = map[string]*dto.MetricFamily{}
		for _, c := range []*component{sched, ctrl} {
			if c.process.Exited() {
				return false, fmt.Errorf("%s exited", c.name)
			}
			code, body, err := get(ctx, c.metricsURL, token)
			if err != nil || code != http.StatusOK {
				return false, nil
			}
			for name := range metricFamilies(body) {
				exported[name] = true
			}
			parsed, err := testutil.TextToMetricFamilies(bytes.NewReader(body))
			if err != nil {
				return false, fmt.Errorf("parsing the metrics of %s: %w", c.name, err)
			}
			maps.Copy(families, parsed)
		}
		missing = slices.DeleteFunc(slices.Clone(want), func(m string) bool { return exported[m] })
		missingSeries = slices.DeleteFunc(slices.Clone(wantSeries), func(s farmSeries) bool { return s.in(families) })
		return len(missing) == 0 && len(missingSeries) == 0, nil
	})
	if err != nil {
		t.Errorf("metrics used by the dashboard or the alerts but not exported by farm-scheduler or farm-controller: %v; "+
			"series not exported: %v (%v)", missing, missingSeries, err)
	}
	for _, problem := range farmLabelProblems(families) {
		t.Error(problem)
	}
}

// prometheusMetrics are made by Prometheus itself, not by a scraped target.
var prometheusMetrics = map[string]bool{"up": true}

// usedMetrics returns every metric name in the dashboard's queries and the rendered alert rules.
func usedMetrics(t *testing.T) []string {
	t.Helper()
	var exprs []string
	var dashboard struct {
		Templating struct {
			List []struct {
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(moduleFile(t, "manifests/dashboards/farm.json"), &dashboard); err != nil {
		t.Fatalf("decoding the dashboard: %v", err)
	}
	for _, v := range dashboard.Templating.List {
		exprs = append(exprs, v.Definition)
	}
	for _, p := range dashboard.Panels {
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
		}
	}
	for _, r := range alertRules(t) {
		exprs = append(exprs, r.Expr)
	}
	var names []string
	for _, e := range exprs {
		for _, n := range metricNames(e) {
			if !prometheusMetrics[n] && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("found no metric names in the dashboard and the alerts")
	}
	slices.Sort(names)
	return names
}

// metricFamilies returns the metric names in a Prometheus text exposition.
func metricFamilies(body []byte) map[string]bool {
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

// get fetches url (the components serve self-signed certificates) with an optional bearer token.
func get(ctx context.Context, url, token string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func forbiddenLines(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(strings.ToLower(l), "forbidden") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// createPool adds n nodes labelled pool=name; executors of a test select their pool, so tests do
// not take each other's room.
func createPool(ctx context.Context, t *testing.T, name string, n int) {
	t.Helper()
	for i := range n {
		node := harness.NewNode(fmt.Sprintf("%s-%d", name, i), harness.DefaultNodeShape)
		node.Labels["pool"] = name
		if _, err := cluster.Clientset.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func createNamespace(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	if err := cluster.CreateNamespace(ctx, name); err != nil {
		t.Fatal(err)
	}
}

func createFarm(ctx context.Context, t *testing.T, ns, name string, min, max int32) {
	t.Helper()
	if err := cluster.Client.Create(ctx, &farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: min, MaxExecutors: max},
	}); err != nil {
		t.Fatal(err)
	}
}

func executor(ns, name, pool string) *corev1.Pod {
	p := harness.ExecutorPod(ns, name, "spark-role", "executor")
	p.Spec.NodeSelector = map[string]string{"pool": pool}
	return p
}

func createExecutor(ctx context.Context, t *testing.T, p *corev1.Pod) {
	t.Helper()
	if _, err := cluster.Clientset.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitRunning waits until n executors of ns are running.
func waitRunning(ctx context.Context, t *testing.T, ns string, n int) {
	t.Helper()
	running := 0
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := cluster.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		running = 0
		for _, p := range pods.Items {
			if quota.IsRunning(&p) {
				running++
			}
		}
		return running == n, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d running executors in %s (have %d): %v", n, ns, running, err)
	}
}
