// Package install tests what a cluster admin installs: the Helm chart in
// manifests/charts/farm-scheduler (helm lint, helm template), the plain manifests rendered from it,
// and the rendered objects applied to a real control plane, where farm-scheduler and
// farm-controller run with the chart's configuration, arguments and RBAC (as their service
// accounts), the admission policy keeps tenants from changing their Farm's spec, and every metric
// the dashboard and the alerts use is exported, labelled with each Farm's namespace and name.
package install
