// Package tenant tests the built kubectl-farm binary, and kubectl built at the apiserver's
// version, against a real control plane, as an administrator and as a tenant: tenant add, remove
// and kubeconfig, dry runs, the Spark settings, the rights a tenant's own kubeconfig gives, the
// Farm's columns in kubectl get and kubectl farm status, every output format, completion, and
// failures.
package tenant
