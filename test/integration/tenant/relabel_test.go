package tenant

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// TestExecutorLabelKeptWhileRunning: relabelling a running executor would take it out of its
// farm, which would then look below its minimum and reclaim from others while the pod keeps its
// room. The tenant is refused; an admin may.
func TestExecutorLabelKeptWhileRunning(t *testing.T) {
	ctx := t.Context()
	installGuards(t)
	const ns = "relabel"
	tc, _ := newTenant(t, ns)
	for _, name := range []string{"exec-1", "exec-2", "exec-3", "exec-4"} {
		created, err := tc.CoreV1().Pods(ns).Create(ctx, pod(ns, name, "1", "1Gi", executorLabels), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Status.Phase = corev1.PodRunning // as the kubelet would
		if name == "exec-4" {
			created.Status.Phase = corev1.PodFailed
		}
		if _, err := cluster.Clientset.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	relabel := func(c kubernetes.Interface, name, patch string, opts metav1.PatchOptions) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.CoreV1().Pods(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), opts)
			return err
		}
	}
	waitRefused(t, "relabelling a running executor", relabel(tc, "exec-1", `{"metadata":{"labels":{"spark-role":"driver"}}}`,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}}), "farm-executors")

	tests := []struct {
		name string
		do   func(context.Context) error
		pod  string
		// wantRefused lists what the 403 message must name; nil means allowed.
		wantRefused []string
		// wantLabel is the pod's spark-role label afterwards ("" for none).
		wantLabel string
	}{
		{"tenant changes the label", relabel(tc, "exec-1", `{"metadata":{"labels":{"spark-role":"driver"}}}`, metav1.PatchOptions{}), "exec-1",
			[]string{"farm-executors", "may not remove or change the label spark-role=executor", ns + "/exec-1", "Farm relabel"}, "executor"},
		{"tenant removes the label", relabel(tc, "exec-2", `{"metadata":{"labels":{"spark-role":null}}}`, metav1.PatchOptions{}), "exec-2",
			[]string{"farm-executors", "spark-role=executor"}, "executor"},
		{"tenant adds another label", relabel(tc, "exec-2", `{"metadata":{"labels":{"team":"physics"}}}`, metav1.PatchOptions{}), "exec-2",
			nil, "executor"},
		{"tenant relabels a Failed executor", relabel(tc, "exec-4", `{"metadata":{"labels":{"spark-role":"failed"}}}`, metav1.PatchOptions{}), "exec-4",
			nil, "failed"},
		{"admin changes the label", relabel(cluster.Clientset, "exec-3", `{"metadata":{"labels":{"spark-role":"driver"}}}`, metav1.PatchOptions{}), "exec-3",
			nil, "driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(t.Context())
			if tt.wantRefused != nil {
				wantRefused(t, err, tt.wantRefused...)
			} else if err != nil {
				t.Fatalf("refused: %v", err)
			}
			p, err := cluster.Clientset.CoreV1().Pods(ns).Get(t.Context(), tt.pod, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Labels["spark-role"]; got != tt.wantLabel {
				t.Errorf("label spark-role=%q afterwards, want %q", got, tt.wantLabel)
			}
		})
	}
}
