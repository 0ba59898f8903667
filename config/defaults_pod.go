package config

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Pod defaults of pkg/apis/core/v1/defaults.go.
const (
	defaultTerminationGracePeriod = 30
	defaultSchedulerName          = "default-scheduler"
	defaultTerminationMessagePath = "/dev/termination-log"
	defaultVolumeFileMode         = 0o644
)

// defaultPodSpec applies the v1 pod defaults: restartPolicy Always,
// terminationGracePeriodSeconds 30, dnsPolicy ClusterFirst, the default
// scheduler, and the container, probe and volume defaults.
func defaultPodSpec(s *corev1.PodSpec) {
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.TerminationGracePeriodSeconds == nil {
		grace := int64(defaultTerminationGracePeriod)
		s.TerminationGracePeriodSeconds = &grace
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.SchedulerName == "" {
		s.SchedulerName = defaultSchedulerName
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
	for i := range s.Volumes {
		defaultVolume(&s.Volumes[i])
	}
}

// defaultContainer applies the v1 container defaults: the image pull policy
// (see pullPolicyFor), the termination message path and policy, port
// protocol TCP, the fieldRef apiVersion v1, and the probe and lifecycle
// handler defaults.
func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" && c.Image != "" {
		c.ImagePullPolicy = pullPolicyFor(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = defaultTerminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		if ref := envFieldRef(c.Env[i]); ref != nil && ref.APIVersion == "" {
			ref.APIVersion = "v1"
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		defaultProbe(p)
	}
	if c.Lifecycle != nil {
		defaultHandler(c.Lifecycle.PostStart)
		defaultHandler(c.Lifecycle.PreStop)
	}
}

// envFieldRef returns the fieldRef of an env var, if any.
func envFieldRef(e corev1.EnvVar) *corev1.ObjectFieldSelector {
	if e.ValueFrom == nil {
		return nil
	}
	return e.ValueFrom.FieldRef
}

// pullPolicyFor is Kubernetes' default image pull policy: Always for the
// "latest" tag or for an image with neither tag nor digest (which means
// latest), IfNotPresent otherwise.
func pullPolicyFor(image string) corev1.PullPolicy {
	name, digest, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	_, tag, hasTag := strings.Cut(name, ":")
	if tag == "latest" || (!hasTag && digest == "") {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// defaultProbe applies the v1 probe defaults: timeout 1 s, period 10 s,
// success threshold 1, failure threshold 3, and the HTTP handler defaults.
func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	defaultHTTPGet(p.HTTPGet)
}

// defaultHandler applies the defaults of a lifecycle hook.
func defaultHandler(h *corev1.LifecycleHandler) {
	if h != nil {
		defaultHTTPGet(h.HTTPGet)
	}
}

// defaultHTTPGet applies the v1 HTTPGetAction defaults: path "/" and scheme
// HTTP.
func defaultHTTPGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = corev1.URISchemeHTTP
	}
}

// defaultVolume applies the v1 volume defaults: file mode 0644 for Secret,
// ConfigMap, downward API and projected volumes.
func defaultVolume(v *corev1.Volume) {
	mode := func(p **int32) {
		if *p == nil {
			m := int32(defaultVolumeFileMode)
			*p = &m
		}
	}
	switch {
	case v.Secret != nil:
		mode(&v.Secret.DefaultMode)
	case v.ConfigMap != nil:
		mode(&v.ConfigMap.DefaultMode)
	case v.DownwardAPI != nil:
		mode(&v.DownwardAPI.DefaultMode)
	case v.Projected != nil:
		mode(&v.Projected.DefaultMode)
	}
}
