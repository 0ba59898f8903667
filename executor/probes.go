package executor

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/health"
	"github.com/reconciler/reconciler/runtime"
)

// templateKey names the template of a pod: its owner and template hash.
func templateKey(ns, kind, name, hash string) string {
	return ns + "/" + kind + "/" + name + "/" + hash
}

// templates indexes the pod templates the loop knows: those of the planned
// desired state and, for Deployments, those of their stored revisions (old
// pods of a rollout are probed with their own template). Decoded revision
// templates are cached by hash; a template never changes under its hash.
func (e *Executor) templates(d *config.Desired, revs map[string]revisionSet) map[string]*corev1.PodTemplateSpec {
	out := make(map[string]*corev1.PodTemplateSpec, len(d.Workloads))
	for i := range d.Workloads {
		wl := &d.Workloads[i]
		out[templateKey(wl.Key.Namespace, wl.Key.Kind, wl.Key.Name, wl.TemplateHash)] = &wl.Template
	}
	if e.revTemplates == nil {
		e.revTemplates = map[string]*corev1.PodTemplateSpec{}
	}
	for _, set := range revs {
		for _, r := range set {
			k := templateKey(r.Namespace, "Deployment", r.Deployment, r.Hash)
			if _, ok := out[k]; ok {
				continue
			}
			t, ok := e.revTemplates[k]
			if !ok {
				t = new(corev1.PodTemplateSpec)
				if json.Unmarshal(r.Template, t) != nil {
					continue
				}
				e.revTemplates[k] = t
			}
			out[k] = t
		}
	}
	for k, t := range e.jobTemplates(d) {
		out[k] = t
	}
	return out
}

// syncProbes hands the health manager the full set of running containers
// with their probes; it starts and stops probe workers to match.
func (e *Executor) syncProbes(obs *runtime.Observed, tmpls map[string]*corev1.PodTemplateSpec) {
	var targets []health.Target
	for i := range obs.Pods {
		p := &obs.Pods[i]
		t := tmpls[templateKey(p.Namespace, p.Owner.Kind, p.Owner.Name, p.TemplateHash)]
		if t == nil {
			continue
		}
		ports := make(map[int32]string, len(p.Ports))
		for _, pb := range p.Ports {
			if pb.Protocol == "TCP" {
				ports[pb.ContainerPort] = fmt.Sprintf("%s:%d", pb.HostIP, pb.HostPort)
			}
		}
		for _, c := range t.Spec.Containers {
			cur := p.Current(c.Name)
			if cur == nil || cur.State != runtime.StateRunning {
				continue
			}
			targets = append(targets, health.Target{ContainerID: cur.ID, PodKey: p.Namespace + "/" + p.Name,
				Container: c.Name, Spec: c, Ports: ports, StartedAt: cur.StartedAt})
		}
	}
	e.probes.Sync(targets)
}

// markReadiness sets each container's readiness and health, which the
// engine does not report, from the probes: a container without probes is
// ready while it runs, since it started.
func (e *Executor) markReadiness(obs *runtime.Observed) {
	for i := range obs.Pods {
		for j := range obs.Pods[i].Containers {
			c := &obs.Pods[i].Containers[j]
			if c.State != runtime.StateRunning {
				continue
			}
			res, ok := e.probes.Result(c.ID)
			if !ok {
				c.Ready, c.ReadySince = true, c.StartedAt
				continue
			}
			c.Ready, c.ReadySince = res.Ready, res.ReadySince
			if !res.Live {
				c.Unhealthy = res.Message
			}
		}
	}
}
