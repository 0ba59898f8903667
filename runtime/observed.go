package runtime

import (
	"sort"
	"time"
)

// Observed is the state of the engine as far as one node's reconciler owns
// it. It is rebuilt from engine labels on every observation.
type Observed struct {
	// Pods are the managed pods of the node, sorted by Namespace then Name.
	Pods []Pod
	// Jobs and CronJobs are the node's Job and CronJob records; the
	// executor reads them beside the pods (see JobRecordStore).
	Jobs     []JobRecord
	CronJobs []CronJobRecord
}

// Owner names the object a pod belongs to, in the pod's namespace.
type Owner struct {
	Kind string
	Name string
}

// Pod is one observed pod (a Podman pod: an infra container holding the
// network namespace and the pod's containers).
type Pod struct {
	// ID is the engine's pod ID.
	ID        string
	Namespace string
	Name      string
	// Node is the node that owns the pod.
	Node  string
	Owner Owner
	// TemplateHash and Revision are as recorded when the pod was created.
	TemplateHash string
	Revision     string
	// Labels are the pod's Kubernetes labels (without the reconciler's own).
	Labels map[string]string
	// RestartPolicy is Always, OnFailure or Never.
	RestartPolicy string
	// ServiceAccount is the pod's serviceAccountName as recorded.
	ServiceAccount string
	// QuotaUsage is what the pod counts against ResourceQuotas, as
	// recorded when it was created.
	QuotaUsage map[string]string
	// GracePeriod is how long containers get between SIGTERM and SIGKILL.
	GracePeriod time.Duration
	Created     time.Time
	// Containers are the pod's app containers (not the infra container),
	// sorted by Name then RestartCount.
	Containers []Container
	// InitContainers are the runs of the pod's init containers, sorted the
	// same way; InitCount is how many the pod's spec declares.
	InitContainers []Container
	InitCount      int
	// Ports are the pod's published ports.
	Ports []PortBinding
	// Terminating is set by the executor for a pod it is stopping (the
	// engine does not report it); the planner neither counts such a pod
	// nor asks to remove it again, but waits for it to be gone.
	Terminating bool
}

// ContainerState is the lifecycle state of a container as the engine reports it.
type ContainerState string

// Container states. The engine's finer states (configured, stopping, ...)
// are folded into these.
const (
	StateCreated ContainerState = "created"
	StateRunning ContainerState = "running"
	StatePaused  ContainerState = "paused"
	StateExited  ContainerState = "exited"
	StateUnknown ContainerState = "unknown"
)

// Container is one observed app container of a pod.
type Container struct {
	ID string
	// Name is the Kubernetes container name.
	Name         string
	Image        string
	RestartCount int
	State        ContainerState
	ExitCode     int32
	Created      time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	// OOMKilled is set when the kernel killed the container for exceeding
	// its memory limit.
	OOMKilled bool
	// Ready, ReadySince and Unhealthy come from the executor's probes (the
	// engine does not report them): Ready once the readiness probe passes
	// (or, without one, once running); Unhealthy when the liveness or
	// startup probe has failed past its threshold.
	Ready      bool
	ReadySince time.Time
	Unhealthy  string
}

// PortBinding is a container port published on the host.
type PortBinding struct {
	ContainerPort int32
	Protocol      string
	HostIP        string
	HostPort      int32
}

// Sort puts pods and their containers in the canonical order, so plans never
// depend on engine listing order.
func (o *Observed) Sort() {
	sort.Slice(o.Pods, func(i, j int) bool {
		a, b := o.Pods[i], o.Pods[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	for i := range o.Pods {
		sortContainers(o.Pods[i].Containers)
		sortContainers(o.Pods[i].InitContainers)
	}
}

func sortContainers(cs []Container) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Name != cs[j].Name {
			return cs[i].Name < cs[j].Name
		}
		return cs[i].RestartCount < cs[j].RestartCount
	})
}

// Current returns the newest run (highest restart count) of the pod's app
// container with the given Kubernetes name, or nil.
func (p *Pod) Current(name string) *Container { return newest(p.Containers, name) }

// CurrentInit returns the newest run of the named init container, or nil.
func (p *Pod) CurrentInit(name string) *Container { return newest(p.InitContainers, name) }

func newest(cs []Container, name string) *Container {
	var cur *Container
	for i := range cs {
		c := &cs[i]
		if c.Name == name && (cur == nil || c.RestartCount > cur.RestartCount) {
			cur = c
		}
	}
	return cur
}
