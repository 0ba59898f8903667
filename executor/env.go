package executor

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/reconciler/reconciler/runtime"
)

// podFacts are the values a container may read through fieldRef.
type podFacts struct {
	Name, Namespace, Node, ServiceAccount string
	Labels, Annotations                   map[string]string
	// IP returns the pod's address (looked up only when asked for).
	IP     func() (string, error)
	HostIP string
}

// containerEnv resolves a container's environment as the kubelet does: the
// Service variables, then envFrom sources in order (a prefix before each
// key; keys that are not valid names are skipped), then env entries, each
// value with $(VAR) expanded against the variables defined before it. A
// reference to a ConfigMap, Secret or key that does not exist is an error
// unless marked optional.
func containerEnv(c *corev1.Container, base []runtime.EnvVar, pod podFacts, data *podData) ([]runtime.EnvVar, error) {
	env := newEnvList(base)
	for _, src := range c.EnvFrom {
		kv, err := envFromSource(src, pod.Namespace, data)
		if err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(kv) {
			env.set(src.Prefix+k, kv[k])
		}
	}
	for _, ev := range c.Env {
		if ev.ValueFrom == nil {
			env.set(ev.Name, Expand(ev.Value, env.lookup))
			continue
		}
		v, ok, err := envValueFrom(ev.ValueFrom, c, pod, data)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", ev.Name, err)
		}
		if ok {
			env.set(ev.Name, v)
		}
	}
	return env.vars, nil
}

// envList is an ordered environment in which a later value replaces an
// earlier one in place.
type envList struct {
	vars  []runtime.EnvVar
	index map[string]int
}

func newEnvList(base []runtime.EnvVar) *envList {
	l := &envList{index: map[string]int{}}
	for _, v := range base {
		l.set(v.Name, v.Value)
	}
	return l
}

func (l *envList) set(name, value string) {
	if i, ok := l.index[name]; ok {
		l.vars[i].Value = value
		return
	}
	l.index[name] = len(l.vars)
	l.vars = append(l.vars, runtime.EnvVar{Name: name, Value: value})
}

func (l *envList) lookup(name string) (string, bool) {
	i, ok := l.index[name]
	if !ok {
		return "", false
	}
	return l.vars[i].Value, true
}

// envFromSource reads every key of an envFrom ConfigMap or Secret.
func envFromSource(src corev1.EnvFromSource, ns string, data *podData) (map[string]string, error) {
	switch {
	case src.ConfigMapRef != nil:
		cm, err := data.configMap(ns, src.ConfigMapRef.Name, src.ConfigMapRef.Optional)
		if err != nil || cm == nil {
			return nil, err
		}
		out := make(map[string]string, len(cm.Data))
		for k, v := range cm.Data {
			if validEnvName(k) {
				out[k] = v
			}
		}
		return out, nil
	case src.SecretRef != nil:
		s, err := data.secret(ns, src.SecretRef.Name, src.SecretRef.Optional)
		if err != nil || s == nil {
			return nil, err
		}
		out := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			if validEnvName(k) {
				out[k] = string(v)
			}
		}
		return out, nil
	}
	return nil, nil
}

// envValueFrom resolves one valueFrom; ok is false when an optional source
// is missing (the variable is then not set).
func envValueFrom(vf *corev1.EnvVarSource, c *corev1.Container, pod podFacts, data *podData) (string, bool, error) {
	switch {
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		cm, err := data.configMap(pod.Namespace, r.Name, r.Optional)
		if err != nil || cm == nil {
			return "", false, err
		}
		if v, ok := cm.Data[r.Key]; ok {
			return v, true, nil
		}
		if v, ok := cm.BinaryData[r.Key]; ok {
			return string(v), true, nil
		}
		return "", false, missingKey("configmap", r.Name, r.Key, r.Optional)
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		s, err := data.secret(pod.Namespace, r.Name, r.Optional)
		if err != nil || s == nil {
			return "", false, err
		}
		if v, ok := s.Data[r.Key]; ok {
			return string(v), true, nil
		}
		return "", false, missingKey("secret", r.Name, r.Key, r.Optional)
	case vf.FieldRef != nil:
		v, err := fieldValue(vf.FieldRef.FieldPath, pod)
		return v, err == nil, err
	case vf.ResourceFieldRef != nil:
		v, err := resourceValue(vf.ResourceFieldRef, c)
		return v, err == nil, err
	}
	return "", false, nil
}

func missingKey(kind, name, key string, optional *bool) error {
	if optional != nil && *optional {
		return nil
	}
	return fmt.Errorf("couldn't find key %s in %s %q", key, kind, name)
}

// fieldValue reads a pod field for the downward API.
func fieldValue(path string, pod podFacts) (string, error) {
	if k, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Node, nil
	case "spec.serviceAccountName":
		return pod.ServiceAccount, nil
	case "status.hostIP":
		return pod.HostIP, nil
	case "status.podIP":
		return pod.IP()
	}
	return "", fmt.Errorf("fieldRef %q is not supported", path)
}

// subscript splits "metadata.labels['key']" into key.
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}

// formatMap renders labels or annotations as the downward API's files do:
// key="value" lines, sorted.
func formatMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// resourceValue reads a container's resource for the downward API, in the
// divisor's units rounded up (default divisor 1).
func resourceValue(r *corev1.ResourceFieldSelector, c *corev1.Container) (string, error) {
	var q resource.Quantity
	switch r.Resource {
	case "limits.cpu":
		q = c.Resources.Limits[corev1.ResourceCPU]
	case "limits.memory":
		q = c.Resources.Limits[corev1.ResourceMemory]
	case "requests.cpu":
		q = c.Resources.Requests[corev1.ResourceCPU]
	case "requests.memory":
		q = c.Resources.Requests[corev1.ResourceMemory]
	default:
		return "", fmt.Errorf("resourceFieldRef %q is not supported", r.Resource)
	}
	div := r.Divisor
	if div.IsZero() {
		div = resource.MustParse("1")
	}
	v := (q.MilliValue() + div.MilliValue() - 1) / div.MilliValue()
	return strconv.FormatInt(v, 10), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validEnvName reports whether an envFrom key can be a variable name
// (Kubernetes skips the others).
func validEnvName(k string) bool { return len(validation.IsEnvVarName(k)) == 0 }

// Expand replaces $(VAR) in s with the value lookup gives, as Kubernetes
// expands command, args and env values: $$ is an escaped $, and a reference
// to an undefined variable (or an unclosed one) is kept as written.
func Expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok && name != "" {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
