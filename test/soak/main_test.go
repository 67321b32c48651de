package soak

import (
	"os"
	"testing"

	"github.com/toinfn/farm/test/harness"
)

var cluster harness.Shared

func TestMain(m *testing.M) {
	os.Exit(harness.RunTests(m, &cluster))
}
