// Package controller tests the built farm-controller binary against a real control plane.
package controller
