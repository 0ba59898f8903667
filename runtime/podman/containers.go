package podman

import (
	"context"
	"strconv"
	"time"

	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/specgen"

	"github.com/reconciler/reconciler/runtime"
)

// CreateContainer creates one run of a Kubernetes container in its pod.
// Kubernetes' command and args map to the entrypoint and command: an
// explicit entrypoint makes the engine ignore the image's CMD, as a
// Kubernetes `command` does.
func (c *Client) CreateContainer(ctx context.Context, s runtime.ContainerSpec) (string, error) {
	cc, err := c.connected(ctx)
	if err != nil {
		return "", err
	}
	name := containerName(s.Pod.Namespace, s.Pod.Name, s.Pod.Node, s.Name, s.RestartCount)
	gen := specgen.NewSpecGenerator(s.Image, false)
	gen.Name = name
	gen.Pod = s.PodID
	gen.Labels = identityLabels(s.Pod)
	gen.Labels[runtime.LabelContainer] = s.Name
	gen.Labels[runtime.LabelRestartCount] = strconv.Itoa(s.RestartCount)
	gen.Entrypoint = s.Command
	gen.Command = s.Args
	gen.WorkDir = s.WorkingDir
	gen.Env = make(map[string]string, len(s.Env))
	for _, e := range s.Env {
		gen.Env[e.Name] = e.Value
	}
	applyMounts(gen, s.Mounts)
	grace := uint(s.Pod.GracePeriod / time.Second)
	gen.StopTimeout = &grace
	rep, err := containers.CreateWithSpec(cc, gen, nil)
	if err != nil {
		return "", wrap(err, "create container %q", name)
	}
	return rep.ID, nil
}

// StartContainer starts a container.
func (c *Client) StartContainer(ctx context.Context, id string) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	return wrap(containers.Start(cc, id, nil), "start container %s", short(id))
}

// StopContainer stops a container with a grace period before SIGKILL.
func (c *Client) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	opts := new(containers.StopOptions).WithTimeout(uint(grace / time.Second))
	return wrap(containers.Stop(cc, id, opts), "stop container %s", short(id))
}

// RemoveContainer force-removes a container.
func (c *Client) RemoveContainer(ctx context.Context, id string) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	opts := new(containers.RemoveOptions).WithForce(true).WithTimeout(0)
	_, err = containers.Remove(cc, id, opts)
	return wrap(err, "remove container %s", short(id))
}
