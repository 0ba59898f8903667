package planner

import (
	"fmt"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// ActionType is what an action does.
type ActionType int

// Action types, in the order a plan applies them: removals free names and
// resources before anything is created.
const (
	// RemovePod stops a pod's containers (with its grace period) and removes it.
	RemovePod ActionType = iota
	// RemoveContainer removes one exited run of a container.
	RemoveContainer
	// StopContainer stops a running container whose liveness or startup
	// probe failed (SIGTERM, then SIGKILL after Grace); the restart policy
	// then decides whether it runs again.
	StopContainer
	// CreatePod creates a pod for Workload named Pod, with all its containers,
	// and starts them.
	CreatePod
	// CreateContainer creates and starts a run of Container in an existing
	// pod, with RestartCount.
	CreateContainer
	// StartContainer starts a container that was created but never started.
	StartContainer
	// PutJobRecord writes JobRecord (a Job started, counted, finished, or
	// marked for deletion).
	PutJobRecord
	// DeleteJobRecord removes JobRecord, once the Job has no pods left.
	DeleteJobRecord
	// PutCronJobRecord writes CronJobRecord (first seen, last slot started).
	PutCronJobRecord
	// DeleteCronJobRecord removes CronJobRecord.
	DeleteCronJobRecord
)

var actionNames = [...]string{"RemovePod", "RemoveContainer", "StopContainer", "CreatePod", "CreateContainer", "StartContainer",
	"PutJobRecord", "DeleteJobRecord", "PutCronJobRecord", "DeleteCronJobRecord"}

// String returns the action type's name.
func (t ActionType) String() string {
	if int(t) < len(actionNames) {
		return actionNames[t]
	}
	return fmt.Sprintf("ActionType(%d)", int(t))
}

// Action is one step for the executor.
type Action struct {
	Type ActionType
	// Namespace and Pod name the Kubernetes pod acted on.
	Namespace string
	Pod       string
	// Owner is the workload the pod belongs to.
	Owner config.Key
	// PodID is the engine ID of an existing pod (all but CreatePod).
	PodID string
	// ContainerID is the engine ID of the container (RemoveContainer,
	// StartContainer).
	ContainerID string
	// Workload is the desired workload for CreatePod and CreateContainer.
	Workload *config.Workload
	// Container is the Kubernetes container name (container actions).
	Container string
	// RestartCount is the run number of the container to create.
	RestartCount int
	// Grace is the pod's termination grace period (RemovePod, StopContainer).
	Grace time.Duration
	// Reason says why, in words fit for an event.
	Reason string
	// Cause says why in one word, for the executor's drift accounting.
	Cause Cause
	// JobRecord and CronJobRecord are the records to write or delete
	// (record actions; Owner names the Job or CronJob).
	JobRecord     *runtime.JobRecord
	CronJobRecord *runtime.CronJobRecord
	// Event, when set, is the reason of the event recorded once the action
	// succeeded (default: the action type), a Warning when Warning is set.
	Event   string
	Warning bool
}

// Cause is the machine-readable reason of an action.
type Cause string

// Causes of actions.
const (
	CauseCreate    Cause = "create"    // a pod or container the desired state lacks
	CauseScale     Cause = "scale"     // replicas changed
	CauseTemplate  Cause = "template"  // the template changed (rollout, Recreate)
	CauseOrphan    Cause = "orphan"    // a managed pod nothing desires
	CauseMissing   Cause = "missing"   // a container of a pod is gone
	CauseExited    Cause = "exited"    // a container exited; its restart policy restarts it
	CauseStart     Cause = "start"     // a created container was never started
	CauseUnhealthy Cause = "unhealthy" // a liveness or startup probe failed
	CausePrune     Cause = "prune"     // an old run of a container is removed
	CauseJob       Cause = "job"       // a Job's or CronJob's own lifecycle (records, finished or deleted Jobs)
)

// String renders the action for logs and `reconciler diff`.
func (a Action) String() string {
	s := fmt.Sprintf("%s %s/%s", a.Type, a.Namespace, a.Pod)
	if a.Pod == "" && a.Owner.Name != "" { // a record action: name its Job or CronJob
		s = fmt.Sprintf("%s %s", a.Type, a.Owner)
	}
	if a.Container != "" {
		s += " container " + a.Container
	}
	return s + ": " + a.Reason
}
