package tenant

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the example spark-defaults.conf from SparkDefaults")

// exampleSparkDefaults is tenant alice's spark-defaults.conf, shipped as the example.
const exampleSparkDefaults = "../../manifests/examples/spark/spark-defaults.conf"

// TestExampleSparkDefaultsIsGenerated keeps the example and what tenant add writes one text:
// go test ./pkg/tenant -run TestExampleSparkDefaultsIsGenerated -update rewrites the example.
func TestExampleSparkDefaultsIsGenerated(t *testing.T) {
	want, err := SparkDefaults(Spec{Name: "alice", MinExecutors: 4}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(exampleSparkDefaults, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(exampleSparkDefaults)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is not SparkDefaults for tenant alice (run this test with -update) (-want +got):\n%s", exampleSparkDefaults, diff)
	}
}

func TestSparkDefaults(t *testing.T) {
	alice := Spec{Name: "alice", MinExecutors: 4}.WithDefaults()
	tests := []struct {
		name string
		edit func(*Spec)
		// want are lines the file must hold, lacking lines it must not.
		want, lacking []string
		wantErr       string
	}{
		{
			name: "defaults",
			edit: func(*Spec) {},
			want: []string{
				"spark.kubernetes.namespace                       alice",
				"spark.kubernetes.authenticate.driver.serviceAccountName alice",
				"spark.kubernetes.executor.scheduler.name         farm-scheduler",
				"spark.kubernetes.executor.podTemplateFile        executor-pod-template.yaml",
				"spark.driver.host                                spark-driver.alice.svc",
				"spark.driver.port                                7078",
				"spark.driver.blockManager.port                   7079",
				"# spark-role=executor, a label Spark gives its executors itself. The pod template sets the",
			},
			lacking: []string{"spark.kubernetes.executor.label."},
		},
		{
			name: "own namespace and farm type",
			edit: func(s *Spec) {
				s.Namespace, s.FarmName, s.LabelKey, s.LabelValue = "spark-alice", "jupyter-alice", "farm.example.org/type", "batch"
			},
			want: []string{
				"spark.kubernetes.namespace                       spark-alice",
				"spark.kubernetes.authenticate.driver.serviceAccountName alice",
				"spark.driver.host                                spark-driver.spark-alice.svc",
				"# Executors are scheduled by farm-scheduler. The tenant's Farm jupyter-alice selects the pods labelled",
				"spark.kubernetes.executor.label.farm.example.org/type batch",
			},
		},
		{
			name:    "spark-role with another value",
			edit:    func(s *Spec) { s.LabelValue = "worker" },
			wantErr: "Spark labels its executors spark-role=executor",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := alice
			tt.edit(&s)
			got, err := SparkDefaults(s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(got), "\n")
			for _, w := range tt.want {
				if !slices.Contains(lines, w) {
					t.Errorf("no line %q in:\n%s", w, got)
				}
			}
			for _, l := range tt.lacking {
				if strings.Contains(string(got), l) {
					t.Errorf("holds %q:\n%s", l, got)
				}
			}
		})
	}
}
