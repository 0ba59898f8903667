package executor

import (
	"errors"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

// ReasonFailedCreate is the waiting reason of a pod that quota admission
// refused, as a ReplicaSet reports it.
const ReasonFailedCreate = "FailedCreate"

// QuotaStatus is a ResourceQuota with what the node's pods use of it, as
// `kubectl describe quota` shows it.
type QuotaStatus struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Hard      map[string]string `json:"hard"`
	Used      map[string]string `json:"used"`
}

// quotas lists the desired state's ResourceQuotas.
func (e *Executor) quotas() []planner.Quota {
	var out []planner.Quota
	for _, o := range e.desired.Objects {
		if rq, ok := o.Obj.(*corev1.ResourceQuota); ok {
			out = append(out, planner.Quota{Namespace: o.Key.Namespace, Name: o.Key.Name, Hard: rq.Spec.Hard})
		}
	}
	return out
}

// recordedUsage reads a pod's usage from its label.
func recordedUsage(p *runtime.Pod) corev1.ResourceList {
	l := corev1.ResourceList{}
	for k, v := range p.QuotaUsage {
		if q, err := resource.ParseQuantity(v); err == nil {
			l[corev1.ResourceName(k)] = q
		}
	}
	return l
}

// admit drops the plan's pod creations that ResourceQuotas refuse and
// remembers the refusals for the status and events of the pass.
func (e *Executor) admit(plan planner.Result, obs *runtime.Observed) planner.Result {
	e.refused = nil
	qs := e.quotas()
	if len(qs) == 0 {
		return plan
	}
	used := planner.QuotaUsed(obs.Pods, recordedUsage)
	var refused []planner.Refusal
	plan.Actions, refused = planner.AdmitQuota(qs, used, plan.Actions)
	if len(refused) > 0 {
		e.refused = map[string]string{}
		for _, r := range refused {
			e.refused[r.Namespace+"/"+r.Pod] = r.Message
			e.noteWaiting(planner.Action{Namespace: r.Namespace, Pod: r.Pod, Owner: r.Owner},
				&ErrWaiting{Reason: ReasonFailedCreate, Err: errors.New(r.Message)})
		}
	}
	return plan
}

// quotaStatus describes the desired ResourceQuotas with the usage of the
// node's pods.
func (e *Executor) quotaStatus(obs *runtime.Observed) []QuotaStatus {
	qs := e.quotas()
	if len(qs) == 0 {
		return nil
	}
	used := planner.QuotaUsed(obs.Pods, recordedUsage)
	out := make([]QuotaStatus, 0, len(qs))
	for _, q := range qs {
		st := QuotaStatus{Namespace: q.Namespace, Name: q.Name, Hard: map[string]string{}, Used: map[string]string{}}
		for r, hard := range q.Hard {
			st.Hard[string(r)] = hard.String()
			u := used[q.Namespace][r]
			st.Used[string(r)] = u.String()
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// podUsage is what a new pod of a template will count against quotas.
func podUsage(spec *corev1.PodSpec) map[string]string {
	u := planner.PodUsage(spec)
	out := make(map[string]string, len(u))
	for r, q := range u {
		out[string(r)] = q.String()
	}
	return out
}
