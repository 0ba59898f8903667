package runtime

// The label schema. Every pod and container the reconciler creates carries
// these; user labels with the reserved prefix are refused by config.
const (
	// LabelPrefix is reserved for the reconciler's own labels.
	LabelPrefix = "reconciler.dev/"
	// LabelManagedBy marks an object as the reconciler's; only objects with
	// LabelManagedBy=ManagedByValue are ever changed or removed.
	LabelManagedBy = LabelPrefix + "managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "reconciler"
	// LabelNode scopes objects to one daemon (node); a daemon observes and
	// touches only objects whose node label is its own.
	LabelNode = LabelPrefix + "node"
	// LabelNamespace is the Kubernetes namespace of the pod.
	LabelNamespace = LabelPrefix + "namespace"
	// LabelPod is the Kubernetes pod name.
	LabelPod = LabelPrefix + "pod"
	// LabelOwnerKind and LabelOwnerName name the object that wants the pod
	// (Pod, Deployment, ReplicationController) in the pod's namespace.
	LabelOwnerKind = LabelPrefix + "owner-kind"
	// LabelOwnerName is the owner's name.
	LabelOwnerName = LabelPrefix + "owner-name"
	// LabelTemplateHash is the hash of the pod template the pod was made from.
	LabelTemplateHash = LabelPrefix + "template-hash"
	// LabelRevision is the source revision (git commit) the pod came from.
	LabelRevision = LabelPrefix + "revision"
	// LabelGracePeriod is terminationGracePeriodSeconds, so a restarted
	// daemon knows how long to wait when stopping the pod.
	LabelGracePeriod = LabelPrefix + "grace-period"
	// LabelRestartPolicy is the pod's restartPolicy.
	LabelRestartPolicy = LabelPrefix + "restart-policy"
	// LabelUserLabels lists, comma-separated, which of the pod's labels are
	// the Kubernetes labels of the pod (the others are the reconciler's).
	LabelUserLabels = LabelPrefix + "user-labels"
	// LabelServiceAccount records the pod's serviceAccountName (no token
	// is mounted).
	LabelServiceAccount = LabelPrefix + "service-account"
	// LabelQuotaUsage records what the pod counts against ResourceQuotas
	// ("limits.cpu=2,pods=1,requests.memory=768Mi"), so that a restarted
	// daemon knows it whatever template the pod came from.
	LabelQuotaUsage = LabelPrefix + "quota-usage"
	// LabelInit marks a run of an init container ("true"; containers only).
	LabelInit = LabelPrefix + "init"
	// LabelInitCount is the number of init containers a pod declares.
	LabelInitCount = LabelPrefix + "init-containers"
	// LabelContainer is the Kubernetes container name (containers only).
	LabelContainer = LabelPrefix + "container"
	// LabelRestartCount counts restarts of that container in its pod; each
	// restart is a new engine container with the count incremented, as the
	// kubelet does.
	LabelRestartCount = LabelPrefix + "restart-count"
)
