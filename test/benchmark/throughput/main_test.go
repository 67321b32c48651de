package throughput

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/component-base/logs/json/register" // scheduler_perf's logging flags accept -logging-format=json
	perf "k8s.io/kubernetes/test/integration/scheduler_perf"
)

// etcdName is the command scheduler_perf looks up on PATH and runs for every workload.
const etcdName = "etcd"

func TestMain(m *testing.M) {
	// Run as etcd when scheduler_perf starts us under that name: the etcd linked into this binary
	// is the one the module graph pins, and nothing has to be built or downloaded first.
	if filepath.Base(os.Args[0]) == etcdName {
		etcdmain.Main(os.Args)
		return
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if err := perf.InitTests(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cleanup, err := putEtcdOnPath()
	if err != nil {
		fmt.Fprintf(os.Stderr, "providing etcd: %v\n", err)
		return 1
	}
	defer cleanup()
	dir, err := defaultOutputDir()
	if err != nil {
		fmt.Fprintf(os.Stderr, "preparing the output directory: %v\n", err)
		return 1
	}
	code := m.Run()
	reportOutputDir(dir)
	return code
}

// putEtcdOnPath links this test binary as etcd into a new directory at the front of PATH.
func putEtcdOnPath() (cleanup func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "farm-throughput-bin-")
	if err != nil {
		return nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	if err := os.Symlink(self, filepath.Join(dir, etcdName)); err != nil {
		cleanup()
		return nil, err
	}
	if err := os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH")); err != nil {
		cleanup()
		return nil, err
	}
	return cleanup, nil
}

// defaultOutputDir gives scheduler_perf somewhere to write unless the caller chose: ARTIFACTS
// receives each workload's log (kept only when the workload fails; without ARTIFACTS every log
// line would land in the benchmark output), and -data-items-dir receives the JSON results and
// per-workload progress files (by default scheduler_perf writes them into the package directory).
// It returns the directory it created, or "" when both were set by the caller.
func defaultOutputDir() (string, error) {
	_, haveArtifacts := os.LookupEnv("ARTIFACTS")
	dataItemsDir := flag.Lookup("data-items-dir")
	if haveArtifacts && dataItemsDir.Value.String() != "" {
		return "", nil
	}
	dir, err := os.MkdirTemp("", "farm-throughput-")
	if err != nil {
		return "", err
	}
	if !haveArtifacts {
		if err := os.Setenv("ARTIFACTS", dir); err != nil {
			return "", err
		}
	}
	if dataItemsDir.Value.String() == "" {
		if err := dataItemsDir.Value.Set(dir); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// reportOutputDir removes the directory defaultOutputDir made when nothing was written to it (no
// benchmark ran and no workload failed), and otherwise says where the results and logs are.
func reportOutputDir(dir string) {
	if dir == "" {
		return
	}
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) == 0 {
		_ = os.Remove(dir)
		return
	}
	fmt.Fprintf(os.Stderr, "scheduler_perf results and logs of failed workloads: %s\n", dir)
}
