package config

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The defaults below are Kubernetes' own (pkg/apis/core/v1/defaults.go,
// pkg/apis/apps/v1/defaults.go, pkg/apis/batch/v1/defaults.go), written out
// because k8s.io/kubernetes cannot be imported. Like Kubernetes, they only
// fill fields that are unset, and validation runs on the defaulted object.

// setDefaults applies the defaults of obj's kind, and the namespace: the
// "default" namespace for namespaced kinds, none for cluster-scoped ones
// (Kubernetes ignores a namespace given to those).
func setDefaults(obj runtime.Object, kind string) {
	switch o := obj.(type) {
	case *corev1.Pod:
		defaultPodSpec(&o.Spec)
	case *appsv1.Deployment:
		defaultDeployment(o)
	case *corev1.ReplicationController:
		defaultReplicationController(o)
	case *batchv1.Job:
		defaultJob(o)
	case *batchv1.CronJob:
		defaultCronJob(o)
	case *corev1.Service:
		defaultService(o)
	case *corev1.Secret:
		defaultSecret(o)
	case *corev1.PersistentVolume:
		defaultPersistentVolume(o)
	case *corev1.PersistentVolumeClaim:
		defaultPersistentVolumeClaim(o)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	switch {
	case clusterScoped[kind]:
		m.SetNamespace("")
	case m.GetNamespace() == "":
		m.SetNamespace(metav1.NamespaceDefault)
	}
}

// defaultDeployment applies the apps/v1 Deployment defaults: 1 replica, a
// RollingUpdate strategy with maxSurge and maxUnavailable 25%,
// revisionHistoryLimit 10 and progressDeadlineSeconds 600.
func defaultDeployment(d *appsv1.Deployment) {
	setInt32(&d.Spec.Replicas, 1)
	st := &d.Spec.Strategy
	if st.Type == "" {
		st.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if st.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		setIntOrString(&st.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
		setIntOrString(&st.RollingUpdate.MaxSurge, intstr.FromString("25%"))
	}
	setInt32(&d.Spec.RevisionHistoryLimit, 10)
	setInt32(&d.Spec.ProgressDeadlineSeconds, 600)
	defaultPodSpec(&d.Spec.Template.Spec)
}

// defaultReplicationController applies the v1 ReplicationController
// defaults: the selector and, when it has none, the controller's own labels
// come from the template labels; 1 replica.
func defaultReplicationController(rc *corev1.ReplicationController) {
	if t := rc.Spec.Template; t != nil {
		if t.Labels != nil && len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = maps.Clone(t.Labels)
		}
		if t.Labels != nil && len(rc.Labels) == 0 {
			rc.Labels = maps.Clone(t.Labels)
		}
		defaultPodSpec(&t.Spec)
	}
	setInt32(&rc.Spec.Replicas, 1)
}

// defaultJob applies the batch/v1 Job defaults: completions and parallelism
// 1 when both are unset (parallelism 1 when it alone is), backoffLimit 6,
// completionMode NonIndexed, suspend false, and the Job's labels from the
// template when it has none.
func defaultJob(j *batchv1.Job) {
	if j.Spec.Completions == nil && j.Spec.Parallelism == nil {
		setInt32(&j.Spec.Completions, 1)
	}
	setInt32(&j.Spec.Parallelism, 1)
	setInt32(&j.Spec.BackoffLimit, 6)
	if j.Spec.CompletionMode == nil {
		mode := batchv1.NonIndexedCompletion
		j.Spec.CompletionMode = &mode
	}
	if j.Spec.Suspend == nil {
		j.Spec.Suspend = new(bool)
	}
	if labels := j.Spec.Template.Labels; labels != nil && len(j.Labels) == 0 {
		j.Labels = maps.Clone(labels)
	}
	defaultPodSpec(&j.Spec.Template.Spec)
}

// defaultCronJob applies the batch/v1 CronJob defaults: concurrencyPolicy
// Allow, suspend false, successfulJobsHistoryLimit 3, failedJobsHistoryLimit
// 1. As in Kubernetes, the job template's pod spec is defaulted but not the
// Job spec itself (a Job gets its defaults when it is created).
func defaultCronJob(c *batchv1.CronJob) {
	if c.Spec.ConcurrencyPolicy == "" {
		c.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if c.Spec.Suspend == nil {
		c.Spec.Suspend = new(bool)
	}
	setInt32(&c.Spec.SuccessfulJobsHistoryLimit, 3)
	setInt32(&c.Spec.FailedJobsHistoryLimit, 1)
	defaultPodSpec(&c.Spec.JobTemplate.Spec.Template.Spec)
}

// defaultService applies the v1 Service defaults: type ClusterIP, session
// affinity None, port protocol TCP, targetPort equal to port, and the
// traffic policies Cluster.
func defaultService(s *corev1.Service) {
	if s.Spec.Type == "" {
		s.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if s.Spec.SessionAffinity == "" {
		s.Spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	for i := range s.Spec.Ports {
		p := &s.Spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	t := s.Spec.Type
	if (t == corev1.ServiceTypeNodePort || t == corev1.ServiceTypeLoadBalancer) && s.Spec.ExternalTrafficPolicy == "" {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if t != corev1.ServiceTypeExternalName && s.Spec.InternalTrafficPolicy == nil {
		policy := corev1.ServiceInternalTrafficPolicyCluster
		s.Spec.InternalTrafficPolicy = &policy
	}
}

// defaultSecret applies the v1 Secret defaults: type Opaque, and stringData
// merged into data (stringData wins), as the API server stores it.
func defaultSecret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = make(map[string][]byte, len(s.StringData))
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// defaultPersistentVolume applies the v1 PersistentVolume defaults: reclaim
// policy Retain, volume mode Filesystem.
func defaultPersistentVolume(pv *corev1.PersistentVolume) {
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		mode := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &mode
	}
}

// defaultPersistentVolumeClaim applies the v1 PersistentVolumeClaim
// default: volume mode Filesystem.
func defaultPersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) {
	if pvc.Spec.VolumeMode == nil {
		mode := corev1.PersistentVolumeFilesystem
		pvc.Spec.VolumeMode = &mode
	}
}
