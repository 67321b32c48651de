// Package reclaim tests farm-scheduler's guarantees end to end: the built binary with the shipped
// configuration, on a real control plane, simulated nodes of four executor slots each. Each test
// has its own nodes, namespaces and farm type, so the tests of the package never see each other's
// executors.
package reclaim
