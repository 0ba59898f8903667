# The reconciler as a container: a static binary FROM scratch that talks to
# the host's Podman through a mounted API socket.
#
#   podman build -t localhost/reconciler:dev .            # with a registry
#   make image                                            # without one (see below)
#   podman run -d --name reconciler \
#     -v /run/podman/podman.sock:/run/podman/podman.sock \
#     -v "$PWD/examples/manifests:/manifests:ro" \
#     localhost/reconciler:dev run --source /manifests --node-name "$(hostname)"
#
# GO_IMAGE is any image with a Go 1.26 toolchain on its PATH. Hosts without
# a registry build one from the host's own toolchain (scripts/go-image.sh,
# which `make image` runs) and reuse the host's module cache through a build
# volume, so the build needs no network.
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
# Exec-form RUN: the build stage needs no shell.
RUN ["go", "mod", "download"]
COPY . .
ENV CGO_ENABLED=0
RUN ["go", "build", "-trimpath", "-ldflags", "-s -w", \
     "-tags", "remote,exclude_graphdriver_btrfs,btrfs_noversion,exclude_graphdriver_devicemapper,containers_image_openpgp", \
     "-o", "/out/reconciler", "./cmd/reconciler"]

FROM scratch
COPY --from=build /out/reconciler /reconciler
ENV PODMAN_URI=unix:///run/podman/podman.sock
ENTRYPOINT ["/reconciler"]
CMD ["--help"]
