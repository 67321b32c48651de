package install

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/toinfn/farm/test/harness"
)

// farm-controller logs in the format --logging-format names, as farm-scheduler does: the same
// start-up line is a JSON object with --logging-format=json and klog's text without.
func TestControllerLogFormat(t *testing.T) {
	const startLine = "Starting farm-controller"
	tests := []struct {
		name     string
		args     []string
		wantJSON bool
	}{
		{name: "text by default", wantJSON: false},
		{name: "json", args: []string{"--logging-format=json"}, wantJSON: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := cluster.StartControllerBinary(t, tc.args...)
			var line string
			err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
				for _, l := range strings.Split(p.Output(), "\n") {
					if strings.Contains(l, startLine) {
						line = l
						return true, nil
					}
				}
				if p.Exited() {
					return false, errors.New("farm-controller exited")
				}
				return false, nil
			})
			if err != nil {
				t.Fatalf("no %q line: %v\n%s", startLine, err, p.Output())
			}
			var entry map[string]any
			isJSON := json.Unmarshal([]byte(line), &entry) == nil
			if isJSON != tc.wantJSON {
				t.Fatalf("start-up line %q is JSON: %t, want %t", line, isJSON, tc.wantJSON)
			}
			if !tc.wantJSON {
				return
			}
			if entry["msg"] != startLine || entry["version"] != stampedVersion(t) {
				t.Errorf("start-up entry %v: want msg %q and the stamped version as key version", entry, startLine)
			}
			// Every line, controller-runtime's and client-go's included, goes through the format.
			for _, l := range strings.Split(strings.TrimSpace(p.Output()), "\n") {
				if json.Unmarshal([]byte(l), &map[string]any{}) != nil {
					t.Errorf("not a JSON line: %q", l)
				}
			}
		})
	}
}

// A misspelt flag stops farm-controller before it does anything, naming the flag; the same
// command line without it starts (TestControllerLogFormat).
func TestControllerRefusesUnknownFlags(t *testing.T) {
	tests := []struct {
		name, flag, want string
	}{
		{name: "unknown flag", flag: "--leader-elect-namespace=farm-system", want: "unknown flag: --leader-elect-namespace"},
		{name: "standard library spelling of a klog flag", flag: "-logtostderr", want: "unknown shorthand flag: 'l' in -logtostderr"},
		{name: "unknown log format", flag: "--logging-format=xml", want: `format: Invalid value: \"xml\": Unsupported log format`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, harness.Binary(t, "farm-controller"), "--kubeconfig="+cluster.Kubeconfig,
				"--metrics-bind-address=0", "--health-probe-bind-address=0", "--logging-format=json", tc.flag)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exited with %v, want exit status 1\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output does not say %q:\n%s", tc.want, out)
			}
			if strings.Contains(string(out), "Starting farm-controller") {
				t.Errorf("farm-controller started despite %s:\n%s", tc.flag, out)
			}
		})
	}
}
