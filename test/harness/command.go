package harness

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
)

// CommandResult is one run of a command-line tool: what it printed and how it exited.
type CommandResult struct {
	Stdout, Stderr string
	ExitCode       int
}

// RunCommand runs the built command name (see Binary) with args, its environment the test's
// plus env. A command that exits non-zero is a result, not a failure: tests of refusals need it.
func RunCommand(ctx context.Context, tb TB, env []string, name string, args ...string) CommandResult {
	tb.Helper()
	cmd := exec.CommandContext(ctx, Binary(tb, name), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		tb.Fatalf("running %s %v: %v", name, args, err)
	}
	return CommandResult{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: cmd.ProcessState.ExitCode()}
}
