// Package tenant is what a Farm tenant is made of in the cluster and how one is added and removed:
// the work the original cluster's onboarding script did, done idempotently and without leaving
// half a tenant behind.
//
// A tenant is a namespace of its own that enforces a Pod Security Standard, a ResourceQuota on
// what its pods that are not executors may request (capacity reclaim never takes back), a
// service account, a Role for what a Spark driver does (its Farm and Secrets read-only; no
// PodDisruptionBudgets, which would let it block the reclaim of executors it borrows), read
// access to pods and nodes cluster-wide, the headless Service a Spark driver in client mode
// needs, and the Farm that guarantees it a minimum of executors. What RBAC cannot say (no
// relabelling of running executors, no Service externalIPs) the Helm chart's admission policies
// enforce. Every object is applied server-side with the field manager kubectl-farm
// and labelled with the tenant's name, which is how removal finds them and how adding refuses to
// take over objects that belong to someone else.
package tenant
