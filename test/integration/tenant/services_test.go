package tenant

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestServiceExternalIPs: every node routes a Service's externalIPs to it, so a tenant setting
// them could take another's traffic. The tenant is refused; without them, or as an admin, the
// same Service is created.
func TestServiceExternalIPs(t *testing.T) {
	installGuards(t)
	const ns = "external-ips"
	tc, _ := newTenant(t, ns)
	service := func(name string, externalIPs ...string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{
				Selector:    map[string]string{"spark-role": "driver"},
				Ports:       []corev1.ServicePort{{Name: "ui", Port: 4040}},
				ExternalIPs: externalIPs,
			},
		}
	}
	waitRefused(t, "a Service with externalIPs", func(ctx context.Context) error {
		_, err := tc.CoreV1().Services(ns).Create(ctx, service("probe", "203.0.113.7"), dryRun)
		return err
	}, "farm-no-external-ips")

	tests := []struct {
		name    string
		client  kubernetes.Interface
		service *corev1.Service
		// wantRefused lists what the 403 message must name; nil means allowed.
		wantRefused []string
	}{
		{"tenant sets externalIPs", tc, service("spark-ui", "203.0.113.7"),
			[]string{"farm-no-external-ips", "may not set spec.externalIPs of Service " + ns + "/spark-ui"}},
		{"tenant creates the Service without them", tc, service("spark-ui"), nil},
		{"admin sets externalIPs", cluster.Clientset, service("admins-ui", "203.0.113.7"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.CoreV1().Services(ns).Create(t.Context(), tt.service, metav1.CreateOptions{})
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
