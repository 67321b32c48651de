# Both commands in one image; the Deployment picks one with `command`:
#   /farm-scheduler --config=/etc/farm-scheduler/scheduler-config.yaml
#   /farm-controller --leader-elect
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/farm-scheduler ./cmd/farm-controller

# Static binaries need no libc; distroless/static runs as uid 65532 with no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/farm-scheduler /out/farm-controller /
USER 65532:65532
ENTRYPOINT ["/farm-controller"]
