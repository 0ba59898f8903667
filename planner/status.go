package planner

import (
	"fmt"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// RolloutStatus is a workload's progress as the planner sees it, the
// counterpart of a Deployment's status and its Progressing condition.
type RolloutStatus struct {
	Key config.Key `json:"-"`
	// Replicas is the desired count; Current counts pods not being stopped;
	// Updated those of the desired template; Ready and Available those
	// ready, and ready for minReadySeconds.
	Replicas  int32 `json:"replicas"`
	Current   int32 `json:"current"`
	Updated   int32 `json:"updated"`
	Ready     int32 `json:"ready"`
	Available int32 `json:"available"`
	// UpdatedAvailable counts available pods of the desired template.
	UpdatedAvailable int32 `json:"updatedAvailable"`
	// Complete is true when every pod runs the desired template and is
	// available, and no other pod is left.
	Complete bool `json:"complete"`
	// DeadlineExceeded is Kubernetes' ProgressDeadlineExceeded: the
	// rollout made no progress for progressDeadlineSeconds.
	DeadlineExceeded bool      `json:"deadlineExceeded"`
	LastProgress     time.Time `json:"lastProgress"`
	Message          string    `json:"message"`
}

// rolloutStatus computes a workload's status from its observed pods. The
// last progress is derived from the engine alone (the newest creation or
// readiness among pods of the desired template), so it survives a restart
// of the daemon.
func rolloutStatus(wl *config.Workload, pods []*runtime.Pod, now time.Time) RolloutStatus {
	s := RolloutStatus{Key: wl.Key, Replicas: wl.Replicas}
	minReady := time.Duration(wl.MinReadySeconds) * time.Second
	old := 0
	for _, p := range pods {
		if p.Terminating {
			old++ // a pod still being stopped keeps the rollout open
			continue
		}
		s.Current++
		ready, since := podReady(p)
		avail, _ := podAvailable(p, minReady, now)
		s.Ready += b2i(ready)
		s.Available += b2i(avail)
		if p.TemplateHash != wl.TemplateHash {
			old++
			continue
		}
		s.Updated++
		s.UpdatedAvailable += b2i(avail)
		s.LastProgress = latest(s.LastProgress, p.Created, since)
	}
	s.Complete = old == 0 && s.Updated == wl.Replicas && s.UpdatedAvailable == wl.Replicas
	s.Message = progressMessage(wl, s, old)
	deadline := time.Duration(wl.ProgressDeadlineSeconds) * time.Second
	if !s.Complete && deadline > 0 && !s.LastProgress.IsZero() && now.Sub(s.LastProgress) > deadline {
		s.DeadlineExceeded = true
		s.Message = fmt.Sprintf("%s %q has timed out progressing (%s)", kindWord(wl), wl.Key.Name, s.Message)
	}
	return s
}

// progressMessage says, as kubectl rollout status does, what the rollout
// waits for.
func progressMessage(wl *config.Workload, s RolloutStatus, old int) string {
	switch {
	case s.Updated < wl.Replicas:
		return fmt.Sprintf("%d out of %d new replicas have been updated", s.Updated, wl.Replicas)
	case old > 0:
		return fmt.Sprintf("%d old replicas are pending termination", old)
	case s.UpdatedAvailable < wl.Replicas:
		return fmt.Sprintf("%d of %d updated replicas are available", s.UpdatedAvailable, wl.Replicas)
	}
	return "successfully rolled out"
}

// deadlineRequeue asks for a pass when an incomplete rollout's deadline
// passes, so the failure is reported on time.
func deadlineRequeue(r *Result, wl *config.Workload, s RolloutStatus) {
	if s.Complete || s.DeadlineExceeded || wl.ProgressDeadlineSeconds <= 0 || s.LastProgress.IsZero() {
		return
	}
	requeueAt(r, s.LastProgress.Add(time.Duration(wl.ProgressDeadlineSeconds)*time.Second+time.Second))
}

func kindWord(wl *config.Workload) string {
	if wl.Key.Kind == "Deployment" {
		return "deployment"
	}
	return wl.Key.Kind
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
