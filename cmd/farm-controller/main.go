// Command farm-controller keeps Farm and FarmManager status true. It is a controller-runtime
// manager; run two replicas with --leader-elect for availability.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
)

func main() {
	os.Exit(cli.Run(newCommand()))
}
