package config

import (
	"net"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podNames holds the names that must be unique across one pod.
type podNames struct {
	containers map[string]bool
	ports      map[string]bool
	volumes    map[string]bool
}

// validatePodSpec checks a defaulted pod spec: volumes, init containers and
// containers (names unique across both, port names unique in the pod), and
// the pod-level policies.
func validatePodSpec(s *corev1.PodSpec, path *field.Path) field.ErrorList {
	names := &podNames{containers: map[string]bool{}, ports: map[string]bool{}, volumes: map[string]bool{}}
	errs := validateVolumes(s.Volumes, path.Child("volumes"), names.volumes)
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), "a pod needs at least one container"))
	}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		errs = append(errs, validateContainer(c, path.Child("initContainers").Index(i), names)...)
		errs = append(errs, validateInitContainer(c, path.Child("initContainers").Index(i))...)
	}
	for i := range s.Containers {
		errs = append(errs, validateContainer(&s.Containers[i], path.Child("containers").Index(i), names)...)
	}
	errs = append(errs, validatePodPolicies(s, path)...)
	return append(errs, validatePodSecurity(s.SecurityContext, path.Child("securityContext"))...)
}

// validatePodPolicies checks the pod-level scalar fields.
func validatePodPolicies(s *corev1.PodSpec, path *field.Path) field.ErrorList {
	errs := oneOf(path.Child("restartPolicy"), s.RestartPolicy,
		corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)
	errs = append(errs, oneOf(path.Child("dnsPolicy"), s.DNSPolicy,
		corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone)...)
	errs = append(errs, nonNegativePtr(s.TerminationGracePeriodSeconds, path.Child("terminationGracePeriodSeconds"))...)
	if v := s.ActiveDeadlineSeconds; v != nil && *v < 1 {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *v, "must be at least 1"))
	}
	errs = append(errs, validateSelectorLabels(s.NodeSelector, path.Child("nodeSelector"))...)
	for _, sa := range []struct {
		name  string
		value string
	}{{"serviceAccountName", s.ServiceAccountName}, {"serviceAccount", s.DeprecatedServiceAccount}} {
		if sa.value != "" {
			errs = append(errs, invalidAll(path.Child(sa.name), sa.value, apivalidation.NameIsDNSSubdomain(sa.value, false))...)
		}
	}
	for i, ref := range s.ImagePullSecrets {
		if ref.Name == "" {
			errs = append(errs, field.Required(path.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	if s.Hostname != "" {
		errs = append(errs, invalidAll(path.Child("hostname"), s.Hostname, validation.IsDNS1123Label(s.Hostname))...)
	}
	if s.Subdomain != "" {
		errs = append(errs, invalidAll(path.Child("subdomain"), s.Subdomain, validation.IsDNS1123Label(s.Subdomain))...)
	}
	return errs
}

// validateContainer checks one container or init container.
func validateContainer(c *corev1.Container, path *field.Path, names *podNames) field.ErrorList {
	errs := validateContainerName(c.Name, path.Child("name"), names.containers)
	switch img := strings.TrimSpace(c.Image); {
	case img == "":
		errs = append(errs, field.Required(path.Child("image"), ""))
	case img != c.Image:
		errs = append(errs, field.Invalid(path.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, validatePorts(c.Ports, path.Child("ports"), names.ports)...)
	errs = append(errs, validateEnv(c.Env, path.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, path.Child("envFrom"))...)
	errs = append(errs, validateResources(&c.Resources, path.Child("resources"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, path.Child("volumeMounts"), names.volumes)...)
	errs = append(errs, validateProbe(c.LivenessProbe, path.Child("livenessProbe"), true)...)
	errs = append(errs, validateProbe(c.ReadinessProbe, path.Child("readinessProbe"), false)...)
	errs = append(errs, validateProbe(c.StartupProbe, path.Child("startupProbe"), true)...)
	errs = append(errs, validateLifecycle(c.Lifecycle, path.Child("lifecycle"))...)
	if c.ImagePullPolicy != "" {
		errs = append(errs, oneOf(path.Child("imagePullPolicy"), c.ImagePullPolicy,
			corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent)...)
	}
	errs = append(errs, oneOf(path.Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
		corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError)...)
	return append(errs, validateContainerSecurity(c.SecurityContext, path.Child("securityContext"))...)
}

// validateInitContainer refuses what Kubernetes refuses on init containers
// that are not sidecars: probes and lifecycle hooks.
func validateInitContainer(c *corev1.Container, path *field.Path) field.ErrorList {
	if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
		return nil
	}
	var errs field.ErrorList
	for name, set := range map[string]bool{
		"livenessProbe": c.LivenessProbe != nil, "readinessProbe": c.ReadinessProbe != nil,
		"startupProbe": c.StartupProbe != nil, "lifecycle": c.Lifecycle != nil,
	} {
		if set {
			errs = append(errs, field.Forbidden(path.Child(name), "may not be set for init containers"))
		}
	}
	return errs
}

// validateContainerName checks that a container name is a DNS label unique
// in the pod.
func validateContainerName(name string, path *field.Path, seen map[string]bool) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	errs := invalidAll(path, name, validation.IsDNS1123Label(name))
	if seen[name] {
		errs = append(errs, field.Duplicate(path, name))
	}
	seen[name] = true
	return errs
}

// validatePorts checks container ports: numbers 1..65535, IANA_SVC_NAME
// names unique in the pod, protocol TCP, UDP or SCTP.
func validatePorts(ports []corev1.ContainerPort, path *field.Path, seen map[string]bool) field.ErrorList {
	var errs field.ErrorList
	for i, p := range ports {
		pp := path.Index(i)
		if p.Name != "" {
			errs = append(errs, invalidAll(pp.Child("name"), p.Name, validation.IsValidPortName(p.Name))...)
			if seen[p.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			seen[p.Name] = true
		}
		errs = append(errs, invalidAll(pp.Child("containerPort"), p.ContainerPort, validation.IsValidPortNum(int(p.ContainerPort)))...)
		if p.HostPort != 0 {
			errs = append(errs, invalidAll(pp.Child("hostPort"), p.HostPort, validation.IsValidPortNum(int(p.HostPort)))...)
		}
		if p.HostIP != "" && net.ParseIP(p.HostIP) == nil {
			errs = append(errs, field.Invalid(pp.Child("hostIP"), p.HostIP, "must be a valid IP address"))
		}
		errs = append(errs, oneOf(pp.Child("protocol"), p.Protocol, corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
	}
	return errs
}

// oneOf reports a value outside an enumeration.
func oneOf[T ~string](path *field.Path, v T, allowed ...T) field.ErrorList {
	if slices.Contains(allowed, v) {
		return nil
	}
	return field.ErrorList{field.NotSupported(path, v, allowed)}
}

// validatePortNumOrName checks a port given as a number (1..65535) or as
// the name of a container port (IANA_SVC_NAME).
func validatePortNumOrName(port intIsh, path *field.Path) field.ErrorList {
	if port.isName {
		return invalidAll(path, port.name, validation.IsValidPortName(port.name))
	}
	return invalidAll(path, port.num, validation.IsValidPortNum(port.num))
}

// intIsh is an IntOrString port, unpacked.
type intIsh struct {
	isName bool
	name   string
	num    int
}
