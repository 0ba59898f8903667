// Package podman implements runtime.Runtime on the Podman v4 REST API through
// the official bindings. It is the only package that imports them.
//
// A Kubernetes pod becomes a Podman pod (its infra container holds the
// network namespace and publishes the ports on 127.0.0.1 with
// engine-assigned host ports); each Kubernetes container becomes a container
// in that pod, and each restart a new container with its restart count in
// its labels, as the kubelet does. Engine names are derived from namespace,
// pod and node so that several daemons can share one engine.
//
// Build with CGO_ENABLED=0 and the tags "remote exclude_graphdriver_btrfs
// btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp".
package podman
