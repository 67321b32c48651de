package harness

import (
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// Outage stands between a child process and the apiserver, so a test can make the apiserver
// unreachable for that process alone: while cut, established connections are closed and new ones
// refused (reset), as when the apiserver restarts or the network drops.
type Outage struct {
	listener net.Listener
	target   string
	// Kubeconfig reaches the control plane through the outage, with the administrator's
	// credentials.
	Kubeconfig string

	mu      sync.Mutex
	cut     bool
	conns   map[net.Conn]bool
	refused int
}

// NewOutage starts a TCP relay to the apiserver on a loopback port; it stops with the test.
func (cp *ControlPlane) NewOutage(tb TB) *Outage {
	tb.Helper()
	u, err := url.Parse(cp.Config.Host)
	if err != nil {
		tb.Fatalf("parsing the apiserver address %q: %v", cp.Config.Host, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listening for the outage relay: %v", err)
	}
	o := &Outage{listener: l, target: u.Host, conns: map[net.Conn]bool{}}
	cfg := rest.CopyConfig(cp.Config)
	cfg.Host = "https://" + l.Addr().String()
	// The serving certificate names the loopback address; the relay listens on it too.
	o.Kubeconfig = filepath.Join(tb.TempDir(), "kubeconfig-outage")
	if err := writeKubeconfig(cfg, o.Kubeconfig); err != nil {
		tb.Fatalf("writing the outage kubeconfig: %v", err)
	}
	go o.serve()
	tb.Cleanup(func() { o.close() })
	return o
}

func (o *Outage) serve() {
	for {
		c, err := o.listener.Accept()
		if err != nil {
			return
		}
		o.mu.Lock()
		if o.cut {
			o.refused++
			o.mu.Unlock()
			_ = c.Close()
			continue
		}
		o.conns[c] = true
		o.mu.Unlock()
		go o.relay(c)
	}
}

func (o *Outage) relay(c net.Conn) {
	defer o.forget(c)
	up, err := net.Dial("tcp", o.target)
	if err != nil {
		return
	}
	o.mu.Lock()
	o.conns[up] = true
	o.mu.Unlock()
	defer o.forget(up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

func (o *Outage) forget(c net.Conn) {
	_ = c.Close()
	o.mu.Lock()
	delete(o.conns, c)
	o.mu.Unlock()
}

// Cut makes the apiserver unreachable through the relay for d, then lets connections through
// again; it returns at once, with the number of connections it closed (each relayed connection
// counts twice: the client's side and the apiserver's).
func (o *Outage) Cut(d time.Duration) int {
	o.mu.Lock()
	o.cut = true
	closed := len(o.conns)
	for c := range o.conns {
		_ = c.Close()
	}
	o.mu.Unlock()
	time.AfterFunc(d, func() {
		o.mu.Lock()
		o.cut = false
		o.mu.Unlock()
	})
	return closed
}

// Refused is how many connections the relay refused while cut: the process behind it noticed
// the outage and tried to reconnect.
func (o *Outage) Refused() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.refused
}

func (o *Outage) close() {
	_ = o.listener.Close()
	o.mu.Lock()
	defer o.mu.Unlock()
	for c := range o.conns {
		_ = c.Close()
	}
}
