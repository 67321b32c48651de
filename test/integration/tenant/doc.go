// Package tenant tests the built kubectl-farm binary against a real control plane: tenant add
// and remove, the rights a tenant's own kubeconfig gives, status in every output format, and
// failures.
package tenant
