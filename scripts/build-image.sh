#!/usr/bin/env bash
# build-image.sh [TAG] — build the reconciler's container image from the
# Dockerfile without a registry: the build stage runs in an image made from
# the host's Go toolchain and reads the host's module cache, so nothing is
# downloaded. Prints the image ID.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-localhost/reconciler:dev}
GO_IMAGE=$(bash scripts/go-image.sh)
go mod download # the build volume below must hold every module
podman build -q --layers=false \
  --build-arg "GO_IMAGE=$GO_IMAGE" \
  -v "$(go env GOMODCACHE):/go/pkg/mod" \
  -t "$TAG" .
