package controller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}

func TestBinaryServesHealthAndReadiness(t *testing.T) {
	probes, metrics := harness.FreeLocalAddress(t), harness.FreeLocalAddress(t)
	p := cluster.StartControllerBinary(t, "--health-probe-bind-address="+probes, "--metrics-bind-address="+metrics)
	// The probes answer anyone; /metrics is HTTPS and answers an anonymous caller 401 (the install
	// tests scrape it with credentials).
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for path, want := range map[string]int{
		"http://" + probes + "/healthz":   http.StatusOK,
		"http://" + probes + "/readyz":    http.StatusOK,
		"https://" + metrics + "/metrics": http.StatusUnauthorized,
	} {
		var lastErr error
		err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			if p.Exited() {
				return false, errors.New("farm-controller exited")
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
			resp, err := insecure.Do(req)
			if err != nil {
				lastErr = err
				return false, nil
			}
			resp.Body.Close()
			lastErr = fmt.Errorf("status %d", resp.StatusCode)
			return resp.StatusCode == want, nil
		})
		if err != nil {
			t.Errorf("GET %s: %v (last: %v)\n%s", path, err, lastErr, p.Output())
		}
	}
}

func TestBinaryRefusesBadFlags(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"unknown flag":       {args: []string{"--leader-elekt"}, want: "unknown flag: --leader-elekt"},
		"stray argument":     {args: []string{"extra"}, want: `farm-controller takes no arguments, got ["extra"]`},
		"missing kubeconfig": {args: []string{"--kubeconfig=/nonexistent/kubeconfig"}, want: "/nonexistent/kubeconfig"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := harness.StartProcess(t, harness.Binary(t, "farm-controller"), append([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0"}, tc.args...)...)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := p.Wait(ctx)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("got %v, want a non-zero exit\n%s", err, p.Output())
			}
			if !strings.Contains(p.Output(), tc.want) {
				t.Errorf("output does not say %q:\n%s", tc.want, p.Output())
			}
		})
	}
}
