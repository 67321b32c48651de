// Package examples applies every example under manifests/examples to a real control plane, so
// that none of them can drift from the API: Namespaces and Farms are created for real, everything
// else is created with a server-side dry run (nothing runs the workloads).
package examples
