package planner

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// Budget resolves a RollingUpdate's maxSurge and maxUnavailable against
// replicas exactly as Kubernetes does: percentages of replicas, surge
// rounded up, unavailable rounded down, nil meaning 25 %, and when both come
// to 0, unavailable becomes 1 so that a rollout can make progress.
func Budget(ru *appsv1.RollingUpdateDeployment, replicas int32) (surge, unavailable int32, err error) {
	quarter := intstr.FromString("25%")
	ms, mu := &quarter, &quarter
	if ru != nil {
		if ru.MaxSurge != nil {
			ms = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			mu = ru.MaxUnavailable
		}
	}
	s, err := intstr.GetScaledValueFromIntOrPercent(ms, int(replicas), true)
	if err != nil {
		return 0, 0, fmt.Errorf("maxSurge: %w", err)
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(mu, int(replicas), false)
	if err != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

// podReady reports whether every container of the pod runs and is ready,
// and since when the pod is ready (the latest container's ReadySince).
func podReady(p *runtime.Pod) (bool, time.Time) {
	var since time.Time
	seen := 0
	for i := range p.Containers {
		c := &p.Containers[i]
		if cur := p.Current(c.Name); cur != c {
			continue
		}
		seen++
		if c.State != runtime.StateRunning || !c.Ready || c.Unhealthy != "" {
			return false, time.Time{}
		}
		if c.ReadySince.After(since) {
			since = c.ReadySince
		}
	}
	return seen > 0, since
}

// podAvailable reports whether the pod has been ready for minReady, and if
// not yet but ready, when it will be.
func podAvailable(p *runtime.Pod, minReady time.Duration, now time.Time) (bool, time.Time) {
	ready, since := podReady(p)
	if !ready {
		return false, time.Time{}
	}
	at := since.Add(minReady)
	return !now.Before(at), at
}

// rollout is the census of one Deployment's pods during a rolling update.
type rollout struct {
	wl          *config.Workload
	now         time.Time
	minReady    time.Duration
	cur, old    []*runtime.Pod // not terminating
	terminating int
	availCur    int
	availOld    int
}

func newRollout(wl *config.Workload, pods []*runtime.Pod, now time.Time) *rollout {
	ro := &rollout{wl: wl, now: now, minReady: time.Duration(wl.MinReadySeconds) * time.Second}
	for _, p := range pods {
		switch {
		case p.Terminating:
			ro.terminating++
		case p.TemplateHash == wl.TemplateHash:
			ro.cur = append(ro.cur, p)
			if ok, _ := podAvailable(p, ro.minReady, now); ok {
				ro.availCur++
			}
		default:
			ro.old = append(ro.old, p)
			if ok, _ := podAvailable(p, ro.minReady, now); ok {
				ro.availOld++
			}
		}
	}
	return ro
}

// planRollingUpdate is one step of a RollingUpdate, with the Deployment
// controller's arithmetic: new pods are created while the total (pods being
// stopped included) stays within replicas+maxSurge; old pods are removed,
// unavailable ones first, only while the available pods stay at or above
// replicas-maxUnavailable.
func planRollingUpdate(r *Result, wl *config.Workload, pods []*runtime.Pod, now time.Time) {
	want := wl.Replicas
	surge, unavailable, err := Budget(wl.Strategy.RollingUpdate, want)
	if err != nil { // config validates these; keep the pods as they are
		r.Skipped = append(r.Skipped, Skip{Key: wl.Key, Reason: err.Error()})
		return
	}
	ro := newRollout(wl, pods, now)
	if excess := int32(len(ro.cur)+len(ro.old)) - (want + surge); excess > 0 {
		ro.scaleDownProportionally(r, excess)
		return
	}
	created := ro.scaleUp(r, want, surge, pods)
	ro.scaleDownOld(r, want, unavailable, created)
	if len(ro.old) == 0 && int32(len(ro.cur)) > want {
		victims := scaleDownOrder(ro.cur)[:int32(len(ro.cur))-want]
		for _, p := range victims {
			r.Actions = append(r.Actions, removePod(wl.Key, p, "scaled down", CauseScale))
		}
		ro.cur = keepOthers(ro.cur, victims)
	}
	for _, p := range ro.cur {
		planContainers(r, wl, p, now)
	}
	ro.requeueAvailability(r)
}

// scaleUp creates new pods within the surge bound and returns how many.
func (ro *rollout) scaleUp(r *Result, want, surge int32, all []*runtime.Pod) int32 {
	total := int32(len(ro.cur) + len(ro.old) + ro.terminating)
	n := min(want+surge-total, want-int32(len(ro.cur)))
	if n <= 0 {
		return 0
	}
	reason := "rolling update: new revision"
	if len(ro.old) == 0 {
		reason = createReason(ro.wl, len(ro.cur), int(want))
	}
	for _, name := range newPodNames(ro.wl, all, int(n)) {
		r.Actions = append(r.Actions, Action{
			Type: CreatePod, Namespace: ro.wl.Key.Namespace, Pod: name,
			Owner: ro.wl.Key, Workload: ro.wl, Reason: reason, Cause: CauseCreate,
		})
	}
	return n
}

// scaleDownOld removes old pods: unavailable ones as far as the pods that
// would remain can still reach minAvailable, then available ones while the
// available count stays at or above minAvailable.
func (ro *rollout) scaleDownOld(r *Result, want, unavailable, created int32) {
	if len(ro.old) == 0 {
		return
	}
	minAvailable := want - unavailable
	newUnavailable := int32(len(ro.cur)) + created - int32(ro.availCur)
	maxScaledDown := int32(len(ro.cur)+len(ro.old)) + created - minAvailable - newUnavailable
	var unhealthy, healthy []*runtime.Pod
	for _, p := range scaleDownOrder(ro.old) {
		if ok, _ := podAvailable(p, ro.minReady, ro.now); ok {
			healthy = append(healthy, p)
		} else {
			unhealthy = append(unhealthy, p)
		}
	}
	for _, p := range unhealthy {
		if maxScaledDown <= 0 {
			break
		}
		r.Actions = append(r.Actions, removePod(ro.wl.Key, p, "rolling update: old pod not available", CauseTemplate))
		maxScaledDown--
	}
	canRemove := int32(ro.availCur+ro.availOld) - minAvailable
	for _, p := range healthy {
		if canRemove <= 0 {
			break
		}
		r.Actions = append(r.Actions, removePod(ro.wl.Key, p, "rolling update: replaced by the new revision", CauseTemplate))
		canRemove--
	}
}

// scaleDownProportionally removes excess pods when replicas dropped in the
// middle of a rollout: each revision loses pods in proportion to its size
// (largest remainder), unavailable pods first.
func (ro *rollout) scaleDownProportionally(r *Result, excess int32) {
	groups := map[string][]*runtime.Pod{}
	var hashes []string
	for _, p := range append(append([]*runtime.Pod(nil), ro.cur...), ro.old...) {
		if _, ok := groups[p.TemplateHash]; !ok {
			hashes = append(hashes, p.TemplateHash)
		}
		groups[p.TemplateHash] = append(groups[p.TemplateHash], p)
	}
	sortStrings(hashes)
	total := int32(len(ro.cur) + len(ro.old))
	share := make(map[string]int32, len(hashes))
	var given int32
	for _, h := range hashes {
		share[h] = excess * int32(len(groups[h])) / total
		given += share[h]
	}
	for i := 0; given < excess; i = (i + 1) % len(hashes) {
		if h := hashes[i]; share[h] < int32(len(groups[h])) {
			share[h]++
			given++
		}
	}
	for _, h := range hashes {
		for _, p := range scaleDownOrder(groups[h])[:share[h]] {
			r.Actions = append(r.Actions, removePod(ro.wl.Key, p, "scaled down during a rollout", CauseScale))
		}
	}
}

// requeueAvailability asks for a new pass when a ready pod will have been
// ready for minReadySeconds.
func (ro *rollout) requeueAvailability(r *Result) {
	for _, p := range append(append([]*runtime.Pod(nil), ro.cur...), ro.old...) {
		if ok, at := podAvailable(p, ro.minReady, ro.now); !ok && !at.IsZero() {
			requeueAt(r, at)
		}
	}
}

func requeueAt(r *Result, t time.Time) {
	if r.Requeue.IsZero() || t.Before(r.Requeue) {
		r.Requeue = t
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
