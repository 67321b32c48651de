//go:build !linux

package main

import "os"

// quietStderr leaves standard error alone where the demo does not redirect it (see the Linux
// version): the embedded control plane may print a line or two while it stops.
func quietStderr(*os.File) (restore func()) { return func() {} }
