package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	logsapi "k8s.io/component-base/logs/api/v1"

	"github.com/toinfn/farm/pkg/buildinfo"
	"github.com/toinfn/farm/pkg/controller"
)

// defaults are the manager settings farm-controller had with the standard library's flags; the
// chart and the tests rely on them.
var defaults = controller.Options{
	MetricsBindAddress:       ":8443",
	HealthProbeBindAddress:   ":8081",
	LeaseDuration:            15 * time.Second,
	RenewDeadline:            10 * time.Second,
	RetryPeriod:              2 * time.Second,
	FailedExecutorRetention:  controller.DefaultFailedExecutorRetention,
	ScaleDownTriggerInterval: time.Second,
}

// parse runs the command on args with a start that only records the options it is given.
func parse(t *testing.T, args ...string) (*options, string, error) {
	t.Helper()
	opts, err := newOptions()
	if err != nil {
		t.Fatal(err)
	}
	var started *options
	cmd := command(opts, func(o *options) error { started = o; return nil })
	// verflag's --version is one global value: an earlier test may have set it.
	if err := cmd.Flags().Set(buildinfo.VersionFlag, "false"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err = cmd.Execute()
	return started, out.String(), err
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantManager func(o *controller.Options)
		wantLogs    func(c *logsapi.LoggingConfiguration)
		// wantLogsErr is what validating the logging configuration must say; empty: valid.
		wantLogsErr string
	}{
		{name: "defaults"},
		{
			name: "every manager flag, as the chart and the tests pass them",
			args: []string{
				"--leader-elect", "--leader-election-namespace=farm-system",
				"--metrics-bind-address=127.0.0.1:9443", "--metrics-cert-dir=/certs", "--health-probe-bind-address=:9081",
				"--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=5s",
				"--failed-executor-retention=1s", "--scale-down-trigger-interval=3s",
			},
			wantManager: func(o *controller.Options) {
				o.LeaderElection, o.LeaderElectionNamespace = true, "farm-system"
				o.MetricsBindAddress, o.MetricsCertDir, o.HealthProbeBindAddress = "127.0.0.1:9443", "/certs", ":9081"
				o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 30*time.Second, 20*time.Second, 5*time.Second
				o.FailedExecutorRetention, o.ScaleDownTriggerInterval = time.Second, 3*time.Second
			},
		},
		{name: "-v=2 (the tests)", args: []string{"-v=2"}, wantLogs: func(c *logsapi.LoggingConfiguration) { c.Verbosity = 2 }},
		{name: "--v=3 (the chart)", args: []string{"--v=3"}, wantLogs: func(c *logsapi.LoggingConfiguration) { c.Verbosity = 3 }},
		{name: "json", args: []string{"--logging-format=json"}, wantLogs: func(c *logsapi.LoggingConfiguration) { c.Format = "json" }},
		{
			name: "json with its beta gate off", args: []string{"--logging-format=json", "--feature-gates=LoggingBetaOptions=false"},
			wantLogs:    func(c *logsapi.LoggingConfiguration) { c.Format = "json" },
			wantLogsErr: "format: Forbidden: Log format json is disabled, see LoggingBetaOptions feature",
		},
		{
			name: "unknown format", args: []string{"--logging-format=xml"},
			wantLogs:    func(c *logsapi.LoggingConfiguration) { c.Format = "xml" },
			wantLogsErr: "format: Invalid value: \"xml\": Unsupported log format",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, out, err := parse(t, tc.args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			wantManager := defaults
			if tc.wantManager != nil {
				tc.wantManager(&wantManager)
			}
			if diff := cmp.Diff(wantManager, got.manager); diff != "" {
				t.Errorf("manager options (-want +got):\n%s", diff)
			}
			wantLogs := logsapi.NewLoggingConfiguration()
			if tc.wantLogs != nil {
				tc.wantLogs(wantLogs)
			}
			if diff := cmp.Diff(wantLogs, got.logs); diff != "" {
				t.Errorf("logging configuration (-want +got):\n%s", diff)
			}
			errs := logsapi.Validate(got.logs, got.featureGate, nil)
			switch {
			case tc.wantLogsErr == "" && len(errs) > 0:
				t.Errorf("logging configuration refused: %v", errs.ToAggregate())
			case tc.wantLogsErr != "" && (len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.wantLogsErr)):
				t.Errorf("logging configuration errors %v, want one saying %q", errs.ToAggregate(), tc.wantLogsErr)
			}
		})
	}
}

func TestFlagsRefused(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "unknown flag", args: []string{"--leader-elect-namespace=x"}, wantErr: "unknown flag: --leader-elect-namespace"},
		{name: "bad duration", args: []string{"--failed-executor-retention=soon"}, wantErr: `invalid argument "soon" for "--failed-executor-retention"`},
		{name: "argument", args: []string{"run"}, wantErr: `farm-controller takes no arguments, got ["run"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			started, out, err := parse(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one saying %q\n%s", err, tc.wantErr, out)
			}
			if started != nil {
				t.Error("the controller started despite the error")
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"--version"}, want: "farm-controller " + buildinfo.Version() + "\n"},
		{args: []string{"--version=raw"}, want: "version.Info{"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			started, out, err := parse(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out, tc.want) {
				t.Errorf("printed %q, want %q", out, tc.want)
			}
			if started != nil {
				t.Error("the controller started after printing its version")
			}
		})
	}
}
