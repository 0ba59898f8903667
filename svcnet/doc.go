// Package svcnet is how containers and the host reach Services: each
// Service gets a cluster IP, allocated deterministically from a range
// (default 10.96.0.0/12) and added to the host's loopback interface under
// a label of the node; the embedded proxy (package lb) listens on it, and
// on the host loopback; a small DNS server on the node's own address in
// the range answers NAME.NAMESPACE.svc.cluster.local for pods, whose
// resolv.conf points at it with Kubernetes' search list. A container's
// packets to a cluster IP leave its network namespace by its default route
// and are delivered locally on the host, like kube-proxy's IPVS mode with
// its dummy interface, without any NAT rule. See DESIGN-NOTES in the
// repository for the reasoning.
package svcnet
