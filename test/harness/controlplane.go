package harness

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	apiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/toinfn/farm/pkg/controller"
)

// ControlPlane is an etcd and a kube-apiserver running in this process, with the Farm CRDs
// installed.
type ControlPlane struct {
	// Config reaches the apiserver as its administrator.
	Config *rest.Config
	// Kubeconfig is a kubeconfig file with the same credentials, for child processes.
	Kubeconfig string
	// Clientset is a typed client for built-in resources.
	Clientset kubernetes.Interface
	// Client is a controller-runtime client that also knows Farm and FarmManager.
	Client client.Client
	// Dir holds the control plane's files; it is removed on cleanup.
	Dir string
}

// StartControlPlane starts etcd and kube-apiserver, installs the CRDs of manifests/crds and
// waits until they are served. Everything stops at tb's cleanup.
func StartControlPlane(tb TB) *ControlPlane {
	tb.Helper()
	cp := StartControlPlaneWithoutCRDs(tb)
	if err := InstallCRDs(context.Background(), cp.Config); err != nil {
		tb.Fatalf("installing CRDs: %v", err)
	}
	return cp
}

// StartControlPlaneWithoutCRDs starts etcd and kube-apiserver only, for tests that install the
// CRDs as a user would: the chart's templates hold them, and helm refuses to take over CRDs that
// another hand created.
func StartControlPlaneWithoutCRDs(tb TB) *ControlPlane {
	tb.Helper()
	reportKubernetesVersion()
	dir := tb.TempDir()
	etcdURL := startEtcd(tb, filepath.Join(dir, "etcd"))

	storage := storagebackend.NewDefaultConfig("/registry", nil)
	storage.Transport.ServerList = []string{etcdURL}
	server, err := apiservertesting.StartTestServer(tb, apiservertesting.NewDefaultTestServerOptions(), []string{
		// Requests are authorized as on a real cluster, so tests of shipped RBAC and of what a
		// tenant may do mean something; the harness's own credentials are in system:masters.
		"--authorization-mode=RBAC",
		// No controller manager runs: without these, every pod would wait for a service account
		// token and every new node would keep a not-ready taint that nothing removes.
		"--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
		// The endpoint reconciler would keep failing to publish 127.0.0.1 as the apiserver's
		// endpoint.
		"--endpoint-reconciler-type=none",
	}, storage)
	if err != nil {
		tb.Fatalf("starting kube-apiserver: %v", err)
	}
	tb.Cleanup(server.TearDownFn)

	cfg := rest.CopyConfig(server.ClientConfig)
	// The scheduler, the controller and the kubelet stand-in share this apiserver; the default
	// client limits would make the harness, not Farm, the bottleneck.
	cfg.QPS, cfg.Burst = 1000, 2000
	// Custom resources have no protobuf encoding; the typed clientset below keeps protobuf.
	protoCfg := rest.CopyConfig(cfg)
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", ""
	cp := &ControlPlane{Config: cfg, Dir: dir}
	cp.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(cfg, cp.Kubeconfig); err != nil {
		tb.Fatalf("writing kubeconfig: %v", err)
	}
	if cp.Clientset, err = kubernetes.NewForConfig(protoCfg); err != nil {
		tb.Fatalf("creating clientset: %v", err)
	}
	scheme, err := controller.NewScheme()
	if err != nil {
		tb.Fatalf("building scheme: %v", err)
	}
	if cp.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		tb.Fatalf("creating client: %v", err)
	}
	return cp
}

// startEtcd runs a single-member etcd in this process and returns its client URL.
func startEtcd(tb TB, dir string) string {
	tb.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = dir
	// A throwaway member: nothing is kept, so durability buys nothing and costs a lot.
	cfg.UnsafeNoFsync = true
	clientURL := url.URL{Scheme: "http", Host: FreeLocalAddress(tb)}
	peerURL := url.URL{Scheme: "http", Host: FreeLocalAddress(tb)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		tb.Fatalf("starting etcd: %v", err)
	}
	tb.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		tb.Fatalf("etcd did not become ready within a minute")
	}
	return clientURL.String()
}

// FreePort returns a loopback port that was free a moment ago, for a server a test starts.
func FreePort(tb TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// FreeLocalAddress returns a loopback address with a port that was free a moment ago.
func FreeLocalAddress(tb TB) string {
	tb.Helper()
	return net.JoinHostPort("127.0.0.1", FreePort(tb))
}

// writeKubeconfig writes cfg as a kubeconfig file with embedded credentials, impersonation
// included.
func writeKubeconfig(cfg *rest.Config, path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["farm"] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
		TLSServerName:            cfg.ServerName,
	}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{
		Token:                 cfg.BearerToken,
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Impersonate:           cfg.Impersonate.UserName,
		ImpersonateGroups:     cfg.Impersonate.Groups,
	}
	kc.Contexts["farm"] = &clientcmdapi.Context{Cluster: "farm", AuthInfo: "admin"}
	kc.CurrentContext = "farm"
	return clientcmd.WriteToFile(*kc, path)
}
