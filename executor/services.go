package executor

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/lb"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/svcnet"
)

// AnnotationLBPolicy on a Service selects the balancing policy of its HTTP
// ports: "round-robin" (the default) or "least-requests".
const AnnotationLBPolicy = "reconciler.io/lb-policy"

// defaultAffinityTimeout is Kubernetes' ClientIP affinity timeout.
const defaultAffinityTimeout = 10800 * time.Second

// ServicePlane is what the loop needs from the Services' data plane
// (svcnet.Plane): addresses, the cluster DNS, and the proxy's endpoints.
type ServicePlane interface {
	// Assign allocates cluster IPs and node ports; it is pure.
	Assign(reqs []svcnet.Request) map[string]svcnet.Assignment
	// DNSServer is the resolver pods get with dnsPolicy ClusterFirst.
	DNSServer() netip.Addr
	// Update applies the full set of Services with their ready endpoints.
	Update(ctx context.Context, svcs []svcnet.Service) error
	// Drain waits until nothing is in flight to the pods' endpoints.
	Drain(ctx context.Context, keys ...string)
}

// serviceView is a Service with its allocation, as the loop uses it.
type serviceView struct {
	svc *corev1.Service
	as  svcnet.Assignment
}

// services lists the desired Services with their allocations, sorted.
func (e *Executor) services(d *config.Desired) []serviceView {
	var views []serviceView
	var reqs []svcnet.Request
	for _, o := range d.Objects {
		s, ok := o.Obj.(*corev1.Service)
		if !ok {
			continue
		}
		r := svcnet.Request{Namespace: s.Namespace, Name: s.Name, ClusterIP: s.Spec.ClusterIP}
		want := s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer
		for _, p := range s.Spec.Ports {
			r.Ports = append(r.Ports, svcnet.PortRequest{Name: p.Name, NodePort: p.NodePort, WantNodePort: want})
		}
		if s.Spec.Type == corev1.ServiceTypeExternalName {
			r.ClusterIP = corev1.ClusterIPNone
		}
		reqs = append(reqs, r)
		views = append(views, serviceView{svc: s})
	}
	as := e.opt.Services.Assign(reqs)
	for i := range views {
		views[i].as = as[views[i].svc.Namespace+"/"+views[i].svc.Name]
	}
	sort.Slice(views, func(i, j int) bool {
		a, b := views[i].svc, views[j].svc
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	return views
}

// syncServices computes every Service's ready endpoints from the
// observation and hands them to the plane. A pod is an endpoint while it
// is not terminating and all its containers are running and ready.
func (e *Executor) syncServices(ctx context.Context, obs *runtime.Observed, tmpls map[string]*corev1.PodTemplateSpec) {
	if e.opt.Services == nil {
		return
	}
	views := e.services(e.desired)
	states := make([]svcnet.Service, 0, len(views))
	for _, v := range views {
		states = append(states, e.serviceState(v, obs, tmpls))
	}
	names := make(map[string]string, len(obs.Pods))
	for i := range obs.Pods {
		names[obs.Pods[i].ID] = obs.Pods[i].Name
	}
	e.mu.Lock()
	e.localStates, e.localNames = states, maps.Clone(names)
	e.mu.Unlock()
	e.svcViews, e.svcStates, e.podNames = views, withRemoteEndpoints(states, views, e.peerReports(), names), names
	e.pushServices(ctx)
}

// pushServices hands the current states to the plane, reporting a new
// error once.
func (e *Executor) pushServices(ctx context.Context) {
	err := e.opt.Services.Update(ctx, e.svcStates)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg != e.svcErr && msg != "" {
		e.events.record(e.opt.Now(), Warning, "ServiceUnavailable", "services", msg)
	}
	e.svcErr = msg
	e.setStatus(func(s *Status) {
		s.ServiceError = msg
		s.Endpoints = endpointsStatus(e.svcViews, e.svcStates, e.podNames)
	})
}

// withoutEndpoints takes a pod out of every endpoint set at once, before it
// is stopped, so no new request reaches it while it drains.
func (e *Executor) withoutEndpoints(ctx context.Context, podID string) {
	if e.opt.Services == nil {
		return
	}
	changed := false
	for i := range e.svcStates {
		ports := e.svcStates[i].Ports
		for j := range ports {
			eps := ports[j].Endpoints[:0:0]
			for _, ep := range ports[j].Endpoints {
				if ep.Key != podID {
					eps = append(eps, ep)
				}
			}
			changed = changed || len(eps) != len(ports[j].Endpoints)
			ports[j].Endpoints = eps
		}
	}
	if changed {
		e.mu.Lock()
		e.localStates = withoutPod(e.localStates, podID)
		e.mu.Unlock()
		e.pushServices(ctx)
	}
}

// withoutPod returns states without the pod's endpoints; states is not
// changed (PeerReport may be reading it).
func withoutPod(states []svcnet.Service, podID string) []svcnet.Service {
	out := make([]svcnet.Service, len(states))
	for i, s := range states {
		out[i] = s
		out[i].Ports = make([]lb.Port, len(s.Ports))
		for j, p := range s.Ports {
			eps := p.Endpoints[:0:0]
			for _, ep := range p.Endpoints {
				if ep.Key != podID {
					eps = append(eps, ep)
				}
			}
			p.Endpoints = eps
			out[i].Ports[j] = p
		}
	}
	return out
}

// serviceState builds one Service's plane state.
func (e *Executor) serviceState(v serviceView, obs *runtime.Observed, tmpls map[string]*corev1.PodTemplateSpec) svcnet.Service {
	s := v.svc
	st := svcnet.Service{Namespace: s.Namespace, Name: s.Name, ClusterIP: v.as.ClusterIP, ExternalName: s.Spec.ExternalName}
	if s.Annotations[AnnotationLBPolicy] == "least-requests" {
		st.Policy = lb.PolicyLeastRequests
	}
	if s.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		st.AffinityTimeout = defaultAffinityTimeout
		if c := s.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			st.AffinityTimeout = time.Duration(*c.ClientIP.TimeoutSeconds) * time.Second
		}
	}
	var pods []*runtime.Pod
	if len(s.Spec.Selector) > 0 {
		sel := labels.SelectorFromSet(s.Spec.Selector)
		for i := range obs.Pods {
			p := &obs.Pods[i]
			if p.Namespace == s.Namespace && sel.Matches(labels.Set(p.Labels)) && podReady(p) {
				pods = append(pods, p)
			}
		}
	}
	for i, sp := range s.Spec.Ports {
		if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
			continue // the proxy serves TCP only; config reports it
		}
		port := lb.Port{Name: sp.Name, Port: sp.Port, Protocol: portProtocol(sp)}
		if i < len(v.as.NodePorts) {
			port.NodePort = v.as.NodePorts[i]
		}
		for _, p := range pods {
			if addr, ok := endpointAddr(p, sp.TargetPort, tmpls); ok {
				port.Endpoints = append(port.Endpoints, lb.Endpoint{Key: p.ID, Addr: addr})
			}
		}
		st.Ports = append(st.Ports, port)
	}
	return st
}

// podReady is Kubernetes' pod Ready condition as the proxy needs it.
func podReady(p *runtime.Pod) bool {
	if p.Terminating || len(p.Containers) == 0 {
		return false
	}
	seen := map[string]bool{}
	for i := range p.Containers {
		name := p.Containers[i].Name
		if seen[name] {
			continue
		}
		seen[name] = true
		c := p.Current(name)
		if c.State != runtime.StateRunning || !c.Ready {
			return false
		}
	}
	return true
}

// portProtocol says how the proxy serves a Service port: HTTP-aware when
// its name or appProtocol says http, h2c upstream for kubernetes.io/h2c,
// plain TCP otherwise.
func portProtocol(p corev1.ServicePort) lb.Protocol {
	app := ""
	if p.AppProtocol != nil {
		app = strings.ToLower(*p.AppProtocol)
	}
	switch {
	case app == "kubernetes.io/h2c":
		return lb.ProtocolH2C
	case app == "http" || app == "kubernetes.io/http" || p.Name == "http" || strings.HasPrefix(p.Name, "http-"):
		return lb.ProtocolHTTP
	}
	return lb.ProtocolTCP
}

// endpointAddr finds where the proxy reaches a pod's target port: the
// engine's published address of that container port. A named target port
// is looked up in the pod's own template.
func endpointAddr(p *runtime.Pod, target intstr.IntOrString, tmpls map[string]*corev1.PodTemplateSpec) (string, bool) {
	num := target.IntVal
	if target.Type == intstr.String {
		num = 0
		if t := tmpls[templateKey(p.Namespace, p.Owner.Kind, p.Owner.Name, p.TemplateHash)]; t != nil {
			for _, c := range t.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name == target.StrVal && (cp.Protocol == "" || cp.Protocol == corev1.ProtocolTCP) {
						num = cp.ContainerPort
					}
				}
			}
		}
	}
	for _, b := range p.Ports {
		if b.ContainerPort == num && b.Protocol == "TCP" && b.HostPort != 0 {
			return b.HostIP + ":" + strconv.Itoa(int(b.HostPort)), true
		}
	}
	return "", false
}

// serviceEnv is the Kubernetes service environment of a container in ns:
// {NAME}_SERVICE_HOST and _PORT for every Service with a cluster IP in the
// namespace and, with service links enabled, the Docker link variables.
func serviceEnv(views []serviceView, ns string, links bool) []runtime.EnvVar {
	var env []runtime.EnvVar
	add := func(k, v string) { env = append(env, runtime.EnvVar{Name: k, Value: v}) }
	for _, v := range views {
		s := v.svc
		if s.Namespace != ns || !v.as.ClusterIP.IsValid() || len(s.Spec.Ports) == 0 {
			continue
		}
		name := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
		ip := v.as.ClusterIP.String()
		add(name+"_SERVICE_HOST", ip)
		add(name+"_SERVICE_PORT", strconv.Itoa(int(s.Spec.Ports[0].Port)))
		for _, p := range s.Spec.Ports {
			if p.Name != "" {
				add(name+"_SERVICE_PORT_"+strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_")), strconv.Itoa(int(p.Port)))
			}
		}
		if !links {
			continue
		}
		first := s.Spec.Ports[0]
		add(name+"_PORT", fmt.Sprintf("%s://%s:%d", strings.ToLower(protoOf(first)), ip, first.Port))
		for _, p := range s.Spec.Ports {
			pre := fmt.Sprintf("%s_PORT_%d_%s", name, p.Port, protoOf(p))
			add(pre, fmt.Sprintf("%s://%s:%d", strings.ToLower(protoOf(p)), ip, p.Port))
			add(pre+"_PROTO", strings.ToLower(protoOf(p)))
			add(pre+"_PORT", strconv.Itoa(int(p.Port)))
			add(pre+"_ADDR", ip)
		}
	}
	return env
}

func protoOf(p corev1.ServicePort) string {
	if p.Protocol == "" {
		return "TCP"
	}
	return string(p.Protocol)
}

// podDNS is the resolver configuration of a pod: the cluster DNS with
// Kubernetes' search list for dnsPolicy ClusterFirst (the default), the
// host's for Default.
func (e *Executor) podDNS(spec *corev1.PodSpec, ns string) *runtime.DNSConfig {
	var d *runtime.DNSConfig
	if e.opt.Services != nil && spec.DNSPolicy != corev1.DNSDefault && spec.DNSPolicy != corev1.DNSNone {
		d = &runtime.DNSConfig{
			Servers: []string{e.opt.Services.DNSServer().String()},
			Searches: []string{ns + ".svc." + svcnet.ClusterDomain, "svc." + svcnet.ClusterDomain,
				svcnet.ClusterDomain},
			Options: []string{"ndots:5"},
		}
	}
	return withDNSConfig(d, spec)
}

// withDNSConfig applies a pod's dnsConfig as Kubernetes does: its
// nameservers and searches are added to the policy's (with dnsPolicy None,
// they are all there is), its options override the policy's by name.
func withDNSConfig(d *runtime.DNSConfig, spec *corev1.PodSpec) *runtime.DNSConfig {
	c := spec.DNSConfig
	if spec.DNSPolicy == corev1.DNSNone {
		d = &runtime.DNSConfig{}
	}
	if c == nil {
		return d
	}
	if d == nil {
		d = &runtime.DNSConfig{}
	}
	d.Servers = append(d.Servers, c.Nameservers...)
	d.Searches = append(d.Searches, c.Searches...)
	for _, o := range c.Options {
		opt := o.Name
		if o.Value != nil {
			opt += ":" + *o.Value
		}
		replaced := false
		for i, cur := range d.Options {
			if name, _, _ := strings.Cut(cur, ":"); name == o.Name {
				d.Options[i], replaced = opt, true
			}
		}
		if !replaced {
			d.Options = append(d.Options, opt)
		}
	}
	return d
}

// drainThenRemove takes a pod out of the Services, waits for its in-flight
// requests within the grace period, then stops it with what is left of
// the grace period (at least a second for SIGTERM).
func (e *Executor) drainThenRemove(ctx context.Context, id string, grace time.Duration) error {
	if e.opt.Services != nil {
		start := time.Now()
		dctx, cancel := context.WithTimeout(ctx, grace)
		e.opt.Services.Drain(dctx, id)
		if e.opt.Peers != nil { // other nodes' proxies learn it is leaving
			t := time.NewTimer(e.opt.PeerGrace - time.Since(start))
			select {
			case <-dctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		cancel()
		grace = max(grace-time.Since(start), min(grace, time.Second))
	}
	if err := e.rt.RemovePod(ctx, id, grace); err != nil {
		return err
	}
	return e.removePodVolumes(ctx, id)
}

// EndpointsStatus is a Service as the proxy serves it: its addresses and,
// per port, the ready endpoints (as `kubectl get endpoints` shows them).
type EndpointsStatus struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Type      string         `json:"type"`
	ClusterIP string         `json:"clusterIP,omitempty"`
	Ports     []EndpointPort `json:"ports"`
}

// EndpointPort is one Service port and its ready endpoints.
type EndpointPort struct {
	Name      string   `json:"name,omitempty"`
	Port      int32    `json:"port"`
	NodePort  int32    `json:"nodePort,omitempty"`
	Protocol  string   `json:"protocol"`
	Endpoints []string `json:"endpoints"`
	// Pods names the pod of each endpoint, in the same order.
	Pods []string `json:"pods"`
}

// endpointsStatus renders the Services' plane states for the status.
func endpointsStatus(views []serviceView, states []svcnet.Service, podNames map[string]string) []EndpointsStatus {
	out := make([]EndpointsStatus, 0, len(states))
	for i, st := range states {
		es := EndpointsStatus{Namespace: st.Namespace, Name: st.Name, Type: string(views[i].svc.Spec.Type)}
		if st.ClusterIP.IsValid() {
			es.ClusterIP = st.ClusterIP.String()
		}
		for _, p := range st.Ports {
			ep := EndpointPort{Name: p.Name, Port: p.Port, NodePort: p.NodePort, Protocol: protocolName(p.Protocol),
				Endpoints: []string{}, Pods: []string{}}
			for _, x := range p.Endpoints {
				ep.Endpoints = append(ep.Endpoints, x.Addr)
				ep.Pods = append(ep.Pods, podNames[x.Key])
			}
			es.Ports = append(es.Ports, ep)
		}
		out = append(out, es)
	}
	return out
}

func protocolName(p lb.Protocol) string {
	switch p {
	case lb.ProtocolHTTP:
		return "HTTP"
	case lb.ProtocolH2C:
		return "H2C"
	}
	return "TCP"
}
