package planner

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reconciler/reconciler/config"
)

// Sharing the fleet's replicas: every node places all workloads over the
// member list (Place) and runs its own share. The planner then works on a
// node's share as on a single host, so the rollout rules hold per node.

// Unplaced is a workload with replicas that run on no node: Pending
// (they fit nowhere) or NodeLost (bound to a node that stopped answering).
type Unplaced struct {
	Key      config.Key `json:"key"`
	Pending  int        `json:"pending,omitempty"`
	NodeLost int        `json:"nodeLost,omitempty"`
	// Reason is the first slot's message: the scheduler's FailedScheduling
	// text, or why a lost slot is not moved.
	Reason string `json:"reason"`
}

// Share places the workloads on the fleet and returns them as node runs
// them: Replicas is node's share, and a RollingUpdate's absolute maxSurge
// and maxUnavailable are split between the nodes that run replicas
// (percentages already scale with the share). Workloads with no replica
// on node are left out. It also returns the workloads with replicas that
// run nowhere, sorted by key.
//
// Stateful workloads (see IsStateful) keep their replicas on the node that
// would run them if every member were Ready: a stateful pod moves only
// when its node leaves the fleet, never because it stopped answering.
func Share(ws []config.Workload, nodes []Node, node string) ([]config.Workload, []Unplaced) {
	reqs := make([]PlacementRequest, len(ws))
	for i := range ws {
		reqs[i] = PlacementRequestFor(&ws[i], nil)
	}
	homes := Place(allReady(nodes), reqs)
	for i := range reqs {
		if reqs[i].Stateful {
			reqs[i].Current = map[int]string{}
			for s, slot := range homes[reqs[i].Key].Slots {
				reqs[i].Current[s] = slot.Node
			}
		}
	}
	placed := Place(nodes, reqs)
	var local []config.Workload
	var unplaced []Unplaced
	for i := range ws {
		a := placed[ws[i].Key]
		if u, ok := unplacedOf(ws[i].Key, a); ok {
			unplaced = append(unplaced, u)
		}
		n := a.Count(node)
		if n == 0 {
			continue
		}
		wl := ws[i]
		wl.Replicas = int32(n)
		if len(nodes) > 1 {
			wl.PodNameSeed = node
		}
		wl.Strategy = splitBudget(wl.Strategy, a, node)
		local = append(local, wl)
	}
	return local, unplaced
}

// allReady is nodes as if every one answered and took pods.
func allReady(nodes []Node) []Node {
	out := slices.Clone(nodes)
	for i := range out {
		out[i].Ready = true
	}
	return out
}

func unplacedOf(k config.Key, a Assignment) (Unplaced, bool) {
	u := Unplaced{Key: k}
	for _, s := range a.Slots {
		switch s.State {
		case SlotPending:
			u.Pending++
		case SlotNodeLost:
			u.NodeLost++
		default:
			continue
		}
		if u.Reason == "" {
			u.Reason = s.Reason
		}
	}
	return u, u.Pending+u.NodeLost > 0
}

// splitBudget gives node its part of absolute maxSurge and maxUnavailable
// values: the nodes running replicas, in name order, take one unit each in
// turn. Percentages are left alone: they scale with the share.
func splitBudget(s appsv1.DeploymentStrategy, a Assignment, node string) appsv1.DeploymentStrategy {
	ru := s.RollingUpdate
	if s.Type == appsv1.RecreateDeploymentStrategyType || ru == nil {
		return s
	}
	var runners []string
	for _, slot := range a.Slots {
		if slot.State == SlotPlaced && !slices.Contains(runners, slot.Node) {
			runners = append(runners, slot.Node)
		}
	}
	slices.Sort(runners)
	idx := slices.Index(runners, node)
	if len(runners) <= 1 || idx < 0 {
		return s
	}
	ru = ru.DeepCopy()
	ru.MaxSurge = splitAbsolute(ru.MaxSurge, idx, len(runners))
	ru.MaxUnavailable = splitAbsolute(ru.MaxUnavailable, idx, len(runners))
	s.RollingUpdate = ru
	return s
}

// splitAbsolute is runner idx's part of v when n runners share it.
func splitAbsolute(v *intstr.IntOrString, idx, n int) *intstr.IntOrString {
	if v == nil || v.Type != intstr.Int {
		return v
	}
	part := int(v.IntVal) / n
	if idx < int(v.IntVal)%n {
		part++
	}
	out := intstr.FromInt32(int32(part))
	return &out
}

// ShareBatch keeps the Jobs and CronJobs that run on node: each is placed
// as one pod (its template's node selector, affinity and requests count),
// so every Job and every CronJob's schedule runs on exactly one node of
// the fleet. A Job that fits nowhere is reported in unplaced.
func ShareBatch(jobs []config.Job, crons []config.CronJob, nodes []Node, node string) ([]config.Job, []config.CronJob, []Unplaced) {
	reqs := make([]PlacementRequest, 0, len(jobs)+len(crons))
	for i := range jobs {
		reqs = append(reqs, PlacementRequest{Key: jobs[i].Key, Replicas: 1, Template: &jobs[i].Spec.Template})
	}
	for i := range crons {
		reqs = append(reqs, PlacementRequest{Key: crons[i].Key, Replicas: 1, Template: &crons[i].JobTemplate.Spec.Template})
	}
	placed := Place(nodes, reqs)
	var unplaced []Unplaced
	mine := func(k config.Key) bool {
		a := placed[k]
		if u, ok := unplacedOf(k, a); ok {
			unplaced = append(unplaced, u)
		}
		return a.Count(node) > 0
	}
	var js []config.Job
	for _, j := range jobs {
		if mine(j.Key) {
			js = append(js, j)
		}
	}
	var cs []config.CronJob
	for _, c := range crons {
		if mine(c.Key) {
			cs = append(cs, c)
		}
	}
	return js, cs, unplaced
}
