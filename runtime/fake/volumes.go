package fake

import (
	"context"
	"sort"

	"github.com/reconciler/reconciler/runtime"
)

// EnsureVolume records a volume unless it exists.
func (r *Runtime) EnsureVolume(_ context.Context, s runtime.VolumeSpec) (runtime.Volume, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("EnsureVolume " + s.Name); err != nil {
		return runtime.Volume{}, err
	}
	if r.volumes == nil {
		r.volumes = map[string]runtime.Volume{}
	}
	if v, ok := r.volumes[s.Name]; ok {
		return v, nil
	}
	v := runtime.Volume{Name: s.Name, Kind: s.Kind, Node: s.Node, Namespace: s.Namespace, Pod: s.Pod, PodID: s.PodID,
		Volume: s.Volume, Mountpoint: "/fake/volumes/" + s.Name}
	r.volumes[s.Name] = v
	return v, nil
}

// RemoveVolume forgets a volume.
func (r *Runtime) RemoveVolume(_ context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("RemoveVolume " + name); err != nil {
		return err
	}
	delete(r.volumes, name)
	return nil
}

// ListVolumes lists the node's volumes by name.
func (r *Runtime) ListVolumes(_ context.Context, node string) ([]runtime.Volume, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtime.Volume
	for _, v := range r.volumes {
		if node == "" || v.Node == node {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PodIP returns a fixed address for an existing pod.
func (r *Runtime) PodIP(_ context.Context, id string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.pods[id]; !ok {
		return "", runtime.ErrNotFound
	}
	return "10.88.0.2", nil
}
