# Both commands in one image; the Deployment picks one with `command`:
#   /farm-scheduler --config=/etc/farm-scheduler/scheduler-config.yaml
#   /farm-controller --leader-elect
#
# The build context has no .git (see .dockerignore): pass the version `make build` would stamp,
#   docker build --build-arg VERSION=$(make -s version) --build-arg GIT_COMMIT=$(git rev-parse HEAD) \
#     --build-arg GIT_TREE_STATE=clean --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
# kubectl-farm, stamped the same way, comes out with
#   docker build --target kubectl-farm --output bin/ <the same build arguments> .
FROM golang:1.26 AS build
ARG VERSION=v0.0.0-dev
ARG GIT_COMMIT=""
ARG GIT_TREE_STATE=""
ARG BUILD_DATE=""
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The Makefile's build, so the image's binaries are stamped exactly as `make build` stamps them.
RUN make build BIN=/out VERSION="${VERSION}" GIT_COMMIT="${GIT_COMMIT}" GIT_TREE_STATE="${GIT_TREE_STATE}" \
	BUILD_DATE="${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}" EXTRA_LDFLAGS="-s -w"

FROM scratch AS kubectl-farm
COPY --from=build /out/kubectl-farm /

# Static binaries need no libc; distroless/static runs as uid 65532 with no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/farm-scheduler /out/farm-controller /
USER 65532:65532
ENTRYPOINT ["/farm-controller"]
