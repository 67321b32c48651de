// Package tenant is what a Farm tenant is made of in the cluster and how one is added and removed:
// the work the original cluster's onboarding script did, done idempotently and without leaving
// half a tenant behind.
//
// A tenant is a namespace of its own, a service account, a Role that gives it full use of that
// namespace except its Farm (which it may only read) and except PodDisruptionBudgets (which would
// let it block the reclaim of executors it borrows), read access to pods and nodes cluster-wide,
// the headless Service a Spark driver in client mode needs, and the Farm that guarantees it a
// minimum of executors. Every object is applied server-side with the field manager kubectl-farm
// and labelled with the tenant's name, which is how removal finds them and how adding refuses to
// take over objects that belong to someone else.
package tenant
