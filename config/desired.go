package config

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// AnnotationAutoRevert on a Deployment opts into automatic revert.
const AnnotationAutoRevert = "reconciler.io/auto-revert"

// Key identifies one object of the desired state. Objects are unique by
// namespace, kind and name; cluster-scoped kinds (Namespace,
// PersistentVolume) have an empty Namespace.
type Key struct {
	Namespace string
	Kind      string
	Name      string
}

// String renders the key as "namespace/Kind/name" (or "Kind/name" for
// cluster-scoped objects); it is stable and used in logs and events.
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + "/" + k.Name
	}
	return k.Namespace + "/" + k.Kind + "/" + k.Name
}

// Less orders keys by namespace, kind, then name.
func (k Key) Less(o Key) bool {
	if k.Namespace != o.Namespace {
		return k.Namespace < o.Namespace
	}
	if k.Kind != o.Kind {
		return k.Kind < o.Kind
	}
	return k.Name < o.Name
}

// Source says where an object was read: the file (relative to the loaded
// directory) and the zero-based index of the YAML document in it.
type Source struct {
	File string
	Doc  int
}

// String renders the source as "file#doc", the prefix of every error.
func (s Source) String() string { return fmt.Sprintf("%s#%d", s.File, s.Doc) }

// Object is one decoded, defaulted and validated manifest. Obj holds the
// current API type (*corev1.Pod, *appsv1.Deployment, ...): legacy versions
// have already been converted.
type Object struct {
	Key    Key
	Source Source
	Obj    runtime.Object
	// Unhonoured lists the pod fields of a Pod, Deployment,
	// ReplicationController, Job or CronJob that this build parses and
	// validates but does not run yet, in the form of Workload.Unhonoured;
	// empty for other kinds.
	Unhonoured []string
}

// Workload is an object that runs pods: a Pod (Replicas 1), a Deployment or a
// ReplicationController. It is what the planner turns into pods.
type Workload struct {
	// Key is the owner: the Pod, Deployment or ReplicationController itself.
	Key    Key
	Source Source
	// Replicas is the desired number of pods (always 1 for a Pod).
	Replicas int32
	// Template is the defaulted pod template (for a Pod: its metadata and spec).
	Template corev1.PodTemplateSpec
	// TemplateHash is a short, stable hash of Template: pods whose hash
	// differs are out of date and are replaced.
	TemplateHash string
	// Strategy is the Deployment strategy (Recreate for Pods and RCs).
	Strategy appsv1.DeploymentStrategy
	// MinReadySeconds as declared on a Deployment or ReplicationController
	// (0 for a Pod).
	MinReadySeconds int32
	// ProgressDeadlineSeconds is a Deployment's progress deadline (0 for
	// other kinds: no deadline).
	ProgressDeadlineSeconds int32
	// RevisionHistoryLimit is how many old revisions of a Deployment are
	// kept for `rollout history` and `rollout undo`.
	RevisionHistoryLimit int32
	// AutoRevert is set by the annotation reconciler.io/auto-revert: "true":
	// a rollout that misses its progress deadline goes back to the last
	// revision that was fully available.
	AutoRevert bool
	// PodNameSeed, when set, is mixed into the suffixes of new pod names:
	// in a fleet each node sets its own name, so replicas on different
	// nodes never share a pod name.
	PodNameSeed string
	// Unhonoured lists fields this build parses and validates but does not
	// run yet ("spec.template.spec.containers[0].livenessProbe: probes not
	// run by this build yet"), in field order; a workload with any is skipped
	// by run, with this text as the reason.
	Unhonoured []string
}

// Desired is the validated desired state loaded from one source revision.
type Desired struct {
	// Revision identifies the source (a git commit, or a content hash of a
	// directory); every object the reconciler creates records it.
	Revision string
	// Objects holds every object, sorted by Key.
	Objects []Object
	// Workloads holds the pod-running objects, sorted by Key.
	Workloads []Workload
	// Jobs and CronJobs hold the batch/v1 Jobs and CronJobs, sorted by Key.
	Jobs     []Job
	CronJobs []CronJob
	// Warnings are non-fatal findings (a legacy apiVersion, a suspicious
	// quantity), each prefixed by file#doc and field.
	Warnings []string
}
