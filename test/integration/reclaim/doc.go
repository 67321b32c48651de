// Package reclaim tests farm-scheduler's guarantees end to end: the built binary with the shipped
// configuration, on a real control plane, simulated nodes of four executor slots each. Each test
// has its own nodes, namespaces and farm type, so the tests of the package never see each other's
// executors. Each also starts its own farm-scheduler, which schedules every executor addressed to
// it, so a control plane serves one test at a time: the tests run in parallel on a pool of
// control planes (harness.Pool), as many as go test's -parallel (at most four).
package reclaim
