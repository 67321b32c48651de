package tenant

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/farmstatus"
)

var dryRunAll = client.DryRunAll

func typesName(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}

// TestStatusPrintsEveryFarm writes a Farm status as farm-controller would and reads it back
// through kubectl farm status in every output format.
func TestStatusPrintsEveryFarm(t *testing.T) {
	ctx := t.Context()
	mustKubectlFarm(t, "tenant", "add", "mia", "--min", "4", "--max", "10")
	mustKubectlFarm(t, "tenant", "add", "ned", "--min", "2")

	farm := &farmv1alpha1.Farm{}
	if err := cluster.Client.Get(ctx, typesName("mia", "mia"), farm); err != nil {
		t.Fatal(err)
	}
	farm.Status = farmv1alpha1.FarmStatus{RunningExecutors: 7, PendingExecutors: 2, Overquota: 3, ReclaimingExecutors: 1}
	meta.SetStatusCondition(&farm.Status.Conditions, metav1.Condition{Type: "GuaranteeMet", Status: metav1.ConditionFalse, Reason: "WaitingForExecutors"})
	if err := cluster.Client.Status().Update(ctx, farm); err != nil {
		t.Fatal(err)
	}
	want := []farmstatus.Row{
		{Namespace: "mia", Name: "mia", MinExecutors: 4, MaxExecutors: 10, Running: 7, Pending: 2, Borrowed: 3, Reclaiming: 1, GuaranteeMet: metav1.ConditionFalse},
		{Namespace: "ned", Name: "ned", MinExecutors: 2, GuaranteeMet: metav1.ConditionUnknown},
	}

	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			out := mustKubectlFarm(t, "status", "-o", format)
			var got farmstatus.Summary
			unmarshal := json.Unmarshal
			if format == "yaml" {
				unmarshal = func(data []byte, v any) error { return yaml.UnmarshalStrict(data, v) }
			}
			if err := unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("parsing status -o %s: %v\n%s", format, err, out)
			}
			if diff := cmp.Diff(want, rowsOf(got, "mia", "ned")); diff != "" {
				t.Errorf("status -o %s (-want +got):\n%s", format, diff)
			}
		})
	}
	t.Run("table", func(t *testing.T) {
		out := mustKubectlFarm(t, "status", "-n", "mia")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("status -n mia: want a header and one farm, got:\n%s", out)
		}
		wantHeader := []string{"NAMESPACE", "NAME", "MIN", "MAX", "RUNNING", "PENDING", "BORROWED", "RECLAIMING", "GUARANTEE", "MET"}
		if diff := cmp.Diff(wantHeader, strings.Fields(lines[0])); diff != "" {
			t.Errorf("header (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"mia", "mia", "4", "10", "7", "2", "3", "1", "False"}, strings.Fields(lines[1])); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
	})
}

// rowsOf keeps the rows of the named namespaces: other tests' farms share the control plane.
func rowsOf(s farmstatus.Summary, namespaces ...string) []farmstatus.Row {
	var rows []farmstatus.Row
	for _, r := range s.Farms {
		for _, ns := range namespaces {
			if r.Namespace == ns {
				rows = append(rows, r)
			}
		}
	}
	return rows
}
