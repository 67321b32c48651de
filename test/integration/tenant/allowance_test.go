package tenant

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/toinfn/farm/pkg/tenant"
)

// executorLabels are what the default Farm of tenant add selects.
var executorLabels = map[string]string{tenant.DefaultLabelKey: tenant.DefaultLabelValue}

// executor is an executor of the tenant's Farm in the executors' PriorityClass.
func executor(namespace, name string) *corev1.Pod {
	p := pod(namespace, name, "1", "1Gi", executorLabels)
	p.Spec.PriorityClassName = tenant.DefaultExecutorPriorityClass
	return p
}

// TestNonExecutorAllowance: a tenant's pods that are not executors hold capacity that is never
// reclaimed, so they get the allowance tenant add sets; executors are not counted, and only
// executors may take the executors' PriorityClass to be left out.
func TestNonExecutorAllowance(t *testing.T) {
	ctx := t.Context()
	installGuards(t)
	const ns = "allowance"
	tc, _ := newTenant(t, ns, "--non-executor-pods", "1", "--non-executor-cpu", "1", "--non-executor-memory", "2Gi")
	if err := cluster.SyncQuota(ctx, ns, tenant.NonExecutorQuotaName); err != nil {
		t.Fatal(err)
	}
	pods := tc.CoreV1().Pods(ns)
	waitRefused(t, "a driver above the allowance", func(ctx context.Context) error {
		_, err := pods.Create(ctx, pod(ns, "probe", "2", "1Gi", nil), dryRun)
		return err
	}, "exceeded quota: "+tenant.NonExecutorQuotaName)
	waitRefused(t, "a pod of the executors' PriorityClass that is no executor", func(ctx context.Context) error {
		p := executor(ns, "probe")
		p.Labels = nil
		_, err := pods.Create(ctx, p, dryRun)
		return err
	}, "farm-executors")

	driver := map[string]string{"spark-role": "driver"}
	tests := []struct {
		name   string
		client string // "tenant" or "admin"
		pod    *corev1.Pod
		// wantRefused lists what the 403 message must name; nil means allowed.
		wantRefused []string
	}{
		{"tenant runs a driver within the allowance", "tenant", pod(ns, "driver", "1", "1Gi", driver), nil},
		{"tenant runs a notebook beyond the allowance", "tenant", pod(ns, "notebook", "100m", "128Mi", nil),
			[]string{"exceeded quota: " + tenant.NonExecutorQuotaName, "pods=1"}},
		{"executors are not counted (1)", "tenant", executor(ns, "exec-1"), nil},
		{"executors are not counted (2)", "tenant", executor(ns, "exec-2"), nil},
		{"executors are not counted (3)", "tenant", executor(ns, "exec-3"), nil},
		{"tenant gives a notebook the executors' PriorityClass", "tenant", func() *corev1.Pod {
			p := executor(ns, "disguised-notebook")
			p.Labels = nil
			return p
		}(), []string{"farm-executors", "priorityClassName " + tenant.DefaultExecutorPriorityClass, "Farm allowance", "spark-role=executor"}},
		{"admin gives a pod the executors' PriorityClass", "admin", func() *corev1.Pod {
			p := executor(ns, "admins-pod")
			p.Labels = nil
			return p
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tc
			if tt.client == "admin" {
				c = cluster.Clientset
			}
			_, err := c.CoreV1().Pods(ns).Create(t.Context(), tt.pod, metav1.CreateOptions{})
			if tt.wantRefused != nil {
				wantRefused(t, err, tt.wantRefused...)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}
