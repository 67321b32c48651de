package harness

import (
	"strings"
	"testing"

	"k8s.io/component-base/version"
)

func TestReportKubernetesVersion(t *testing.T) {
	reportKubernetesVersion()
	if got := version.Get().GitVersion; !strings.HasPrefix(got, "v1.") {
		t.Errorf("reported version %q, want the k8s.io/kubernetes module's, v1.x", got)
	}
}
