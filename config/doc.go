// Package config turns a tree of Kubernetes manifests into the validated,
// typed desired state the reconciler works from.
//
// Load (or LoadDir, for a directory on disk) reads every *.yaml, *.yml and
// *.json file, in path order. Each YAML document, JSON value or item of a
// "kind: List" is decoded strictly into its k8s.io/api type: an unknown or
// duplicate field, a value of the wrong type, an unknown kind or apiVersion
// are errors. The kinds accepted are v1 Namespace, Pod,
// ReplicationController, Service, ConfigMap, Secret, PersistentVolume,
// PersistentVolumeClaim, ResourceQuota and ServiceAccount, apps/v1
// Deployment, and batch/v1 Job and CronJob. Legacy versions
// (extensions/v1beta1, apps/v1beta1 and apps/v1beta2 Deployments,
// batch/v1beta1 and batch/v2alpha1 CronJobs) are converted to the current
// type with the defaults their version had, and produce a warning.
//
// Objects are then defaulted as the Kubernetes API server defaults them
// (namespace "default", one replica, RollingUpdate 25%/25%, restartPolicy
// Always, imagePullPolicy from the image tag, Service targetPort from port,
// and so on) and validated as it validates them, with apimachinery's
// validators, plus reconciler's own rules: label keys under
// "reconciler.dev/" are reserved, and pod fields follow the support policy
// of support.go (honoured, not run yet, or not supported).
//
// Errors are never cut short: every problem of every document is collected
// into one error that wraps ErrInvalid and whose *FieldError elements
// (Errors) read "file#doc: field.path: message", sorted by file, document
// and field. Messages never quote the data of a Secret or ConfigMap.
// Non-fatal findings, such as a legacy apiVersion or a memory quantity of
// "1024m" (1.024 bytes), are returned as Desired.Warnings.
//
// The result, Desired, lists every Object by Key and, for each Pod,
// Deployment and ReplicationController, a Workload: its replica count,
// defaulted pod template, template hash, strategy and the fields this build
// does not run yet.
package config
