// Package scheduler tests the built farm-scheduler binary, started with the shipped
// configuration, against a real control plane.
package scheduler
