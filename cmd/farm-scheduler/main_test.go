package main

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/component-base/version"

	"github.com/toinfn/farm/pkg/buildinfo"
)

func TestVersionFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"--version"}, want: "farm-scheduler " + buildinfo.Version() + " (Kubernetes " + version.Get().GitVersion + ")\n"},
		{args: []string{"--version=raw"}, want: `GitVersion:"` + version.Get().GitVersion + `"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			cmd := newCommand()
			cmd.SetArgs(tc.args)
			cmd.SetOut(&out)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("printed %q, want it to contain %q", out.String(), tc.want)
			}
		})
	}
}
