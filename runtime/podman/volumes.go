package podman

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/pods"
	"github.com/containers/podman/v4/pkg/bindings/volumes"
	"github.com/containers/podman/v4/pkg/domain/entities"

	"github.com/reconciler/reconciler/runtime"
)

// tmpfsPage is the unit of the tmpfs nr_blocks option. Podman 4.3 refuses
// the size option of a local volume (it takes it for a project quota), so a
// memory-backed volume's size is given in pages.
const tmpfsPage = 4096

// EnsureVolume creates a managed named volume unless it exists. A tmpfs
// volume is shared by every container that mounts it, as an emptyDir with
// medium Memory is; a GID group-owns the volume root.
func (c *Client) EnsureVolume(ctx context.Context, s runtime.VolumeSpec) (runtime.Volume, error) {
	cc, err := c.connected(ctx)
	if err != nil {
		return runtime.Volume{}, err
	}
	if v, err := volumes.Inspect(cc, s.Name, nil); err == nil {
		return volumeOf(v.Name, v.Mountpoint, v.Labels), nil
	} else if !isNotFound(err) {
		return runtime.Volume{}, wrap(err, "inspect volume %q", s.Name)
	}
	labels := map[string]string{
		runtime.LabelManagedBy:  runtime.ManagedByValue,
		runtime.LabelNode:       s.Node,
		runtime.LabelNamespace:  s.Namespace,
		runtime.LabelPod:        s.Pod,
		runtime.LabelPodID:      s.PodID,
		runtime.LabelVolumeKind: s.Kind,
		runtime.LabelVolumeName: s.Volume,
	}
	opts := map[string]string{}
	var o string
	if s.Tmpfs {
		opts["type"], opts["device"] = "tmpfs", "tmpfs"
		if s.SizeBytes > 0 {
			o = "nr_blocks=" + strconv.FormatInt((s.SizeBytes+tmpfsPage-1)/tmpfsPage, 10)
		}
	}
	if s.GID != nil {
		o = joinOpt(o, "gid="+strconv.FormatInt(*s.GID, 10))
	}
	if s.Tmpfs && s.Mode != 0 {
		o = joinOpt(o, "mode="+strconv.FormatUint(uint64(volumeMode(s)), 8))
	}
	if o != "" {
		opts["o"] = o
	}
	v, err := volumes.Create(cc, entities.VolumeCreateOptions{Name: s.Name, Labels: labels, Options: opts, IgnoreIfExists: true}, nil)
	if err != nil {
		return runtime.Volume{}, wrap(err, "create volume %q", s.Name)
	}
	if !s.Tmpfs && s.Mode != 0 {
		// The local driver takes no mode: set it on the host directory
		// (the engine is local: its API is a unix socket).
		if err := os.Chmod(v.Mountpoint, goMode(volumeMode(s))); err != nil {
			return runtime.Volume{}, fmt.Errorf("podman: volume %q: %w", s.Name, err)
		}
	}
	return volumeOf(v.Name, v.Mountpoint, v.Labels), nil
}

// volumeMode is the volume root's mode: with a group owner, setgid too, so
// files created in it belong to the group (as the kubelet does for fsGroup).
func volumeMode(s runtime.VolumeSpec) uint32 {
	if s.GID != nil {
		return s.Mode | 0o2000
	}
	return s.Mode
}

func goMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	if m&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	return mode
}

func joinOpt(o, opt string) string {
	if o == "" {
		return opt
	}
	return o + "," + opt
}

// RemoveVolume removes a volume; a missing one is not an error.
func (c *Client) RemoveVolume(ctx context.Context, name string) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	err = volumes.Remove(cc, name, new(volumes.RemoveOptions).WithForce(true))
	if err != nil && !isNotFound(err) {
		return wrap(err, "remove volume %q", name)
	}
	return nil
}

// ListVolumes lists the node's managed volumes.
func (c *Client) ListVolumes(ctx context.Context, node string) ([]runtime.Volume, error) {
	cc, err := c.connected(ctx)
	if err != nil {
		return nil, err
	}
	// One label filter: the engine ORs several; the node is checked below.
	list, err := listVolumes(cc, runtime.LabelManagedBy+"="+runtime.ManagedByValue)
	if err != nil {
		return nil, wrap(err, "list volumes")
	}
	out := make([]runtime.Volume, 0, len(list))
	for _, v := range list {
		// Only emptyDir and persistent volumes are listed (records are
		// volumes too).
		vol := volumeOf(v.Name, v.Mountpoint, v.Labels)
		if v.Labels[runtime.LabelManagedBy] != runtime.ManagedByValue || node != "" && vol.Node != node ||
			vol.Kind != runtime.VolumeEmptyDir && vol.Kind != runtime.VolumePersistent {
			continue
		}
		out = append(out, vol)
	}
	return out, nil
}

func volumeOf(name, mountpoint string, l map[string]string) runtime.Volume {
	return runtime.Volume{
		Name: name, Mountpoint: mountpoint,
		Kind: l[runtime.LabelVolumeKind], Node: l[runtime.LabelNode],
		Namespace: l[runtime.LabelNamespace], Pod: l[runtime.LabelPod], PodID: l[runtime.LabelPodID], Volume: l[runtime.LabelVolumeName],
	}
}

// PodIP returns the address of the pod on its engine network (that of its
// infra container).
func (c *Client) PodIP(ctx context.Context, podID string) (string, error) {
	cc, err := c.connected(ctx)
	if err != nil {
		return "", err
	}
	p, err := pods.Inspect(cc, podID, nil)
	if err != nil {
		return "", wrap(err, "inspect pod %s", short(podID))
	}
	ic, err := containers.Inspect(cc, p.InfraContainerID, nil)
	if err != nil {
		return "", wrap(err, "inspect infra container of pod %s", short(podID))
	}
	if ns := ic.NetworkSettings; ns != nil {
		for _, n := range ns.Networks {
			if n != nil && n.IPAddress != "" {
				return n.IPAddress, nil
			}
		}
		if ns.IPAddress != "" {
			return ns.IPAddress, nil
		}
	}
	return "", nil
}
