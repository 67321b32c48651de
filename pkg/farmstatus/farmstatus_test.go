package farmstatus

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

func farm(namespace, name string, min, max int32, status farmv1alpha1.FarmStatus) farmv1alpha1.Farm {
	return farmv1alpha1.Farm{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       farmv1alpha1.FarmSpec{LabelKey: "spark-role", LabelValue: "executor", MinExecutors: min, MaxExecutors: max},
		Status:     status,
	}
}

func guarantee(s metav1.ConditionStatus) []metav1.Condition {
	return []metav1.Condition{{Type: farmv1alpha1.FarmBorrowing, Status: metav1.ConditionTrue}, {Type: farmv1alpha1.FarmGuaranteeMet, Status: s}}
}

var farms = []farmv1alpha1.Farm{
	farm("bob", "bob", 4, 0, farmv1alpha1.FarmStatus{RunningExecutors: 1, PendingExecutors: 3, Conditions: guarantee(metav1.ConditionFalse)}),
	farm("alice", "alice", 2, 10, farmv1alpha1.FarmStatus{RunningExecutors: 8, Overquota: 6, ReclaimingExecutors: 2, Conditions: guarantee(metav1.ConditionTrue)}),
	farm("alice", "a-second", 0, 0, farmv1alpha1.FarmStatus{}),
}

func TestOf(t *testing.T) {
	want := Summary{Farms: []Row{
		{Namespace: "alice", Name: "a-second", GuaranteeMet: metav1.ConditionUnknown},
		{Namespace: "alice", Name: "alice", MinExecutors: 2, MaxExecutors: 10, Running: 8, Borrowed: 6, Reclaiming: 2, GuaranteeMet: metav1.ConditionTrue},
		{Namespace: "bob", Name: "bob", MinExecutors: 4, Running: 1, Pending: 3, GuaranteeMet: metav1.ConditionFalse},
	}}
	if diff := cmp.Diff(want, Of(farms)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPrint(t *testing.T) {
	summary := Of(farms)
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"table", func(t *testing.T, out string) {
			want := strings.Join([]string{
				"NAMESPACE   NAME       MIN   MAX   RUNNING   PENDING   BORROWED   RECLAIMING   GUARANTEE MET",
				"alice       a-second   0     -     0         0         0          0            Unknown",
				"alice       alice      2     10    8         0         6          2            True",
				"bob         bob        4     -     1         3         0          0            False",
				""}, "\n")
			if diff := cmp.Diff(want, out); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
		{"json", func(t *testing.T, out string) {
			var got Summary
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(summary, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		}},
		{"yaml", func(t *testing.T, out string) {
			var got Summary
			if err := yaml.UnmarshalStrict([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(summary, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Print(&buf, summary, tt.format); err != nil {
				t.Fatal(err)
			}
			tt.check(t, buf.String())
		})
	}
	var buf bytes.Buffer
	if err := Print(&buf, summary, "wide"); err == nil || !strings.Contains(err.Error(), `"wide"`) {
		t.Errorf("unknown format: got err %v, want one naming it", err)
	}
	buf.Reset()
	if err := Print(&buf, Summary{}, "table"); err != nil || buf.String() != "No farms found.\n" {
		t.Errorf("no farms: got %q, %v", buf.String(), err)
	}
}
