package executor

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/runtime"
)

// containerResources reads a container's requests and limits into the
// engine's units. A limit without a request requests the limit, as
// Kubernetes defaults it.
func containerResources(c *corev1.Container) runtime.Resources {
	var r runtime.Resources
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		r.CPULimitMilli = q.MilliValue()
	}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		r.MemoryLimit = q.Value()
	}
	r.CPURequestMilli, r.MemoryRequest = r.CPULimitMilli, r.MemoryLimit
	if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		r.CPURequestMilli = q.MilliValue()
	}
	if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
		r.MemoryRequest = q.Value()
	}
	return r
}

// containerSecurity merges the pod's securityContext with the container's
// (the container's fields win), as the kubelet does. fsGroup and
// supplementalGroups become the process's supplementary groups.
func containerSecurity(spec *corev1.PodSpec, c *corev1.Container) runtime.Security {
	var s runtime.Security
	if p := spec.SecurityContext; p != nil {
		s.RunAsUser, s.RunAsGroup = p.RunAsUser, p.RunAsGroup
		s.RunAsNonRoot = p.RunAsNonRoot != nil && *p.RunAsNonRoot
		if p.FSGroup != nil {
			s.SupplementalGroups = append(s.SupplementalGroups, *p.FSGroup)
		}
		s.SupplementalGroups = append(s.SupplementalGroups, p.SupplementalGroups...)
	}
	sc := c.SecurityContext
	if sc == nil {
		return s
	}
	if sc.RunAsUser != nil {
		s.RunAsUser = sc.RunAsUser
	}
	if sc.RunAsGroup != nil {
		s.RunAsGroup = sc.RunAsGroup
	}
	if sc.RunAsNonRoot != nil {
		s.RunAsNonRoot = *sc.RunAsNonRoot
	}
	s.ReadOnlyRootFS = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
	s.NoNewPrivileges = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	s.Privileged = sc.Privileged != nil && *sc.Privileged
	if caps := sc.Capabilities; caps != nil {
		for _, c := range caps.Add {
			s.CapAdd = append(s.CapAdd, capName(c))
		}
		for _, c := range caps.Drop {
			s.CapDrop = append(s.CapDrop, capName(c))
		}
	}
	return s
}

// capName gives a Kubernetes capability name (NET_ADMIN, or ALL) the
// engine's CAP_ prefix.
func capName(c corev1.Capability) string {
	if c == "ALL" || len(c) > 4 && c[:4] == "CAP_" {
		return string(c)
	}
	return "CAP_" + string(c)
}

// serviceAccount is the pod's service account name (recorded; no token is
// mounted).
func serviceAccount(spec *corev1.PodSpec) string {
	if spec.ServiceAccountName != "" {
		return spec.ServiceAccountName
	}
	if spec.DeprecatedServiceAccount != "" {
		return spec.DeprecatedServiceAccount
	}
	return "default"
}
