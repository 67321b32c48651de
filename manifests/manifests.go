// Package manifests embeds the files that install Farm, so that the demo, the tests and tools
// apply exactly what is shipped here.
package manifests

import "embed"

// CRDs holds the generated CustomResourceDefinitions, as crds/*.yaml.
//
//go:embed crds/*.yaml
var CRDs embed.FS

// SchedulerConfig is the shipped KubeSchedulerConfiguration of farm-scheduler.
//
//go:embed scheduler/scheduler-config.yaml
var SchedulerConfig []byte
