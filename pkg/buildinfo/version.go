package buildinfo

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"
	"k8s.io/component-base/version"
)

// farmVersion is Farm's version, stamped by `make build` and the Dockerfile (-ldflags -X). It has
// a variable of its own because farm-scheduler's component-base version must stay the Kubernetes
// release it is built from: kube-scheduler derives its feature gates and emulation version from
// it, and refuses to start when it reads Farm's v0.x as Kubernetes 0.x.
var farmVersion string

// Version is Farm's version; unstamped (go build, go test), component-base's.
func Version() string {
	if farmVersion != "" {
		return farmVersion
	}
	return version.Get().GitVersion
}

// VersionFlag is component-base's --version flag (verflag): kube-scheduler registers it, and
// farm-controller does the same, so both accept --version and --version=raw.
const VersionFlag = "version"

// Line is what `PROGRAM --version` prints: the program and Farm's version.
func Line(program string) string {
	return program + " " + Version()
}

// PrintVersionIfRequested handles --version on fs: --version prints line, --version=raw the
// whole build information as component-base prints it. It reports whether the program has done
// its work. verflag's own printing would call every program "Kubernetes".
func PrintVersionIfRequested(w io.Writer, line string, fs *pflag.FlagSet) (bool, error) {
	f := fs.Lookup(VersionFlag)
	if f == nil {
		return false, nil
	}
	switch f.Value.String() {
	case "true":
		_, err := fmt.Fprintln(w, line)
		return true, err
	case "raw":
		_, err := fmt.Fprintf(w, "%#v\n", version.Get())
		return true, err
	}
	return false, nil
}
