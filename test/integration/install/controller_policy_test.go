package install

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/toinfn/farm/test/harness"
)

// testControllerDeletesOnlyFailedPods acts as farm-controller's service account, which RBAC lets
// delete any pod: the chart's policy refuses it every pod that is not Failed, while an admin
// deletes the same pod, and scale-down's evictions still pass.
func testControllerDeletesOnlyFailedPods(ctx context.Context, t *testing.T, objs []*unstructured.Unstructured) {
	policy := find(t, objs, "ValidatingAdmissionPolicy", "farm-controller-deletes-failed-pods-only").GetName()
	const ns = "install-deletes"
	createNamespace(ctx, t, ns)
	controllerSA, err := kubernetes.NewForConfig(cluster.ImpersonatingConfig("system:serviceaccount:" + installNamespace + ":farm-controller"))
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]corev1.PodPhase{"running-0": corev1.PodRunning, "running-1": corev1.PodRunning, "running-2": corev1.PodRunning, "failed": corev1.PodFailed}
	for name, phase := range pods {
		createPodInPhase(ctx, t, ns, name, phase)
	}

	// The policy reaches admission through an informer: wait until it refuses a dry run.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := controllerSA.CoreV1().Pods(ns).Delete(ctx, "running-0", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), policy), nil
	})
	if err != nil {
		t.Fatalf("ValidatingAdmissionPolicy %s never refused farm-controller a Running pod: %v", policy, err)
	}

	tests := []struct {
		name string
		do   func(ctx context.Context) error
		// wantRefused lists what the 403 message must name; nil means allowed.
		wantRefused []string
		// gone is the pod the allowed request removes.
		gone string
	}{
		{"farm-controller deletes a Running pod", func(ctx context.Context) error {
			return controllerSA.CoreV1().Pods(ns).Delete(ctx, "running-0", metav1.DeleteOptions{})
		}, []string{policy, "may delete only Failed pods", ns + "/running-0 is Running"}, ""},
		{"an admin deletes a Running pod", func(ctx context.Context) error {
			return cluster.Clientset.CoreV1().Pods(ns).Delete(ctx, "running-1", metav1.DeleteOptions{})
		}, nil, "running-1"},
		{"farm-controller evicts a Running pod (scale-down)", func(ctx context.Context) error {
			return controllerSA.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "running-2"}})
		}, nil, "running-2"},
		{"farm-controller deletes a Failed pod", func(ctx context.Context) error {
			return controllerSA.CoreV1().Pods(ns).Delete(ctx, "failed", metav1.DeleteOptions{})
		}, nil, "failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do(ctx)
			if tc.wantRefused != nil {
				if !apierrors.IsForbidden(err) {
					t.Fatalf("got %v, want 403 Forbidden", err)
				}
				for _, s := range tc.wantRefused {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("refusal %q does not name %q", err.Error(), s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			// Deleted or on its way out (its grace period runs).
			p, err := cluster.Clientset.CoreV1().Pods(ns).Get(ctx, tc.gone, metav1.GetOptions{})
			if err == nil && p.DeletionTimestamp == nil {
				t.Errorf("pod %s/%s is still there and not being deleted", ns, tc.gone)
			} else if err != nil && !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		})
	}
	if p, err := cluster.Clientset.CoreV1().Pods(ns).Get(ctx, "running-0", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Errorf("the Running pod farm-controller was refused: err %v, deleting %v", err, p.GetDeletionTimestamp())
	}
}

// createPodInPhase creates a pod no scheduler serves and sets its phase, as a kubelet would.
func createPodInPhase(ctx context.Context, t *testing.T, ns, name string, phase corev1.PodPhase) {
	t.Helper()
	p := harness.ExecutorPod(ns, name, "install-test", "deletes")
	p.Spec.SchedulerName = "install-test-no-scheduler"
	created, err := cluster.Clientset.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.Phase = phase
	if _, err := cluster.Clientset.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}
