package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// BinDirEnv names a directory holding the built farm-scheduler and farm-controller. `make test`
// sets it to bin/, so the tests run exactly what `make build` produced. When it is unset, the
// harness builds the commands once per process.
const BinDirEnv = "FARM_BIN_DIR"

// packages are the commands built from outside cmd/: kubectl at the version go.mod pins, the
// apiserver's own (`make kubectl`).
var packages = map[string]string{"kubectl": "k8s.io/kubernetes/cmd/kubectl"}

var builds sync.Map // command name -> *buildOnce

type buildOnce struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the built command cmd/<name>, or of kubectl.
func Binary(tb TB, name string) string {
	tb.Helper()
	if dir := os.Getenv(BinDirEnv); dir != "" {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			tb.Fatalf("%s=%s but %s is missing (run make build kubectl): %v", BinDirEnv, dir, name, err)
		}
		return path
	}
	v, _ := builds.LoadOrStore(name, &buildOnce{})
	b := v.(*buildOnce)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "farm-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		pkg, ok := packages[name]
		if !ok {
			pkg = "./cmd/" + name
		}
		cmd := exec.Command("go", "build", "-o", b.path, pkg)
		cmd.Dir = ModuleRoot(tb)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, out.String())
		}
	})
	if b.err != nil {
		tb.Fatalf("building %s: %v", name, b.err)
	}
	return b.path
}
