package podman

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/containers/common/libnetwork/types"
	"github.com/containers/podman/v4/pkg/bindings/pods"
	"github.com/containers/podman/v4/pkg/domain/entities"
	"github.com/containers/podman/v4/pkg/specgen"

	"github.com/reconciler/reconciler/runtime"
)

// publishIP is where pod ports are published by default: loopback only,
// so nothing is exposed beyond the host except through the reconciler's
// own proxy.
const publishIP = "127.0.0.1"

// CreatePod creates the pod with its infra container, publishing every
// declared port on s.HostIP (default 127.0.0.1) with an engine-assigned
// host port, and starts it.
func (c *Client) CreatePod(ctx context.Context, s runtime.PodSpec) (string, error) {
	cc, err := c.connected(ctx)
	if err != nil {
		return "", err
	}
	name := podName(s.Namespace, s.Name, s.Node)
	gen := specgen.PodSpecGenerator{}
	gen.Name = name
	gen.Hostname = s.Name
	if s.Hostname != "" {
		gen.Hostname = s.Hostname
	}
	for _, a := range s.HostAliases {
		for _, h := range a.Hostnames {
			gen.HostAdd = append(gen.HostAdd, h+":"+a.IP)
		}
	}
	gen.Labels = podLabels(s)
	gen.InfraName = name + "_infra"
	hostIP := s.HostIP
	if hostIP == "" {
		hostIP = publishIP
	}
	for _, p := range s.Ports {
		gen.PortMappings = append(gen.PortMappings, types.PortMapping{
			HostIP:        hostIP,
			ContainerPort: uint16(p.ContainerPort),
			Protocol:      strings.ToLower(p.Protocol),
		})
	}
	if d := s.DNS; d != nil {
		for _, ip := range d.Servers {
			gen.DNSServer = append(gen.DNSServer, net.ParseIP(ip))
		}
		gen.DNSSearch, gen.DNSOption = d.Searches, d.Options
	}
	rep, err := pods.CreatePodFromSpec(cc, &entities.PodSpec{PodSpecGen: gen})
	if err != nil {
		return "", wrap(err, "create pod %q", name)
	}
	if _, err := pods.Start(cc, rep.Id, nil); err != nil {
		return rep.Id, wrap(err, "start pod %q", name)
	}
	return rep.Id, nil
}

// RemovePod stops every container of the pod, giving each grace to exit
// after SIGTERM, then removes the pod and its containers.
func (c *Client) RemovePod(ctx context.Context, id string, grace time.Duration) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	var ctrs []string // to forget their OOM markers (oom.go)
	if p, err := pods.Inspect(cc, id, nil); err == nil {
		for _, c := range p.Containers {
			ctrs = append(ctrs, c.ID)
		}
	}
	secs := int(grace / time.Second)
	if _, err := pods.Stop(cc, id, new(pods.StopOptions).WithTimeout(secs)); err != nil && !isNotFound(err) {
		return wrap(err, "stop pod %s", short(id))
	}
	if _, err := pods.Remove(cc, id, new(pods.RemoveOptions).WithForce(true)); err != nil {
		return wrap(err, "remove pod %s", short(id))
	}
	for _, ctr := range ctrs {
		forgetOOM(ctr)
	}
	return nil
}

func protoUpper(p string) string {
	if p == "" {
		return "TCP"
	}
	return strings.ToUpper(p)
}

// short abbreviates an engine ID for messages.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
