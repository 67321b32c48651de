// Package controller assembles farm-controller: a controller-runtime manager whose reconcilers
// keep Farm and FarmManager status true, using package quota for every count.
package controller
