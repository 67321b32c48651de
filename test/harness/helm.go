package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"k8s.io/client-go/rest"
)

// HelmEnv names the helm binary the install tests run. `make test` sets it to bin/helm, which
// `make helm` installs at the version the Makefile pins. When it is unset, helm is taken from PATH.
const HelmEnv = "FARM_HELM"

// Helm returns the path of the helm binary, or fails the test saying how to get one: a test of
// the chart without helm would prove nothing, so it never skips.
func Helm(tb TB) string {
	tb.Helper()
	if path := os.Getenv(HelmEnv); path != "" {
		if _, err := os.Stat(path); err != nil {
			tb.Fatalf("%s=%s but it is missing: run `make helm`, which installs the pinned helm into bin/: %v", HelmEnv, path, err)
		}
		return path
	}
	path, err := exec.LookPath("helm")
	if err != nil {
		tb.Fatalf("helm not found: run the tests with `make test` (it installs the pinned helm into bin/ with `make helm`), "+
			"or set %s to a helm v3 binary, or put one on PATH", HelmEnv)
	}
	return path
}

// RunHelm runs helm with args in the module root and returns its standard output. Standard error
// is returned too: helm reports linked chart files there, and lint findings.
func RunHelm(tb TB, args ...string) (stdout, stderr []byte, err error) {
	tb.Helper()
	cmd := exec.Command(Helm(tb), args...)
	cmd.Dir = ModuleRoot(tb)
	// No user configuration or repositories: the tests render only the local chart.
	home := tb.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), errOut.Bytes(), fmt.Errorf("helm %v: %w\n%s", args, err, errOut.String())
	}
	return out.Bytes(), errOut.Bytes(), nil
}

// ImpersonatingKubeconfig writes a kubeconfig that reaches this control plane as user (with
// groups, if any), through the administrator's credentials and impersonation, and returns its
// path. A service account user name (system:serviceaccount:NS:NAME) gets that service account's
// groups from the API server. Child processes run with it get exactly the RBAC of that user.
func (cp *ControlPlane) ImpersonatingKubeconfig(tb TB, user string, groups ...string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "kubeconfig")
	if err := writeKubeconfig(cp.ImpersonatingConfig(user, groups...), path); err != nil {
		tb.Fatalf("writing kubeconfig for %s: %v", user, err)
	}
	return path
}

// ImpersonatingConfig returns a copy of the administrator's rest.Config acting as user.
func (cp *ControlPlane) ImpersonatingConfig(user string, groups ...string) *rest.Config {
	cfg := rest.CopyConfig(cp.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return cfg
}
