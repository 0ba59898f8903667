package podman

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	spec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/images"
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
	if err := c.checkNonRoot(cc, s); err != nil {
		return "", err
	}
	gen := specgen.NewSpecGenerator(s.Image, false)
	gen.Name = name
	gen.Pod = s.PodID
	gen.Labels = identityLabels(s.Pod)
	gen.Labels[runtime.LabelContainer] = s.Name
	gen.Labels[runtime.LabelRestartCount] = strconv.Itoa(s.RestartCount)
	if s.Init {
		gen.Labels[runtime.LabelInit] = "true"
	}
	gen.Entrypoint = s.Command
	gen.Command = s.Args
	gen.WorkDir = s.WorkingDir
	gen.Env = make(map[string]string, len(s.Env))
	for _, e := range s.Env {
		gen.Env[e.Name] = e.Value
	}
	applyMounts(gen, s.Mounts)
	applyResources(gen, s.Resources)
	applySecurity(gen, s.Security)
	grace := uint(s.Pod.GracePeriod / time.Second)
	gen.StopTimeout = &grace
	rep, err := containers.CreateWithSpec(cc, gen, nil)
	if err != nil {
		return "", wrap(err, "create container %q", name)
	}
	if s.Resources.MemoryLimit > 0 {
		c.noteMemoryLimit(rep.ID, s.PodID)
	}
	return rep.ID, nil
}

// StartContainer starts a container.
func (c *Client) StartContainer(ctx context.Context, id string) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	c.prepareStart(cc, id)
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
	if err == nil || isNotFound(err) {
		forgetOOM(id)
	}
	return wrap(err, "remove container %s", short(id))
}

// cpuPeriod is the CFS period of CPU limits, in microseconds (the kubelet's).
const cpuPeriod = 100000

// applyResources turns a container's resources into cgroup settings as the
// kubelet does: the memory limit is a hard limit (OOM kill beyond it), the
// CPU limit a CFS quota per 100 ms period, and the CPU request the
// container's share weight (1024 shares per CPU, at least 2).
func applyResources(gen *specgen.SpecGenerator, r runtime.Resources) {
	if r == (runtime.Resources{}) {
		return
	}
	lr := &spec.LinuxResources{}
	if r.MemoryLimit > 0 {
		limit := r.MemoryLimit
		lr.Memory = &spec.LinuxMemory{Limit: &limit}
	}
	cpu := &spec.LinuxCPU{}
	if r.CPULimitMilli > 0 {
		quota, period := r.CPULimitMilli*cpuPeriod/1000, uint64(cpuPeriod)
		cpu.Quota, cpu.Period = &quota, &period
	}
	if req := r.CPURequestMilli; req > 0 {
		shares := uint64(max(req*1024/1000, 2))
		cpu.Shares = &shares
	}
	if cpu.Quota != nil || cpu.Shares != nil {
		lr.CPU = cpu
	}
	gen.ResourceLimits = lr
}

// applySecurity sets the process identity and privileges of a container.
func applySecurity(gen *specgen.SpecGenerator, s runtime.Security) {
	switch {
	case s.RunAsUser != nil && s.RunAsGroup != nil:
		gen.User = strconv.FormatInt(*s.RunAsUser, 10) + ":" + strconv.FormatInt(*s.RunAsGroup, 10)
	case s.RunAsUser != nil:
		gen.User = strconv.FormatInt(*s.RunAsUser, 10) // group: the image's for that uid, else 0
	case s.RunAsGroup != nil:
		gen.User = "0:" + strconv.FormatInt(*s.RunAsGroup, 10)
	}
	for _, g := range s.SupplementalGroups {
		gen.Groups = append(gen.Groups, strconv.FormatInt(g, 10))
	}
	gen.ReadOnlyFilesystem = s.ReadOnlyRootFS
	gen.NoNewPrivileges = s.NoNewPrivileges
	gen.Privileged = s.Privileged
	gen.CapAdd = append(gen.CapAdd, s.CapAdd...)
	gen.CapDrop = append(gen.CapDrop, s.CapDrop...)
}

// checkNonRoot enforces runAsNonRoot as the kubelet does: the container's
// user (runAsUser, else the image's) must be a non-zero numeric uid.
func (c *Client) checkNonRoot(cc context.Context, s runtime.ContainerSpec) error {
	if !s.Security.RunAsNonRoot {
		return nil
	}
	if u := s.Security.RunAsUser; u != nil {
		if *u == 0 {
			return fmt.Errorf("%w: container's runAsUser breaks non-root policy", runtime.ErrConfig)
		}
		return nil
	}
	img, err := images.GetImage(cc, s.Image, nil)
	if err != nil {
		return wrap(err, "inspect image %q", s.Image)
	}
	user := ""
	if img.Config != nil {
		user, _, _ = strings.Cut(img.Config.User, ":")
	}
	uid, err := strconv.ParseInt(user, 10, 64)
	switch {
	case user == "" || user == "root" || err == nil && uid == 0:
		return fmt.Errorf("%w: container has runAsNonRoot and image will run as root", runtime.ErrConfig)
	case err != nil:
		return fmt.Errorf("%w: container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root", runtime.ErrConfig, user)
	}
	return nil
}
