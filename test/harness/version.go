package harness

import (
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname

	"k8s.io/component-base/version"
)

// dynamicGitVersion is the version component-base reports (SetDynamicVersion accepts only
// versions of the build's major, minor and patch, v0.0.0 here).
//
//go:linkname dynamicGitVersion k8s.io/component-base/version.dynamicGitVersion
var dynamicGitVersion atomic.Value

var reportVersionOnce sync.Once

// reportKubernetesVersion makes the in-process kube-apiserver report the Kubernetes minor it is
// built from, as its effective version already says. Built without a release's version
// ldflags, it reports v0.0.0-master, which helm refuses to compare with the chart's kubeVersion.
func reportKubernetesVersion() {
	reportVersionOnce.Do(func() {
		if version.Get().GitVersion == "v0.0.0-master+$Format:%H$" {
			dynamicGitVersion.Store("v" + version.DefaultKubeBinaryVersion + ".0")
		}
	})
}
