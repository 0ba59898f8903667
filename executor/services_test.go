package executor

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/lb"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/fake"
	"github.com/reconciler/reconciler/svcnet"
)

// recordingPlane is a ServicePlane that keeps the last Update and logs
// Drain calls with the runtime's calls at that moment.
type recordingPlane struct {
	rt    *fake.Runtime
	alloc svcnet.Allocator
	mu    sync.Mutex
	last  []svcnet.Service
	log   []string
}

func (p *recordingPlane) Assign(reqs []svcnet.Request) map[string]svcnet.Assignment {
	return p.alloc.Allocate(reqs)
}
func (p *recordingPlane) DNSServer() netip.Addr { return p.alloc.DNSAddr() }

func (p *recordingPlane) Update(_ context.Context, svcs []svcnet.Service) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = svcs
	return nil
}

func (p *recordingPlane) Drain(_ context.Context, keys ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		for _, s := range p.last {
			for _, port := range s.Ports {
				for _, ep := range port.Endpoints {
					if ep.Key == k {
						p.log = append(p.log, "drain of "+k+" while still an endpoint")
					}
				}
			}
		}
		obs, _ := p.rt.Observe(context.Background(), "n1")
		present := obs != nil && slices.ContainsFunc(obs.Pods, func(pod runtime.Pod) bool { return pod.ID == k })
		p.log = append(p.log, "drain "+k+map[bool]string{false: " after its removal", true: ""}[present])
	}
}

func (p *recordingPlane) endpoints(svc string) []lb.Endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.last {
		if s.Name == svc {
			return s.Ports[0].Endpoints
		}
	}
	return nil
}

func service(name string, sel map[string]string, target intstr.IntOrString) config.Object {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: target}}}}
	return config.Object{Key: config.Key{Namespace: "ns", Kind: "Service", Name: name}, Obj: s}
}

// TestServicesEndpointsAndDrain checks, on the fake engine, that a
// Service's endpoints are the ready pods that match its selector, reached
// at the published address of the target port (by number or by name),
// and that a pod being scaled away leaves the endpoints and is drained
// before it is removed.
func TestServicesEndpointsAndDrain(t *testing.T) {
	rt := fake.New("img:v1")
	wl := deployment("web", 3, "img:v1", corev1.PullIfNotPresent)
	wl.Template.Labels = map[string]string{"app": "web"}
	wl.Template.Spec.Containers[0].Ports[0].Name = "web"
	d := &config.Desired{Revision: "r1", Workloads: []config.Workload{wl}, Objects: []config.Object{
		service("byname", map[string]string{"app": "web"}, intstr.FromString("web")),
		service("bynum", map[string]string{"app": "web"}, intstr.FromInt32(8080)),
		service("none", map[string]string{"app": "other"}, intstr.FromInt32(8080)),
	}}
	src := &stubSource{d: d}
	e, _ := newTest(t, rt, src)
	plane := &recordingPlane{rt: rt, alloc: svcnet.Allocator{Node: "n1", Prefix: svcnet.DefaultCIDR}}
	e.opt.Services = plane
	converge(t, e)
	for _, svc := range []string{"byname", "bynum"} {
		eps := plane.endpoints(svc)
		if len(eps) != 3 {
			t.Fatalf("%s: endpoints %v, want 3", svc, eps)
		}
		for _, ep := range eps {
			if !strings.HasPrefix(ep.Addr, "127.0.0.1:4") {
				t.Errorf("%s: endpoint %v is not a published address", svc, ep)
			}
		}
	}
	if eps := plane.endpoints("none"); len(eps) != 0 {
		t.Errorf("a Service selecting nothing has endpoints %v", eps)
	}
	st := e.Status()
	if len(st.Endpoints) != 3 || st.Endpoints[0].ClusterIP == "" || len(st.Endpoints[0].Ports[0].Pods) != 3 {
		t.Errorf("status endpoints: %+v", st.Endpoints)
	}

	rt.ResetCalls()
	wl.Replicas = 1
	src.set(&config.Desired{Revision: "r2", Workloads: []config.Workload{wl}, Objects: d.Objects}, nil)
	converge(t, e)
	if eps := plane.endpoints("bynum"); len(eps) != 1 {
		t.Errorf("after scaling to 1: endpoints %v", eps)
	}
	plane.mu.Lock()
	defer plane.mu.Unlock()
	drains := 0
	for _, l := range plane.log {
		if strings.Contains(l, "while still an endpoint") || strings.Contains(l, "after its removal") {
			t.Errorf("drain order: %s", l)
		}
		drains++
	}
	if drains != 2 {
		t.Errorf("%d drains for 2 removed pods: %v", drains, plane.log)
	}
}

// TestServiceEnvAndDNS checks the service environment and the pod DNS
// configuration the executor hands to the engine.
func TestServiceEnvAndDNS(t *testing.T) {
	views := []serviceView{
		{svc: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "my-db", Namespace: "ns"}, Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Name: "sql", Port: 5432, Protocol: corev1.ProtocolTCP}, {Name: "metrics-http", Port: 9100}}}},
			as: svcnet.Assignment{ClusterIP: netip.MustParseAddr("10.96.0.9")}},
		{svc: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "elsewhere"}, Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Port: 80}}}}, as: svcnet.Assignment{ClusterIP: netip.MustParseAddr("10.96.0.10")}},
		{svc: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "headless", Namespace: "ns"}, Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Port: 80}}}}},
	}
	env := map[string]string{}
	for _, v := range serviceEnv(views, "ns", true) {
		env[v.Name] = v.Value
	}
	want := map[string]string{
		"MY_DB_SERVICE_HOST": "10.96.0.9", "MY_DB_SERVICE_PORT": "5432", "MY_DB_SERVICE_PORT_SQL": "5432",
		"MY_DB_SERVICE_PORT_METRICS_HTTP": "9100", "MY_DB_PORT": "tcp://10.96.0.9:5432",
		"MY_DB_PORT_5432_TCP": "tcp://10.96.0.9:5432", "MY_DB_PORT_5432_TCP_PROTO": "tcp",
		"MY_DB_PORT_5432_TCP_PORT": "5432", "MY_DB_PORT_5432_TCP_ADDR": "10.96.0.9",
		"MY_DB_PORT_9100_TCP": "tcp://10.96.0.9:9100", "MY_DB_PORT_9100_TCP_PROTO": "tcp",
		"MY_DB_PORT_9100_TCP_PORT": "9100", "MY_DB_PORT_9100_TCP_ADDR": "10.96.0.9",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	if len(env) != len(want) {
		t.Errorf("env has %d variables, want %d: %v", len(env), len(want), env)
	}
	if n := len(serviceEnv(views, "ns", false)); n != 4 {
		t.Errorf("without service links: %d variables, want 4", n)
	}

	rt := fake.New()
	e, _ := newTest(t, rt, &stubSource{})
	spec := corev1.PodSpec{}
	if e.podDNS(&spec, "ns") != nil {
		t.Error("DNS set without a Services plane")
	}
	e.opt.Services = &recordingPlane{alloc: svcnet.Allocator{Node: "n1", Prefix: svcnet.DefaultCIDR}}
	dns := e.podDNS(&spec, "shop")
	if dns == nil || dns.Servers[0] != e.opt.Services.DNSServer().String() ||
		strings.Join(dns.Searches, " ") != "shop.svc.cluster.local svc.cluster.local cluster.local" {
		t.Errorf("ClusterFirst DNS: %+v", dns)
	}
	spec.DNSPolicy = corev1.DNSDefault
	if e.podDNS(&spec, "shop") != nil {
		t.Error("dnsPolicy Default got the cluster DNS")
	}
}
