package runtime

import "context"

// Volume kinds, recorded in LabelVolumeKind.
const (
	// VolumeEmptyDir is a pod's emptyDir: it lives as long as the pod and is
	// removed with it.
	VolumeEmptyDir = "emptyDir"
	// VolumePersistent backs a PersistentVolume: it outlives every pod and
	// is never removed by the reconciler (reclaim policy Retain).
	VolumePersistent = "persistent"
)

// Volume labels, beside LabelManagedBy, LabelNode, LabelNamespace and
// LabelPod.
const (
	// LabelVolumeKind is VolumeEmptyDir or VolumePersistent.
	LabelVolumeKind = LabelPrefix + "volume-kind"
	// LabelPodID is the engine ID of an emptyDir's pod.
	LabelPodID = LabelPrefix + "pod-id"
	// LabelVolumeName is the Kubernetes name: the pod's volume name for an
	// emptyDir, the PersistentVolume's name for a persistent volume.
	LabelVolumeName = LabelPrefix + "volume"
)

// VolumeSpec describes an engine named volume to create.
type VolumeSpec struct {
	// Name is the engine name.
	Name string
	Kind string
	// Node scopes the volume; Namespace, Pod and PodID name an emptyDir's
	// pod.
	Node, Namespace, Pod, PodID string
	// Volume is the Kubernetes volume (or PersistentVolume) name.
	Volume string
	// Tmpfs backs the volume with memory, limited to SizeBytes when set.
	Tmpfs     bool
	SizeBytes int64
	// GID, when set, group-owns the volume's root directory (a pod's
	// fsGroup), with the setgid bit so new files inherit the group.
	GID *int64
	// Mode is the permission of the volume's root directory when it is
	// created (0: the engine's default).
	Mode uint32
}

// Volume is an observed managed volume.
type Volume struct {
	Name, Kind, Node, Namespace, Pod, PodID, Volume string
	// Mountpoint is where the engine keeps the volume's data on the host.
	Mountpoint string
}

// VolumeStore manages the engine named volumes behind emptyDirs and
// PersistentVolumes.
type VolumeStore interface {
	// EnsureVolume creates the volume unless it exists, and returns it.
	EnsureVolume(ctx context.Context, spec VolumeSpec) (Volume, error)
	// RemoveVolume removes a volume; a missing one is not an error.
	RemoveVolume(ctx context.Context, name string) error
	// ListVolumes lists the node's managed volumes.
	ListVolumes(ctx context.Context, node string) ([]Volume, error)
}
