// Package buildinfo says which build of Farm is running: the line `--version` prints and the
// farm_build_info metric. Both read component-base's version variables, which `make build` and
// the Dockerfile stamp through ldflags, so kubectl farm, farm-scheduler and farm-controller
// report one version the same way.
package buildinfo
