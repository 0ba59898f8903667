package runtime

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned (wrapped) when an object does not exist any more;
// removing something already gone is not an error for the executor.
var ErrNotFound = errors.New("not found")

// ErrConfig is returned (wrapped) when a container cannot be created as
// configured (e.g. runAsNonRoot with an image that runs as root).
var ErrConfig = errors.New("container configuration error")

// ErrImagePull is returned (wrapped) when an image cannot be pulled.
var ErrImagePull = errors.New("image pull failed")

// Runtime is what the executor needs from a container engine. Every method
// is safe for concurrent use. Implementations touch only objects carrying
// LabelManagedBy, and Observe returns only the given node's objects.
type Runtime interface {
	// Ping checks that the engine answers.
	Ping(ctx context.Context) error
	// Observe lists the node's managed pods and their containers (every
	// node's when node is empty; only read-only callers do that).
	Observe(ctx context.Context, node string) (*Observed, error)
	// CreatePod creates and starts an empty pod (its network namespace with
	// the published ports) and returns its ID.
	CreatePod(ctx context.Context, spec PodSpec) (string, error)
	// RemovePod stops the pod's containers (SIGTERM, then SIGKILL after
	// grace) and removes the pod with all its containers.
	RemovePod(ctx context.Context, id string, grace time.Duration) error
	// CreateContainer creates (but does not start) a container in a pod.
	CreateContainer(ctx context.Context, spec ContainerSpec) (string, error)
	// StartContainer starts a created or exited container.
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM and, after grace, SIGKILL.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer removes a container, killing it if it still runs.
	RemoveContainer(ctx context.Context, id string) error
	// ImageExists reports whether the image is present locally.
	ImageExists(ctx context.Context, ref string) (bool, error)
	// PullImage pulls an image; failures wrap ErrImagePull.
	PullImage(ctx context.Context, ref string) error
	// Logs writes a container's output to w (stdout and stderr interleaved).
	Logs(ctx context.Context, id string, opts LogOptions, w io.Writer) error
	// Exec runs a command in a running container and waits for it.
	Exec(ctx context.Context, id string, cmd []string) (ExecResult, error)
	// Events streams the node's container and pod events until ctx ends or
	// the stream breaks; the returned error says why it ended.
	Events(ctx context.Context, node string, out chan<- Event) error
	// RevisionStore keeps Deployment revisions beside the pods.
	RevisionStore
	// JobRecordStore keeps Job and CronJob records beside the pods.
	JobRecordStore
	// VolumeStore keeps emptyDir and PersistentVolume volumes.
	VolumeStore
	// PodIP returns the pod's address on the engine network.
	PodIP(ctx context.Context, podID string) (string, error)
}

// PodSpec describes a pod to create. Labels holds the Kubernetes labels; the
// implementation adds the schema labels from the other fields.
type PodSpec struct {
	Namespace     string
	Name          string
	Node          string
	Owner         Owner
	TemplateHash  string
	Revision      string
	Labels        map[string]string
	RestartPolicy string
	GracePeriod   time.Duration
	// Ports are published on HostIP (127.0.0.1 when empty) with
	// engine-assigned host ports.
	Ports  []PortSpec
	HostIP string
	// ServiceAccount is the pod's serviceAccountName, recorded only.
	ServiceAccount string
	// InitCount is the number of init containers the pod declares.
	InitCount int
	// QuotaUsage is what the pod counts against ResourceQuotas, by
	// resource name (quantities as strings).
	QuotaUsage map[string]string
	// Hostname is the pod's hostname (default Name); HostAliases are extra
	// /etc/hosts entries (address → names).
	Hostname    string
	HostAliases []HostAlias
	// DNS, when set, replaces the host's resolver configuration in the
	// pod's /etc/resolv.conf (the cluster DNS of Services).
	DNS *DNSConfig
}

// HostAlias is one /etc/hosts entry of a pod.
type HostAlias struct {
	IP        string
	Hostnames []string
}

// DNSConfig is a pod's resolver configuration.
type DNSConfig struct {
	Servers  []string
	Searches []string
	Options  []string
}

// PortSpec is a container port to publish.
type PortSpec struct {
	ContainerPort int32
	Protocol      string // "TCP", "UDP" or "SCTP"
}

// ContainerSpec describes a container to create in an existing pod.
type ContainerSpec struct {
	PodID string
	// Pod is the pod's identity, copied into the container's labels.
	Pod          PodSpec
	Name         string
	Image        string
	Command      []string
	Args         []string
	Env          []EnvVar
	WorkingDir   string
	RestartCount int
	// Init marks one of the pod's initContainers: it runs to completion
	// before the app containers start.
	Init bool
	// Mounts are the container's volume mounts, in the order written.
	Mounts []Mount
	// Resources are the container's cgroup limits and requests.
	Resources Resources
	// Security is the container's effective security context (the pod's
	// settings merged with the container's).
	Security Security
}

// Mount is one filesystem mount of a container. Exactly one of Volume,
// HostPath and Tmpfs says where its content comes from.
type Mount struct {
	// Destination is the absolute path in the container.
	Destination string
	// Volume is an engine named volume, created beforehand by the executor.
	Volume string
	// HostPath is a host file or directory, bind-mounted.
	HostPath string
	// Tmpfs mounts a memory-backed filesystem of at most SizeBytes (0: the
	// engine's default size).
	Tmpfs     bool
	SizeBytes int64
	// SubPath mounts only this relative path of the volume or host path.
	SubPath  string
	ReadOnly bool
}

// Resources are a container's compute resources, in the units the engine
// takes: CPU in millicores, memory in bytes; 0 means not set.
type Resources struct {
	CPURequestMilli int64
	CPULimitMilli   int64
	MemoryRequest   int64
	MemoryLimit     int64
}

// Security is a container's effective security context: the pod's
// securityContext overridden field by field by the container's.
type Security struct {
	// RunAsUser and RunAsGroup, when set, are the process's uid and gid.
	RunAsUser  *int64
	RunAsGroup *int64
	// SupplementalGroups are extra gids (the pod's fsGroup and
	// supplementalGroups).
	SupplementalGroups []int64
	RunAsNonRoot       bool
	ReadOnlyRootFS     bool
	// NoNewPrivileges is allowPrivilegeEscalation: false.
	NoNewPrivileges bool
	Privileged      bool
	CapAdd          []string
	CapDrop         []string
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string
	Value string
}

// LogOptions selects which log lines to return.
type LogOptions struct {
	Follow bool
	// Tail is the number of last lines; negative means all.
	Tail  int
	Since time.Time
}

// ExecResult is the outcome of Exec.
type ExecResult struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
}

// Event is a change the engine reports for a managed object.
type Event struct {
	// Type is "container" or "pod".
	Type string
	// Action is the engine's verb: create, start, died, remove, ...
	Action string
	ID     string
	// Namespace and Pod come from the object's labels (may be empty).
	Namespace string
	Pod       string
	Time      time.Time
}
