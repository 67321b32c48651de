package tenant

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Server is how the tenant reaches the API server: the administrator's own view of it.
type Server struct {
	URL           string
	CAData        []byte
	TLSServerName string
	Insecure      bool
	// ClusterName names the cluster in the tenant's kubeconfig.
	ClusterName string
}

// Token is a service account token issued through the TokenRequest API.
type Token struct {
	Value   string
	Expires time.Time
}

// IssueToken asks the API server for a token of the tenant's service account. There is no token
// controller to rely on (Kubernetes no longer creates long-lived token Secrets), and a bound
// token dies with its service account, so removing the tenant revokes it.
func IssueToken(ctx context.Context, c Cluster, s Spec, d time.Duration) (Token, error) {
	seconds := int64(d / time.Second)
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}
	got, err := c.ServiceAccounts.ServiceAccounts(s.Namespace).CreateToken(ctx, s.Name, req, metav1.CreateOptions{})
	if err != nil {
		return Token{}, fmt.Errorf("requesting a token for serviceaccount/%s in namespace %s: %w", s.Name, s.Namespace, err)
	}
	if got.Status.Token == "" {
		return Token{}, fmt.Errorf("the API server issued an empty token for serviceaccount/%s in namespace %s", s.Name, s.Namespace)
	}
	return Token{Value: got.Status.Token, Expires: got.Status.ExpirationTimestamp.Time}, nil
}

// Kubeconfig is the tenant's kubeconfig: one context, the tenant's namespace by default.
func Kubeconfig(server Server, s Spec, token Token) *clientcmdapi.Config {
	cluster := server.ClusterName
	if cluster == "" {
		cluster = "kubernetes"
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[cluster] = &clientcmdapi.Cluster{
		Server:                   server.URL,
		CertificateAuthorityData: server.CAData,
		TLSServerName:            server.TLSServerName,
		InsecureSkipTLSVerify:    server.Insecure,
	}
	kc.AuthInfos[s.Name] = &clientcmdapi.AuthInfo{Token: token.Value}
	kc.Contexts[s.Name] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: s.Name, Namespace: s.Namespace}
	kc.CurrentContext = s.Name
	return kc
}
