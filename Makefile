# Farm: elastic executor quotas for Kubernetes, as a second scheduler.
#
#   make build     build farm-scheduler and farm-controller into bin/
#   make test      unit and integration tests (real etcd and kube-apiserver, started in-process)
#   make demo      the embedded demo: control plane, scheduler, controller, tenants arriving over time
#   make generate  regenerate deepcopy code and CRDs from the API types
#   make verify    gofmt, go vet, generated files fresh, go.mod tidy
#   make bench     the benchmarks of docs/benchmarks.md (not part of make test)

GO       ?= go
BIN      := $(CURDIR)/bin
CRD_DIR  := manifests/crds
# Integration tests take the binaries from here, so they test exactly what `make build` ships.
export FARM_BIN_DIR := $(BIN)

.PHONY: all build test unit integration bench generate verify demo clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/ ./cmd/farm-scheduler ./cmd/farm-controller

unit:
	$(GO) test ./pkg/... ./cmd/...

integration: build
	$(GO) test -timeout 30m ./test/...

test: build
	$(GO) test -timeout 30m ./...

# Benchmarks report timings: run them on a quiet machine and compare variants of one run only.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 200x ./pkg/...
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./test/benchmark/guarantee/...
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./test/benchmark/controller/...

generate:
	$(GO) tool controller-gen object paths=./pkg/apis/...
	$(GO) tool controller-gen crd paths=./pkg/apis/farm/... output:crd:artifacts:config=$(CRD_DIR)

verify:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(MAKE) generate
	$(GO) mod tidy
	@git diff --exit-code -- go.mod go.sum $(CRD_DIR) pkg/apis || { echo "generated files or go.mod are stale: run make generate and go mod tidy"; exit 1; }

demo:
	$(GO) run ./cmd/farm-demo $(DEMO_ARGS)

clean:
	rm -rf $(BIN)
