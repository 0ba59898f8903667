package config

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateEnv checks environment variables: names valid (IsEnvVarName) and
// at most one source each.
func validateEnv(env []corev1.EnvVar, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ep := path.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			errs = append(errs, invalidAll(ep.Child("name"), ev.Name, validation.IsEnvVarName(ev.Name))...)
		}
		errs = append(errs, validateEnvSource(ev, ep.Child("valueFrom"))...)
	}
	return errs
}

// validateEnvSource checks env[*].valueFrom: exactly one source, with the
// names and keys it needs.
func validateEnvSource(ev corev1.EnvVar, path *field.Path) field.ErrorList {
	s := ev.ValueFrom
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	if ev.Value != "" {
		errs = append(errs, field.Invalid(path, "", "may not be specified when `value` is not empty"))
	}
	switch countSet(s.FieldRef != nil, s.ResourceFieldRef != nil, s.ConfigMapKeyRef != nil, s.SecretKeyRef != nil, s.FileKeyRef != nil) {
	case 0:
		errs = append(errs, field.Invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case 1:
	default:
		errs = append(errs, field.Invalid(path, "", "may not have more than one field specified at a time"))
	}
	if r := s.FieldRef; r != nil && r.FieldPath == "" {
		errs = append(errs, field.Required(path.Child("fieldRef", "fieldPath"), ""))
	}
	if r := s.ResourceFieldRef; r != nil && r.Resource == "" {
		errs = append(errs, field.Required(path.Child("resourceFieldRef", "resource"), ""))
	}
	if r := s.ConfigMapKeyRef; r != nil {
		errs = append(errs, validateKeyRef(r.Name, r.Key, path.Child("configMapKeyRef"))...)
	}
	if r := s.SecretKeyRef; r != nil {
		errs = append(errs, validateKeyRef(r.Name, r.Key, path.Child("secretKeyRef"))...)
	}
	return errs
}

// validateKeyRef checks a reference to one key of a ConfigMap or Secret.
func validateKeyRef(name, key string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	if key == "" {
		return append(errs, field.Required(path.Child("key"), ""))
	}
	return append(errs, invalidAll(path.Child("key"), key, validation.IsConfigMapKey(key))...)
}

// validateEnvFrom checks envFrom: one ConfigMap or Secret each, by name,
// with a valid prefix.
func validateEnvFrom(from []corev1.EnvFromSource, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range from {
		fp := path.Index(i)
		if f.Prefix != "" {
			errs = append(errs, invalidAll(fp.Child("prefix"), f.Prefix, validation.IsEnvVarName(f.Prefix))...)
		}
		switch countSet(f.ConfigMapRef != nil, f.SecretRef != nil) {
		case 0:
			errs = append(errs, field.Invalid(fp, "", "must specify one of: `configMapRef` or `secretRef`"))
		case 2:
			errs = append(errs, field.Invalid(fp, "", "may not have more than one field specified at a time"))
		}
		if f.ConfigMapRef != nil && f.ConfigMapRef.Name == "" {
			errs = append(errs, field.Required(fp.Child("configMapRef", "name"), ""))
		}
		if f.SecretRef != nil && f.SecretRef.Name == "" {
			errs = append(errs, field.Required(fp.Child("secretRef", "name"), ""))
		}
	}
	return errs
}

// validateResources checks requests and limits: known or extended resource
// names, non-negative quantities, and each request at most its limit.
func validateResources(r *corev1.ResourceRequirements, path *field.Path) field.ErrorList {
	errs := validateResourceList(r.Limits, path.Child("limits"))
	errs = append(errs, validateResourceList(r.Requests, path.Child("requests"))...)
	for _, name := range sortedKeys(r.Requests) {
		req := r.Requests[corev1.ResourceName(name)]
		limit, ok := r.Limits[corev1.ResourceName(name)]
		if ok && req.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(path.Child("requests").Key(name), req.String(),
				"must be less than or equal to "+name+" limit of "+limit.String()))
		}
	}
	return errs
}

// validateResourceList checks the names and values of a container's
// requests or limits.
func validateResourceList(list corev1.ResourceList, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(list) {
		q := list[corev1.ResourceName(name)]
		kp := path.Key(name)
		if !isContainerResource(name) {
			errs = append(errs, field.Invalid(kp, name, "must be a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) or an extended resource (example.com/name)"))
		}
		errs = append(errs, nonNegativeQuantity(q, kp)...)
	}
	return errs
}

// isContainerResource reports whether a container may request a resource:
// the standard ones, or an extended resource with a domain other than
// kubernetes.io.
func isContainerResource(name string) bool {
	switch {
	case name == "cpu" || name == "memory" || name == "ephemeral-storage":
		return true
	case strings.HasPrefix(name, "hugepages-"):
		return true
	}
	domain, _, ok := strings.Cut(name, "/")
	return ok && len(validation.IsQualifiedName(name)) == 0 &&
		domain != "kubernetes.io" && !strings.HasSuffix(domain, ".kubernetes.io") && domain != "requests"
}

// nonNegativeQuantity reports a negative quantity.
func nonNegativeQuantity(q resource.Quantity, path *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(path, q.String(), "must be greater than or equal to 0")}
	}
	return nil
}

// validateProbe checks a probe: exactly one handler, non-negative timings,
// and a success threshold of 1 for liveness and startup probes.
func validateProbe(p *corev1.Probe, path *field.Path, mustSucceedOnce bool) field.ErrorList {
	if p == nil {
		return nil
	}
	h := p.ProbeHandler
	errs := validateHandler(path, h.Exec, h.HTTPGet, h.TCPSocket, countSet(h.GRPC != nil))
	if h.GRPC != nil {
		errs = append(errs, invalidAll(path.Child("grpc", "port"), h.GRPC.Port, validation.IsValidPortNum(int(h.GRPC.Port)))...)
	}
	for name, v := range map[string]int32{
		"initialDelaySeconds": p.InitialDelaySeconds, "timeoutSeconds": p.TimeoutSeconds,
		"periodSeconds": p.PeriodSeconds, "successThreshold": p.SuccessThreshold, "failureThreshold": p.FailureThreshold,
	} {
		errs = append(errs, nonNegative(int64(v), path.Child(name))...)
	}
	errs = append(errs, nonNegativePtr(p.TerminationGracePeriodSeconds, path.Child("terminationGracePeriodSeconds"))...)
	if mustSucceedOnce && p.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(path.Child("successThreshold"), p.SuccessThreshold, "must be 1"))
	}
	return errs
}

// validateLifecycle checks postStart and preStop hooks.
func validateLifecycle(l *corev1.Lifecycle, path *field.Path) field.ErrorList {
	if l == nil {
		return nil
	}
	var errs field.ErrorList
	for name, h := range map[string]*corev1.LifecycleHandler{"postStart": l.PostStart, "preStop": l.PreStop} {
		if h == nil {
			continue
		}
		hp := path.Child(name)
		errs = append(errs, validateHandler(hp, h.Exec, h.HTTPGet, h.TCPSocket, countSet(h.Sleep != nil))...)
		if h.Sleep != nil {
			errs = append(errs, nonNegative(h.Sleep.Seconds, hp.Child("sleep", "seconds"))...)
		}
	}
	return errs
}

// validateHandler checks that exactly one handler is given (others counts
// the handler kinds not passed here) and checks the common ones.
func validateHandler(path *field.Path, exec *corev1.ExecAction, get *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction, others int) field.ErrorList {
	var errs field.ErrorList
	switch countSet(exec != nil, get != nil, tcp != nil) + others {
	case 0:
		errs = append(errs, field.Required(path, "must specify a handler type"))
	case 1:
	default:
		errs = append(errs, field.Forbidden(path, "may not specify more than 1 handler type"))
	}
	if exec != nil && len(exec.Command) == 0 {
		errs = append(errs, field.Required(path.Child("exec", "command"), ""))
	}
	if get != nil {
		errs = append(errs, validatePortNumOrName(unpackPort(get.Port), path.Child("httpGet", "port"))...)
		errs = append(errs, oneOf(path.Child("httpGet", "scheme"), get.Scheme, corev1.URISchemeHTTP, corev1.URISchemeHTTPS)...)
	}
	if tcp != nil {
		errs = append(errs, validatePortNumOrName(unpackPort(tcp.Port), path.Child("tcpSocket", "port"))...)
	}
	return errs
}

// unpackPort reads an IntOrString port.
func unpackPort(p intstr.IntOrString) intIsh {
	if p.Type == intstr.String {
		return intIsh{isName: true, name: p.StrVal}
	}
	return intIsh{num: int(p.IntVal)}
}

// countSet counts the true values.
func countSet(set ...bool) int {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	return n
}
