#!/usr/bin/env bash
# build-images.sh — build the example apps' images from the local source.
#
# Produces, with no registry and no network (every image is FROM scratch):
#   localhost/reconciler-hello:v1   hello, APP_VERSION=v1
#   localhost/reconciler-hello:v2   hello, APP_VERSION=v2 (a different image)
#   localhost/reconciler-kv:v1      kv,    APP_VERSION=v1
#   localhost/reconciler-toolbox:v1 toolbox (id, ls, cat, ...: the images
#                                   have no shell)
# The static binaries are built outside the image into a temporary build
# context (removed on exit); `podman build` then adds them. Prints
# "<tag> <image id>" for each image. Runs from any cwd.
#
# Idempotent and reproducible: the binaries are reproducible (-trimpath) and
# the images are built with a fixed timestamp (SOURCE_DATE_EPOCH, default
# 0), so a rebuild of unchanged source yields the same image IDs.
#
# Why --no-cache: Podman 4.3 (buildah 1.28) keys its layer cache on the
# instruction text, not on build-argument values, so with the cache
# `ENV APP_VERSION=${VERSION}` for v2 reuses the v1 layer and hello:v2 comes
# out identical to hello:v1 (buildah issues 5095 and 5501). The build is
# only a COPY of one file, so skipping the cache costs nothing; the fixed
# timestamp keeps the IDs stable without it.
#
# Environment:
#   PODMAN             the podman command (default: podman)
#   SOURCE_DATE_EPOCH  image and layer timestamp, in seconds (default: 0)
set -euo pipefail

PODMAN="${PODMAN:-podman}"
EPOCH="${SOURCE_DATE_EPOCH:-0}"
EXAMPLES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$EXAMPLES/.." && pwd)"

# The source hash labels every image; when every tag carries the current one,
# there is nothing to do (so tests can call this script every time).
SRC_HASH="$(cd "$ROOT" && { find examples -type f -not -path 'examples/manifests/*' -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum; sha256sum go.mod; } | sha256sum | cut -c1-16)"
TAGS=(localhost/reconciler-hello:v1 localhost/reconciler-hello:v2 localhost/reconciler-kv:v1 localhost/reconciler-toolbox:v1)
up_to_date() {
  local t
  for t in "${TAGS[@]}"; do
    [ "$("$PODMAN" image inspect --format '{{index .Labels "io.reconciler.source"}}' "$t" 2>/dev/null)" = "$SRC_HASH" ] || return 1
  done
}
if up_to_date; then
  printf 'example images up to date (source %s)\n' "$SRC_HASH"
  exit 0
fi

ctx="$(mktemp -d "${TMPDIR:-/tmp}/reconciler-images.XXXXXX")"
trap 'rm -rf "$ctx"' EXIT

# build_binary APP — a static, reproducible binary of examples/APP at $ctx/APP.
build_binary() {
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$ctx/$1" "./examples/$1")
}

# build_image APP VERSION PORT TAG — one image from the shared Containerfile.
build_image() {
  local app=$1 version=$2 port=$3 tag=$4 id
  id="$("$PODMAN" build --layers=false --no-cache --timestamp "$EPOCH" -q \
    -f "$EXAMPLES/Containerfile" \
    --build-arg "APP=$app" --build-arg "VERSION=$version" --build-arg "PORT=$port" \
    --label io.reconciler.example=true --label "io.reconciler.source=$SRC_HASH" \
    -t "$tag" "$ctx")"
  printf '%s %s\n' "$tag" "$id"
}

build_binary hello
build_binary kv
build_binary toolbox
build_image hello v1 8080 localhost/reconciler-hello:v1
build_image hello v2 8080 localhost/reconciler-hello:v2
build_image kv v1 8081 localhost/reconciler-kv:v1
build_image toolbox v1 8080 localhost/reconciler-toolbox:v1

# Drop the older builds these tags replaced (only this script's own images).
"$PODMAN" image prune -f --filter label=io.reconciler.example=true >/dev/null
