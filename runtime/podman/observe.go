package podman

import (
	"context"
	"strconv"
	"time"

	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/pods"
	"github.com/containers/podman/v4/pkg/domain/entities"

	"github.com/reconciler/reconciler/runtime"
)

// Observe lists the node's managed pods and containers with two API calls
// and rebuilds the observed state from their labels.
func (c *Client) Observe(ctx context.Context, node string) (*runtime.Observed, error) {
	cc, err := c.connected(ctx)
	if err != nil {
		return nil, err
	}
	filters := scopeFilters(node)
	plist, err := pods.List(cc, new(pods.ListOptions).WithFilters(filters))
	if err != nil {
		return nil, wrap(err, "list pods")
	}
	clist, err := containers.List(cc, new(containers.ListOptions).
		WithAll(true).WithFilters(filters))
	if err != nil {
		return nil, wrap(err, "list containers")
	}
	obs := assemble(plist, clist)
	c.markOOM(ctx, obs)
	return obs, nil
}

// markOOM sets OOMKilled on exited containers the kernel killed for their
// memory limit. The list API does not say so; only containers that died of
// SIGKILL (exit code 137) are inspected, once each.
func (c *Client) markOOM(ctx context.Context, obs *runtime.Observed) {
	cc, err := c.connected(ctx)
	if err != nil {
		return
	}
	c.oomMu.Lock()
	defer c.oomMu.Unlock()
	if c.oom == nil {
		c.oom = map[string]bool{}
	}
	seen := map[string]bool{}
	for i := range obs.Pods {
		for j := range obs.Pods[i].Containers {
			ct := &obs.Pods[i].Containers[j]
			if ct.State != runtime.StateExited || ct.ExitCode != 137 {
				continue
			}
			seen[ct.ID] = true
			oom, ok := c.oom[ct.ID]
			if !ok {
				data, err := containers.Inspect(cc, ct.ID, nil)
				if err != nil || data.State == nil {
					continue
				}
				oom = data.State.OOMKilled
				c.oom[ct.ID] = oom
			}
			// The watch's marker may appear after the first look.
			oom = oom || oomKilled(ct.ID)
			ct.OOMKilled = oom
		}
	}
	for id := range c.oom {
		if !seen[id] {
			delete(c.oom, id)
		}
	}
}

// assemble joins pods and containers into the observed model.
func assemble(plist []*entities.ListPodsReport, clist []entities.ListContainer) *runtime.Observed {
	byID := make(map[string]int, len(plist))
	obs := &runtime.Observed{Pods: make([]runtime.Pod, 0, len(plist))}
	for _, p := range plist {
		byID[p.Id] = len(obs.Pods)
		obs.Pods = append(obs.Pods, podFromLabels(p.Id, p.Created, p.Labels))
	}
	for _, lc := range clist {
		i, ok := byID[lc.Pod]
		if !ok || lc.IsInfra {
			continue // a container whose pod vanished meanwhile
		}
		p := &obs.Pods[i]
		if lc.Labels[runtime.LabelInit] == "true" {
			p.InitContainers = append(p.InitContainers, containerFromList(lc))
		} else {
			p.Containers = append(p.Containers, containerFromList(lc))
		}
		if len(p.Ports) == 0 {
			p.Ports = portsFromList(lc)
		}
	}
	obs.Sort()
	return obs
}

func containerFromList(lc entities.ListContainer) runtime.Container {
	rc, _ := strconv.Atoi(lc.Labels[runtime.LabelRestartCount])
	c := runtime.Container{
		ID:           lc.ID,
		Name:         lc.Labels[runtime.LabelContainer],
		Image:        lc.Image,
		RestartCount: rc,
		State:        stateOf(lc.State),
		ExitCode:     lc.ExitCode,
		Created:      lc.Created,
	}
	if lc.StartedAt > 0 {
		c.StartedAt = time.Unix(lc.StartedAt, 0)
	}
	if lc.ExitedAt > 0 && c.State == runtime.StateExited {
		c.FinishedAt = time.Unix(lc.ExitedAt, 0)
	}
	return c
}

func portsFromList(lc entities.ListContainer) []runtime.PortBinding {
	var out []runtime.PortBinding
	for _, pm := range lc.Ports {
		for i := uint16(0); i < max(pm.Range, 1); i++ {
			out = append(out, runtime.PortBinding{
				ContainerPort: int32(pm.ContainerPort + i),
				Protocol:      protoUpper(pm.Protocol),
				HostIP:        pm.HostIP,
				HostPort:      int32(pm.HostPort + i),
			})
		}
	}
	return out
}

// stateOf folds Podman's container states into the runtime's.
func stateOf(s string) runtime.ContainerState {
	switch s {
	case "created", "configured", "initialized":
		return runtime.StateCreated
	case "running", "stopping":
		return runtime.StateRunning
	case "paused":
		return runtime.StatePaused
	case "exited", "stopped":
		return runtime.StateExited
	default:
		return runtime.StateUnknown
	}
}
