package harness

import (
	"os"
	"path/filepath"
	"runtime"
)

// ModuleRoot returns the directory of the project's go.mod, found from this source file so that
// tests and the demo work from any working directory.
func ModuleRoot(tb TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatalf("cannot locate the harness source file")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("no go.mod above %s", filepath.Dir(file))
		}
		dir = parent
	}
}
