package config

import (
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Node ports must lie in Kubernetes' default service-node-port-range.
const (
	minNodePort = 30000
	maxNodePort = 32767
)

// validateService checks a v1 Service spec: type, ports, selector, session
// affinity and cluster IP.
func validateService(s *corev1.ServiceSpec, path *field.Path) field.ErrorList {
	errs := oneOf(path.Child("type"), s.Type, corev1.ServiceTypeClusterIP,
		corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName)
	if s.Type == corev1.ServiceTypeExternalName {
		errs = append(errs, validateExternalName(s.ExternalName, path.Child("externalName"))...)
	} else if len(s.Ports) == 0 && s.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(path.Child("ports"), ""))
	}
	errs = append(errs, validateServicePorts(s, path.Child("ports"))...)
	errs = append(errs, validateSelectorLabels(s.Selector, path.Child("selector"))...)
	errs = append(errs, oneOf(path.Child("sessionAffinity"), s.SessionAffinity,
		corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone)...)
	if ip := s.ClusterIP; ip != "" && ip != corev1.ClusterIPNone && net.ParseIP(ip) == nil {
		errs = append(errs, field.Invalid(path.Child("clusterIP"), ip, `must be empty, "None", or a valid IP address`))
	}
	if p := s.ExternalTrafficPolicy; p != "" {
		errs = append(errs, oneOf(path.Child("externalTrafficPolicy"), p,
			corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal)...)
	}
	return errs
}

// validateExternalName checks the DNS name of an ExternalName Service.
func validateExternalName(name string, path *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	return invalidAll(path, name, validation.IsDNS1123Subdomain(name))
}

// validateServicePorts checks each port: number 1..65535, a DNS-label name
// (required and unique when there is more than one port), protocol, target
// port, node port, and no port/protocol pair twice.
func validateServicePorts(s *corev1.ServiceSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	pairs := map[string]bool{}
	for i, p := range s.Ports {
		pp := path.Index(i)
		switch {
		case p.Name == "" && len(s.Ports) > 1:
			errs = append(errs, field.Required(pp.Child("name"), "a name is required when a Service has more than one port"))
		case p.Name != "":
			errs = append(errs, invalidAll(pp.Child("name"), p.Name, validation.IsDNS1123Label(p.Name))...)
			if names[p.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			names[p.Name] = true
		}
		errs = append(errs, invalidAll(pp.Child("port"), p.Port, validation.IsValidPortNum(int(p.Port)))...)
		errs = append(errs, oneOf(pp.Child("protocol"), p.Protocol, corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
		if p.TargetPort != intstr.FromInt32(p.Port) { // a defaulted targetPort repeats any port error
			errs = append(errs, validatePortNumOrName(unpackPort(p.TargetPort), pp.Child("targetPort"))...)
		}
		errs = append(errs, validateNodePort(p.NodePort, s.Type, pp.Child("nodePort"))...)
		pair := strconv.Itoa(int(p.Port)) + "/" + string(p.Protocol)
		if pairs[pair] {
			errs = append(errs, field.Duplicate(pp, pair))
		}
		pairs[pair] = true
	}
	return errs
}

// validateNodePort checks a node port: only on NodePort and LoadBalancer
// Services, within 30000..32767.
func validateNodePort(port int32, typ corev1.ServiceType, path *field.Path) field.ErrorList {
	if port == 0 {
		return nil
	}
	if typ != corev1.ServiceTypeNodePort && typ != corev1.ServiceTypeLoadBalancer {
		return field.ErrorList{field.Forbidden(path, "may not be used when `type` is '"+string(typ)+"'")}
	}
	return invalidAll(path, port, validation.IsInRange(int(port), minNodePort, maxNodePort))
}
