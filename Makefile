# reconciler — build, demo, tests and benchmarks.
#
#   make demo    install/configure Podman if needed, build the example images,
#                run the daemon on examples/manifests (Ctrl-C stops it;
#                the containers stay)
#   make test    every test, including those against the real Podman engine
#   make bench   planner benchmarks and the daemon's idle/replace measurements

SHELL := /bin/bash
# The Podman bindings need these tags to build without C libraries.
export GOFLAGS := -tags=remote,exclude_graphdriver_btrfs,btrfs_noversion,exclude_graphdriver_devicemapper,containers_image_openpgp
export PODMAN_URI ?= unix:///run/podman/podman.sock

BIN := bin/reconciler
NODE ?= $(shell hostname)
TEST_TIMEOUT ?= 20m

.PHONY: all build setup images demo demo-clean test test-all test-unit fuzz bench vet image install clean

all: build

build: $(BIN)

$(BIN): $(shell find . -name '*.go' -not -path './examples/*') go.mod go.sum
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o $@ ./cmd/reconciler

setup:
	@bash scripts/setup-podman.sh

images: setup
	@bash examples/build-images.sh

demo: build images
	@bash scripts/demo.sh $(BIN) examples/manifests

# Removes what the demo left running: its pods and revision records (the
# objects of namespace demo on this node), nothing else.
demo-clean:
	@for id in $$(podman pod ps -q --filter label=reconciler.dev/namespace=demo --filter label=reconciler.dev/node=$(NODE)); do podman pod rm -f -t 5 $$id >/dev/null; done
	@for v in $$(podman volume ls -q --filter label=reconciler.dev/namespace=demo); do \
	  [ "$$(podman volume inspect -f '{{index .Labels "reconciler.dev/node"}}' $$v)" = "$(NODE)" ] && podman volume rm -f $$v >/dev/null; done; true
	@echo "demo objects removed"

# go test -race needs cgo (setup installs gcc). with-podman.sh makes the
# engine answer and stops the API service afterwards if it started it.
test:
	@bash scripts/with-podman.sh $(MAKE) --no-print-directory test-all

test-all: vet
	go test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

# The packages whose tests need no engine.
test-unit: vet
	go test -race -count=1 ./config/... ./planner/... ./api/... ./examples/... ./internal/archtest/

fuzz:
	go test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./config/

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...

bench: build images
	go test -run '^$$' -bench . -benchmem ./planner/
	go test -run '^$$' -bench BenchmarkRollingUpdate10 -benchtime 3x ./executor/
	@bash scripts/bench-daemon.sh $(BIN)
	@bash bench/proxy.sh

image: setup
	@bash scripts/build-image.sh localhost/reconciler:dev

# Installs the binary, the systemd unit and its defaults file (kept when
# present); PREFIX and DESTDIR as usual.
PREFIX ?= /usr/local
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/reconciler
	install -D -m 0644 deploy/reconciler.service $(DESTDIR)/etc/systemd/system/reconciler.service
	test -e $(DESTDIR)/etc/default/reconciler || install -D -m 0644 deploy/reconciler.default $(DESTDIR)/etc/default/reconciler
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/reconciler/README.md

clean:
	rm -rf bin
