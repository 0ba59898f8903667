package planner

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// Quota is a namespace's ResourceQuota as pod admission reads it.
type Quota struct {
	Namespace, Name string
	Hard            corev1.ResourceList
}

// Refusal is a pod that quota admission did not let the plan create.
type Refusal struct {
	Namespace, Pod string
	Owner          config.Key
	// Message is the API server's: pods "NAME" is forbidden: ...
	Message string
}

// The compute resources a pod is charged, and that a quota on them makes
// every container declare (Kubernetes' pod evaluator).
var computeResources = []corev1.ResourceName{
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
}

// PodUsage is what a pod counts against ResourceQuotas, as Kubernetes'
// pod evaluator computes it: the pod itself (pods, count/pods), and its
// effective requests and limits of cpu and memory (the sum over the app
// containers, or the largest init container if that is more; a limit
// without a request requests the limit). cpu and memory are the legacy
// names of the requests.
func PodUsage(spec *corev1.PodSpec) corev1.ResourceList {
	u := corev1.ResourceList{
		corev1.ResourcePods: resource.MustParse("1"), "count/pods": resource.MustParse("1"),
	}
	sum := func(cs []corev1.Container, r corev1.ResourceName, pick func(*corev1.Container, corev1.ResourceName) (resource.Quantity, bool)) (resource.Quantity, bool) {
		var total resource.Quantity
		found := false
		for i := range cs {
			if q, ok := pick(&cs[i], r); ok {
				total.Add(q)
				found = true
			}
		}
		return total, found
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		for _, kind := range []struct {
			name corev1.ResourceName
			pick func(*corev1.Container, corev1.ResourceName) (resource.Quantity, bool)
		}{{"requests." + r, containerRequest}, {"limits." + r, containerLimit}} {
			q, ok := sum(spec.Containers, r, kind.pick)
			for i := range spec.InitContainers {
				if iq, iok := kind.pick(&spec.InitContainers[i], r); iok && iq.Cmp(q) > 0 {
					q, ok = iq, true
				}
			}
			if ok {
				u[kind.name] = q
			}
		}
	}
	if q, ok := u[corev1.ResourceRequestsCPU]; ok {
		u[corev1.ResourceCPU] = q
	}
	if q, ok := u[corev1.ResourceRequestsMemory]; ok {
		u[corev1.ResourceMemory] = q
	}
	return u
}

func containerRequest(c *corev1.Container, r corev1.ResourceName) (resource.Quantity, bool) {
	if q, ok := c.Resources.Requests[r]; ok {
		return q, true
	}
	return containerLimit(c, r)
}

func containerLimit(c *corev1.Container, r corev1.ResourceName) (resource.Quantity, bool) {
	q, ok := c.Resources.Limits[r]
	return q, ok
}

// QuotaUsed sums, per namespace, the usage of the pods that count: those
// not terminating and not finished (a pod whose containers have all exited
// for good, or whose init container failed, counts no more, as Kubernetes
// does not count Succeeded and Failed pods).
func QuotaUsed(pods []runtime.Pod, usage func(*runtime.Pod) corev1.ResourceList) map[string]corev1.ResourceList {
	out := map[string]corev1.ResourceList{}
	for i := range pods {
		p := &pods[i]
		if p.Terminating || podDone(p) {
			continue
		}
		if out[p.Namespace] == nil {
			out[p.Namespace] = corev1.ResourceList{}
		}
		addList(out[p.Namespace], usage(p))
	}
	return out
}

// podDone reports whether every current app container exited and will not
// be restarted, or an init container failed under Never.
func podDone(p *runtime.Pod) bool {
	policy := corev1.RestartPolicy(p.RestartPolicy)
	if len(p.Containers) == 0 {
		if policy != corev1.RestartPolicyNever {
			return false
		}
		for i := range p.InitContainers {
			c := &p.InitContainers[i]
			if p.CurrentInit(c.Name) == c && c.State == runtime.StateExited && c.ExitCode != 0 {
				return true
			}
		}
		return false
	}
	for i := range p.Containers {
		c := &p.Containers[i]
		if p.Current(c.Name) != c {
			continue
		}
		if c.State != runtime.StateExited || ShouldRestart(policy, c.ExitCode) {
			return false
		}
	}
	return true
}

func addList(to, from corev1.ResourceList) {
	for r, q := range from {
		cur := to[r]
		cur.Add(q)
		to[r] = cur
	}
}

// AdmitQuota admits the plan's pod creations, in plan order, as the API
// server's ResourceQuota admission would: a pod in a namespace with quotas
// on compute resources must declare them in every container, and must not
// take any quota past its hard limit. Each admitted pod counts towards the
// next. Refused creations are dropped from the actions and returned with
// Kubernetes' message.
func AdmitQuota(quotas []Quota, used map[string]corev1.ResourceList, actions []Action) ([]Action, []Refusal) {
	byNS := map[string][]Quota{}
	for _, q := range quotas {
		byNS[q.Namespace] = append(byNS[q.Namespace], q)
	}
	for ns := range byNS {
		sort.Slice(byNS[ns], func(i, j int) bool { return byNS[ns][i].Name < byNS[ns][j].Name })
	}
	kept := actions[:0:0]
	var refused []Refusal
	for _, a := range actions {
		qs := byNS[a.Namespace]
		if a.Type != CreatePod || len(qs) == 0 || a.Workload == nil {
			kept = append(kept, a)
			continue
		}
		spec := &a.Workload.Template.Spec
		usage := PodUsage(spec)
		msg := admitOne(qs, used[a.Namespace], spec, usage)
		if msg != "" {
			refused = append(refused, Refusal{Namespace: a.Namespace, Pod: a.Pod, Owner: a.Owner,
				Message: fmt.Sprintf("pods %q is forbidden: %s", a.Pod, msg)})
			continue
		}
		if used[a.Namespace] == nil {
			used[a.Namespace] = corev1.ResourceList{}
		}
		addList(used[a.Namespace], usage)
		kept = append(kept, a)
	}
	return kept, refused
}

// admitOne checks one pod against a namespace's quotas and says why it is
// refused, or "".
func admitOne(qs []Quota, used corev1.ResourceList, spec *corev1.PodSpec, usage corev1.ResourceList) string {
	for _, q := range qs {
		if missing := missingResources(q, spec); missing != "" {
			return fmt.Sprintf("failed quota: %s: must specify %s", q.Name, missing)
		}
	}
	for _, q := range qs {
		var req, use, hard []string
		for _, r := range sortedNames(q.Hard) {
			delta, charged := usage[r]
			if !charged {
				continue
			}
			cur := used[r]
			next := cur.DeepCopy()
			next.Add(delta)
			if limit := q.Hard[r]; next.Cmp(limit) > 0 {
				req = append(req, string(r)+"="+delta.String())
				use = append(use, string(r)+"="+cur.String())
				hard = append(hard, string(r)+"="+limit.String())
			}
		}
		if len(req) > 0 {
			return fmt.Sprintf("exceeded quota: %s, requested: %s, used: %s, limited: %s",
				q.Name, strings.Join(req, ","), strings.Join(use, ","), strings.Join(hard, ","))
		}
	}
	return ""
}

// missingResources lists, as the pod evaluator's constraint error does,
// the compute resources the quota limits that some container does not
// declare: "limits.cpu for: a,b; requests.memory for: a".
func missingResources(q Quota, spec *corev1.PodSpec) string {
	var parts []string
	for _, r := range computeResources {
		_, direct := q.Hard[r]
		_, legacy := q.Hard[corev1.ResourceName(strings.TrimPrefix(string(r), "requests."))]
		if !direct && !(legacy && strings.HasPrefix(string(r), "requests.")) {
			continue
		}
		base := corev1.ResourceName(string(r)[strings.IndexByte(string(r), '.')+1:])
		pick := containerLimit
		if strings.HasPrefix(string(r), "requests.") {
			pick = containerRequest
		}
		var names []string
		for _, cs := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
			for i := range cs {
				if _, ok := pick(&cs[i], base); !ok {
					names = append(names, cs[i].Name)
				}
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			parts = append(parts, string(r)+" for: "+strings.Join(names, ","))
		}
	}
	return strings.Join(parts, "; ")
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for r := range l {
		names = append(names, r)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}
