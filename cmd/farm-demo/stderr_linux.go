package main

import (
	"os"
	"syscall"
)

// quietStderr sends what is written to the process's standard error to logs until the returned
// function is called. While the embedded kube-apiserver shuts down, its etcd client logs the
// requests it cancels straight to standard error, through a logger of its own made when the
// package loads; only the file descriptor can be pointed elsewhere.
func quietStderr(logs *os.File) (restore func()) {
	saved, err := syscall.Dup(2)
	if err != nil {
		return func() {}
	}
	if err := syscall.Dup3(int(logs.Fd()), 2, 0); err != nil {
		_ = syscall.Close(saved)
		return func() {}
	}
	return func() {
		_ = syscall.Dup3(saved, 2, 0)
		_ = syscall.Close(saved)
	}
}
