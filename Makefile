# Farm: elastic executor quotas for Kubernetes, as a second scheduler.
#
#   make build     build farm-scheduler, farm-controller and kubectl-farm into bin/, stamped with VERSION
#   make version   print the version `make build` stamps
#   make test      unit and integration tests (real etcd and kube-apiserver, started in-process)
#   make demo      the embedded demo: control plane, scheduler, controller, tenants arriving over time
#   make generate  regenerate deepcopy code and CRDs from the API types
#   make verify    gofmt, go vet, generated files fresh, go.mod tidy
#   make bench     the benchmarks of docs/benchmarks.md (not part of make test)
#   make peers     build the benchmarks' peers, CapacityScheduling and Kueue (the benchmarks build them too)
#   make soak      the seeded soak until 1,000 reclaims, then the fuzz targets (not part of make test)
#   make manifests render the plain install manifests from the Helm chart (after make chart-files)
#   make chart-files copy the CRDs, scheduler config and dashboard into the chart
#   make helm      install the pinned helm into bin/ (the tests use it)
#   make kubectl   build kubectl into bin/ at the Kubernetes version go.mod pins (the tests use it)

GO       ?= go
BIN      := $(CURDIR)/bin
CRD_DIR  := manifests/crds
# Integration tests take the binaries from here, so they test exactly what `make build` ships.
export FARM_BIN_DIR := $(BIN)

# helm is a tool, not a dependency of the module: it is installed into bin/ at a pinned version,
# never added to go.mod. The install tests find it through FARM_HELM.
HELM_VERSION := v3.22.0
HELM         := $(BIN)/helm
export FARM_HELM := $(HELM)

# The plain manifests for users without Helm are rendered from the chart; the install tests render
# them again with these settings and fail when the committed file differs.
CHART             := manifests/charts/farm-scheduler
INSTALL_MANIFEST  := manifests/install/farm.yaml
INSTALL_RELEASE   := farm-scheduler
INSTALL_NAMESPACE := farm-system
# helm template assumes Kubernetes 1.20 unless told, below the chart's kubeVersion: the plain
# manifests are rendered for the oldest Kubernetes the chart supports.
INSTALL_KUBE_VERSION := 1.30.0

# The version stamped into every binary (--version, kubectl farm version, the farm_build_info
# metric): `git describe` of the nearest v* tag, made semver as Kubernetes does (v0.1.0-5-gabc1234
# becomes v0.1.0-5+abc1234), or v0.0.0-dev+<commit> before the first tag. kube-scheduler parses
# component-base's version at start, so it must be semver. Override with `make build VERSION=...`;
# the Dockerfile passes these as build arguments (its context has no .git).
GIT_DESCRIBE   := $(shell git describe --tags --always --dirty --match 'v[0-9]*' 2>/dev/null)
VERSION        ?= $(if $(filter v%,$(GIT_DESCRIBE)),$(shell echo '$(GIT_DESCRIBE)' | sed -E 's/-([0-9]+)-g([0-9a-f]+)/-\1+\2/'),v0.0.0-dev$(if $(GIT_DESCRIBE),+$(GIT_DESCRIBE)))
GIT_COMMIT     ?= $(shell git rev-parse HEAD 2>/dev/null)
# Dirty as `git describe --dirty` means it: changes to tracked files.
GIT_TREE_STATE ?= $(shell if [ -n "$$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then echo dirty; else echo clean; fi)
BUILD_DATE     ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
# Evaluated once, so that every binary of one build carries the same values.
VERSION        := $(VERSION)
BUILD_DATE     := $(BUILD_DATE)
# farm-scheduler's component-base version is the Kubernetes release it is built from (go.mod's
# k8s.io/kubernetes), as kube-scheduler's: kube-scheduler takes its feature gates and emulation
# version from it and refuses to start on Farm's v0.x. Farm's version goes in pkg/buildinfo.
KUBE_VERSION   ?= $(shell $(GO) list -m -f '{{.Version}}' k8s.io/kubernetes)
KUBE_SEMVER     = $(subst ., ,$(patsubst v%,%,$(KUBE_VERSION)))
VERSION_PKG    := k8s.io/component-base/version
KUBE_LDFLAGS    = -X $(VERSION_PKG).gitVersion=$(KUBE_VERSION) -X $(VERSION_PKG).gitMajor=$(word 1,$(KUBE_SEMVER)) \
	-X $(VERSION_PKG).gitMinor=$(word 2,$(KUBE_SEMVER))
LDFLAGS        := -X $(VERSION_PKG).gitCommit=$(GIT_COMMIT) -X $(VERSION_PKG).gitTreeState=$(GIT_TREE_STATE) \
	-X $(VERSION_PKG).buildDate=$(BUILD_DATE) -X github.com/toinfn/farm/pkg/buildinfo.farmVersion=$(VERSION) $(EXTRA_LDFLAGS)

# The CapacityScheduling peer of the benchmarks: a module of its own (it builds on Kubernetes 1.35).
PEER_MODULE := test/benchmark/peer/capacity-scheduler
# The Kueue peer: a module of its own too (Kueue builds on Kubernetes 0.35 libraries); its manager
# is the module's tool.
KUEUE_PEER_MODULE := test/benchmark/peer/kueue

.PHONY: all build version test unit integration bench peers soak generate verify demo clean helm kubectl manifests chart-files

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS) $(KUBE_LDFLAGS)' -o $(BIN)/ ./cmd/farm-scheduler
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS) -X $(VERSION_PKG).gitVersion=$(VERSION)' -o $(BIN)/ ./cmd/farm-controller ./cmd/kubectl-farm

version:
	@echo $(VERSION)

# The demo's test runs kubectl against the demo's cluster.
unit: kubectl
	$(GO) test ./pkg/... ./cmd/...

# The integration packages spend most of their time waiting on grace periods and trigger
# intervals (a fifth of a core each), so four run at once, and the reclaim scenarios three at
# once, each on a control plane of its own (harness.Pool).
TEST_FLAGS := -timeout 30m -p 4 -parallel 3

integration: build helm kubectl
	$(GO) test $(TEST_FLAGS) ./test/...

# The scheduler's packages run with the race detector too: informer handlers, scheduling cycles
# and asynchronous preemption share their state.
test: build helm kubectl
	CGO_ENABLED=1 $(GO) test -race ./pkg/scheduler/... ./pkg/reclaim/...
	$(GO) test $(TEST_FLAGS) ./...

# The soak (test/soak) runs a short seed in `make test`; here it runs until SOAK_RECLAIMS executors
# have been reclaimed, then each fuzz target runs for FUZZ_TIME.
SOAK_SEED     ?= 1
SOAK_RECLAIMS ?= 1000
FUZZ_TIME     ?= 60s
soak: SHELL := /bin/bash
soak: build
	set -o pipefail; $(GO) test -count=1 -v -run '^TestSoak$$' -timeout 90m ./test/soak/ -args -soak.seed=$(SOAK_SEED) -soak.reclaims=$(SOAK_RECLAIMS) -soak.timeout=80m 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok )|soak_test.go'
	$(GO) test -run '^$$' -fuzz '^FuzzSolve$$' -fuzztime $(FUZZ_TIME) ./pkg/reclaim/
	$(GO) test -run '^$$' -fuzz '^FuzzApportion$$' -fuzztime $(FUZZ_TIME) ./pkg/quota/
	$(GO) test -run '^$$' -fuzz '^FuzzUsageAddRemove$$' -fuzztime $(FUZZ_TIME) ./pkg/quota/
	$(GO) test -run '^$$' -fuzz '^FuzzStagesPartitionUsage$$' -fuzztime $(FUZZ_TIME) ./pkg/quota/

helm:
	@# The module version recorded in the binary: `helm version` prints only major.minor for go install builds.
	@if [ "$$($(GO) version -m $(HELM) 2>/dev/null | awk '$$1 == "mod" { print $$3 }')" != '$(HELM_VERSION)' ]; then \
		echo "installing helm $(HELM_VERSION) into $(BIN)"; \
		GOBIN=$(BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION); \
	fi

# The kubectl tests run the kubectl of the apiserver they test against: go.mod pins it as a tool,
# with the same k8s.io/kubernetes version as the apiserver of the integration tests.
kubectl:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(KUBE_LDFLAGS)' -o $(BIN)/kubectl k8s.io/kubernetes/cmd/kubectl

# The chart carries copies of the CRDs, the scheduler configuration and the dashboard (a chart
# must be self-contained, and helm warns on every run about symbolic links); they are written here
# from the one source in manifests/ and checked by `make verify` and the install tests.
chart-files:
	rm -f $(CHART)/files/crds/*.yaml
	mkdir -p $(CHART)/files/crds
	cp $(CRD_DIR)/*.yaml $(CHART)/files/crds/
	cp manifests/scheduler/scheduler-config.yaml $(CHART)/files/scheduler-config.yaml
	cp manifests/dashboards/farm.json $(CHART)/files/farm-dashboard.json

manifests: helm chart-files
	{ echo '# Generated by `make manifests` from $(CHART) (helm template). Do not edit.'; \
	  $(HELM) template $(INSTALL_RELEASE) $(CHART) --namespace $(INSTALL_NAMESPACE) --kube-version $(INSTALL_KUBE_VERSION) --set createNamespace=true; \
	} > $(INSTALL_MANIFEST).tmp && mv $(INSTALL_MANIFEST).tmp $(INSTALL_MANIFEST)

# Benchmarks report timings: run them on a quiet machine and compare variants of one run only.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 200x ./pkg/...
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 120m ./test/benchmark/guarantee/...
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./test/benchmark/controller/...
	$(GO) test -run '^$$' -bench . -benchtime 2x -timeout 60m ./test/benchmark/sidebyside/...
	@# scheduler_perf runs each workload once whatever -benchtime says. The stock and the farm
	@# profile of one size (and, at 2,000 nodes, the farm profile without its scorer) run back to
	@# back, twice, so each ratio compares runs under the same load.
	for run in 1 2; do for size in 500Nodes 2000Nodes; do \
		$(GO) test -run '^$$' -bench "BenchmarkPerfScheduling/^(Stock|Farm|FarmWithoutScore)$$/$${size}_" -benchtime 1x -timeout 60m ./test/benchmark/throughput/ || exit 1; \
	done; done
	$(GO) test -run '^$$' -bench 'BenchmarkPerfScheduling/Reclaim/' -benchtime 1x -timeout 60m ./test/benchmark/throughput/

# The first build of each peer compiles its own Kubernetes libraries: minutes. Both go to the
# build cache only, where the benchmarks find them.
peers:
	cd $(PEER_MODULE) && $(GO) build -o /dev/null .
	cd $(KUEUE_PEER_MODULE) && $(GO) tool -n kueue

generate:
	$(GO) tool controller-gen object paths=./pkg/apis/...
	$(GO) tool controller-gen crd paths=./pkg/apis/farm/... output:crd:artifacts:config=$(CRD_DIR)
	$(MAKE) chart-files

verify:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(MAKE) generate
	$(GO) mod tidy
	cd $(PEER_MODULE) && $(GO) mod tidy
	cd $(KUEUE_PEER_MODULE) && $(GO) mod tidy && $(GO) vet ./...
	@git diff --exit-code -- go.mod go.sum $(PEER_MODULE)/go.mod $(PEER_MODULE)/go.sum $(KUEUE_PEER_MODULE)/go.mod $(KUEUE_PEER_MODULE)/go.sum $(CRD_DIR) $(CHART)/files pkg/apis || { echo "generated files or go.mod are stale: run make generate and go mod tidy"; exit 1; }

demo:
	$(GO) run ./cmd/farm-demo $(DEMO_ARGS)

clean:
	rm -rf $(BIN)
