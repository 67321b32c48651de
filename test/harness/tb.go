package harness

import (
	"fmt"
	"io"
	"os"
	"sync"

	"k8s.io/kubernetes/test/utils/ktesting"
)

// TB is what the harness needs from its caller: a *testing.T or *testing.B, or a Process outside
// of a test (TestMain, the demo).
type TB = ktesting.TB

// Process is a TB for code that runs outside of a test, such as TestMain or the demo. Fatal
// aborts with a panic that Run turns back into an error; Close runs the cleanups, last first.
type Process struct {
	name string
	log  io.Writer

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	tempDirs []string
}

var _ TB = &Process{}

// NewProcess returns a Process that writes its log lines to log.
func NewProcess(name string, log io.Writer) *Process {
	return &Process{name: name, log: log}
}

// fatal is the panic value of Process.FailNow.
type fatal struct{ msg string }

// Run calls f and turns a Fatal inside it into an error.
func (p *Process) Run(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s", f.msg)
		}
	}()
	return f()
}

// Close runs the registered cleanups in reverse order and removes temporary directories.
func (p *Process) Close() {
	p.mu.Lock()
	cleanups := p.cleanups
	p.cleanups = nil
	dirs := p.tempDirs
	p.tempDirs = nil
	p.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

func (p *Process) Attr(key, value string) {}
func (p *Process) Chdir(dir string)       { p.Fatalf("Chdir is not supported outside tests") }
func (p *Process) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}
func (p *Process) Error(args ...any) { p.Log(args...); p.Fail() }
func (p *Process) Errorf(format string, args ...any) {
	p.Logf(format, args...)
	p.Fail()
}
func (p *Process) Fail() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failed = true
}
func (p *Process) FailNow() { p.Fail(); panic(fatal{msg: p.name + " failed"}) }
func (p *Process) Failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}
func (p *Process) Fatal(args ...any) { p.Fail(); panic(fatal{msg: fmt.Sprint(args...)}) }
func (p *Process) Fatalf(format string, args ...any) {
	p.Fail()
	panic(fatal{msg: fmt.Sprintf(format, args...)})
}
func (p *Process) Helper()                          {}
func (p *Process) Log(args ...any)                  { fmt.Fprintln(p.log, args...) }
func (p *Process) Logf(format string, args ...any)  { fmt.Fprintf(p.log, format+"\n", args...) }
func (p *Process) Name() string                     { return p.name }
func (p *Process) Setenv(key, value string)         { _ = os.Setenv(key, value) }
func (p *Process) Skip(args ...any)                 { p.Fatal(args...) }
func (p *Process) Skipf(format string, args ...any) { p.Fatalf(format, args...) }
func (p *Process) SkipNow()                         { p.Fatal("skipped") }
func (p *Process) Skipped() bool                    { return false }
func (p *Process) TempDir() string {
	d, err := os.MkdirTemp("", p.name+"-")
	if err != nil {
		p.Fatalf("creating a temporary directory: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tempDirs = append(p.tempDirs, d)
	return d
}
