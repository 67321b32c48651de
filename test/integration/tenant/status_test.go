package tenant

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

func typesName(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}

// setStatus writes a Farm's status as farm-controller would, through the status subresource.
// The columns are read from status only, so the output formats need no scheduler here: mia's
// status is one in the middle of a reclaim (borrowing, one executor being reclaimed, its
// guarantee not met). TestColumnsDuringAReclaim reads the columns of a real one.
func setStatus(t *testing.T, namespace, name string, status farmv1alpha1.FarmStatus, guaranteeMet metav1.ConditionStatus) {
	t.Helper()
	ctx := t.Context()
	farm := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, typesName(namespace, name), farm); err != nil {
		t.Fatal(err)
	}
	farm.Status = status
	meta.SetStatusCondition(&farm.Status.Conditions, metav1.Condition{Type: farmv1alpha1.FarmGuaranteeMet, Status: guaranteeMet, Reason: "Test"})
	if err := cluster.Client.Status().Update(ctx, farm); err != nil {
		t.Fatal(err)
	}
}

// cells splits a kubectl table into its lines' cells. Cells are at least two spaces apart, and
// the column names with a space in them ("MAX (0=NONE)", "GUARANTEE MET") have one only.
func cells(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1))
	}
	return rows
}

// withoutAge drops the last column (AGE), which differs from one listing to the next.
func withoutAge(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = r[:len(r)-1]
	}
	return out
}

// TestStatusShowsTheFarmColumns: kubectl farm status and kubectl get farms print the Farm CRD's
// columns, the same way, in every output format.
func TestStatusShowsTheFarmColumns(t *testing.T) {
	mustKubectlFarm(t, "tenant", "add", "mia", "--min", "4", "--max", "10")
	mustKubectlFarm(t, "tenant", "add", "ned", "--min", "2")
	setStatus(t, "mia", "mia", farmv1alpha1.FarmStatus{RunningExecutors: 7, PendingExecutors: 2, Overquota: 3, ReclaimingExecutors: 1,
		ScaledownTriggered: 2, LastReclaimTime: ptr.To(metav1.Now()), Selector: "spark-role=executor",
		LastReclaimedFrom: &farmv1alpha1.ReclaimRecord{Time: metav1.Now(), Executors: 3, Farms: []string{"ned/ned"}, Summary: "3 executors for ned/ned"},
		LastReclaimedFor:  &farmv1alpha1.ReclaimRecord{Time: metav1.Now(), Executors: 1, Farms: []string{"bob/bob"}, Summary: "1 executor from bob/bob"}}, metav1.ConditionFalse)
	setStatus(t, "ned", "ned", farmv1alpha1.FarmStatus{RunningExecutors: 2}, metav1.ConditionTrue)

	header := []string{"NAME", "MIN", "MAX (0=NONE)", "RUNNING", "PENDING", "BORROWED", "RECLAIMING", "GUARANTEE MET"}
	mia := []string{"mia", "4", "10", "7", "2", "3", "1", "False"}
	ned := []string{"ned", "2", "0", "2", "0", "0", "0", "True"}

	t.Run("table of one namespace", func(t *testing.T) {
		status := withoutAge(cells(mustKubectlFarm(t, "status", "-n", "mia")))
		if diff := cmp.Diff([][]string{header, mia}, status); diff != "" {
			t.Errorf("kubectl farm status -n mia (-want +got):\n%s", diff)
		}
		get := withoutAge(cells(mustKubectl(t, cluster.Kubeconfig, "get", "farms", "-n", "mia")))
		if diff := cmp.Diff(status, get); diff != "" {
			t.Errorf("kubectl get farms -n mia differs from kubectl farm status -n mia (-status +get):\n%s", diff)
		}
	})
	t.Run("every namespace", func(t *testing.T) {
		rows := withoutAge(cells(mustKubectlFarm(t, "status", "-A")))
		want := [][]string{append([]string{"NAMESPACE"}, header...), append([]string{"mia"}, mia...), append([]string{"ned"}, ned...)}
		if diff := cmp.Diff(want, keepRows(rows, "NAMESPACE", "mia", "ned")); diff != "" {
			t.Errorf("kubectl farm status -A (-want +got):\n%s", diff)
		}
	})
	t.Run("wide", func(t *testing.T) {
		rows := cells(mustKubectlFarm(t, "status", "-n", "mia", "-o", "wide"))
		want := append(append([]string{}, header...), "TRIGGERED", "LAST RECLAIM", "RECLAIMED FROM IT", "RECLAIMED FOR IT", "SELECTOR", "AGE")
		if diff := cmp.Diff(want, rows[0]); diff != "" {
			t.Errorf("kubectl farm status -o wide header (-want +got):\n%s", diff)
		}
		if len(rows) != 2 || len(rows[1]) != len(want) || rows[1][8] != "2" || rows[1][10] != "3 executors for ned/ned" ||
			rows[1][11] != "1 executor from bob/bob" || rows[1][12] != "spark-role=executor" {
			t.Errorf("kubectl farm status -o wide: want mia with 2 triggers, its last reclaims and its selector, got %q", rows)
		}
	})
	t.Run("json", func(t *testing.T) {
		var list farmv1alpha1.FarmList
		if err := json.Unmarshal([]byte(mustKubectlFarm(t, "status", "-n", "mia", "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 || list.Items[0].Name != "mia" || list.Items[0].Status.Overquota != 3 || list.Items[0].Status.ReclaimingExecutors != 1 {
			t.Errorf("kubectl farm status -n mia -o json: want Farm mia with overquota 3 and 1 reclaiming, got %+v", list.Items)
		}
		if len(list.Items) == 1 && list.Items[0].ManagedFields != nil {
			t.Errorf("-o json shows managedFields, as kubectl get does only with --show-managed-fields")
		}
	})
	t.Run("name and jsonpath", func(t *testing.T) {
		if got := mustKubectlFarm(t, "status", "-n", "mia", "-o", "name"); got != "farm.farmcontroller.toinfn.it/mia\n" {
			t.Errorf("-o name: got %q", got)
		}
		if got := mustKubectlFarm(t, "status", "-n", "mia", "-o", "jsonpath={.items[*].status.reclaimingExecutors}"); got != "1" {
			t.Errorf("-o jsonpath: got %q, want 1", got)
		}
	})
	t.Run("no farms", func(t *testing.T) {
		r := kubectlFarm(t, "status", "-n", "kube-public")
		if r.ExitCode != 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "No farms found in namespace kube-public.") {
			t.Errorf("status in a namespace without farms: exit %d, stdout %q, stderr %q", r.ExitCode, r.Stdout, r.Stderr)
		}
	})
}

// keepRows keeps the rows whose first cell is one of firsts: other tests' farms share the
// control plane.
func keepRows(rows [][]string, firsts ...string) [][]string {
	var kept [][]string
	for _, r := range rows {
		for _, f := range firsts {
			if r[0] == f {
				kept = append(kept, r)
				break
			}
		}
	}
	return kept
}
