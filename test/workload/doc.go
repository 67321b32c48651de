// Package workload is a Spark-like multi-tenant workload for Farm: tenants arrive over time, each
// with a Farm and a job whose driver asks for executors dynamically, recreates the executors it
// loses and deletes them when the job ends. An Observer records what the tenants live through:
// when each reached its guaranteed minimum, the reclaims it suffered and caused, and how many
// executor slots were in use.
//
// The demo runs it; benchmarks can run it too. It talks to the API server only, so the same
// workload runs on the embedded control plane of package harness or on a real cluster.
package workload
