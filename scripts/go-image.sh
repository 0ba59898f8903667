#!/usr/bin/env bash
# go-image.sh [TAG] — package the host's Go toolchain as a local image
# (default localhost/reconciler-go:<go version>) for the Dockerfile's build
# stage, on hosts that cannot pull one from a registry. Idempotent.
set -euo pipefail
GOROOT=$(go env GOROOT)
VERSION=$(go env GOVERSION)
TAG=${1:-localhost/reconciler-go:$VERSION}
if podman image exists "$TAG"; then echo "$TAG"; exit 0; fi
ctx=$(mktemp -d)
cid=""
cleanup() {
  rm -rf "$ctx"
  [ -z "$cid" ] || podman rm -f "$cid" >/dev/null 2>&1 || true
  podman rmi "$TAG-base" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mkdir -p "$ctx/etc/ssl" "$ctx/tmp" "$ctx/usr/local"
cp -a /etc/ssl/certs "$ctx/etc/ssl/"
cat >"$ctx/Containerfile" <<CF
FROM scratch
COPY etc /etc
COPY tmp /tmp
COPY usr /usr
ENV PATH=/usr/local/go/bin:/usr/bin GOROOT=/usr/local/go GOPATH=/go GOCACHE=/tmp/gocache HOME=/tmp
CF
# The toolchain (~270 MB) is copied straight into a container and committed,
# rather than through a build context.
podman build -q --layers=false -t "$TAG-base" "$ctx" >/dev/null
cid=$(podman create "$TAG-base" /usr/local/go/bin/go version)
podman cp "$GOROOT" "$cid:/usr/local/go"
podman commit -q "$cid" "$TAG" >/dev/null
echo "$TAG"
