package config

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"
)

// portClashes reports Service ports that would need the same host socket:
// every TCP port of a Service with a cluster IP is also served on the host
// loopback, so two Services (in any namespaces) cannot share a port
// number, and an explicit nodePort can belong to one Service port only.
// The later declaration gets the error, naming the first.
func portClashes(objs []Object) []*FieldError {
	type owner struct {
		name string
		src  Source
	}
	first := map[string]owner{}
	var errs []*FieldError
	claim := func(o Object, key, fieldPath, what string) {
		name := path.Join(o.Key.Namespace, o.Key.Name)
		if prev, taken := first[key]; taken && prev.name != name {
			errs = append(errs, &FieldError{Source: o.Source, Field: fieldPath,
				Msg: fmt.Sprintf("%s clashes with Service %q (%s), which already uses it", what, prev.name, prev.src)})
			return
		}
		first[key] = owner{name, o.Source}
	}
	for _, o := range objs {
		s, ok := o.Obj.(*corev1.Service)
		if !ok || s.Spec.Type == corev1.ServiceTypeExternalName || s.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		for i, p := range s.Spec.Ports {
			if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				continue
			}
			claim(o, fmt.Sprintf("port/%d", p.Port), fmt.Sprintf("spec.ports[%d].port", i), fmt.Sprintf("port %d", p.Port))
			if p.NodePort != 0 {
				claim(o, fmt.Sprintf("nodePort/%d", p.NodePort), fmt.Sprintf("spec.ports[%d].nodePort", i),
					fmt.Sprintf("nodePort %d", p.NodePort))
			}
		}
	}
	return errs
}
