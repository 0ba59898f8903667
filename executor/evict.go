package executor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/reconciler/reconciler/runtime"
)

// evictInterval is how often disk-backed emptyDirs are measured against
// their sizeLimit (the kubelet's eviction manager looks every 10 s).
const evictInterval = 10 * time.Second

// errOverLimit stops a measurement once a volume is over its limit.
var errOverLimit = errors.New("over the limit")

// evictOverLimit evicts, as the kubelet does, every pod whose disk-backed
// emptyDir holds more than its sizeLimit: the pod is removed with an
// Evicted event, and its owner replaces it. (A memory-backed emptyDir is a
// tmpfs of that size and cannot grow past it.)
func (e *Executor) evictOverLimit(ctx context.Context, obs *runtime.Observed, tmpls map[string]*corev1.PodTemplateSpec, now time.Time) {
	if now.Sub(e.lastEvictCheck) < evictInterval {
		return
	}
	e.lastEvictCheck = now
	limits := map[string]map[string]int64{} // pod ID → volume → limit
	for _, p := range obs.Pods {
		t := tmpls[templateKey(p.Namespace, p.Owner.Kind, p.Owner.Name, p.TemplateHash)]
		if t == nil || p.Terminating {
			continue
		}
		for _, v := range t.Spec.Volumes {
			if d := v.EmptyDir; d != nil && d.Medium != corev1.StorageMediumMemory && d.SizeLimit != nil {
				if limits[p.ID] == nil {
					limits[p.ID] = map[string]int64{}
				}
				limits[p.ID][v.Name] = d.SizeLimit.Value()
			}
		}
	}
	if len(limits) == 0 {
		return
	}
	vols, err := e.rt.ListVolumes(ctx, e.opt.Node)
	if err != nil {
		return
	}
	for _, v := range vols {
		limit, ok := limits[v.PodID][v.Volume]
		if !ok || v.Kind != runtime.VolumeEmptyDir || !overLimit(v.Mountpoint, limit) {
			continue
		}
		for _, p := range obs.Pods {
			if p.ID == v.PodID {
				e.evict(ctx, p, fmt.Sprintf("Usage of EmptyDir volume %q exceeds the limit %q.", v.Volume, quantityString(limit)))
			}
		}
	}
}

// overLimit reports whether the files under dir take more than limit bytes.
func overLimit(dir string, limit int64) bool {
	var used int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			used += fi.Size()
		}
		if used > limit {
			return errOverLimit
		}
		return nil
	})
	return errors.Is(err, errOverLimit)
}

// evict removes a pod in the background, after its grace period, and
// records why.
func (e *Executor) evict(ctx context.Context, p runtime.Pod, msg string) {
	obj := "pod/" + p.Namespace + "/" + p.Name
	if e.rm.start(p.ID, func() error { return e.drainThenRemove(ctx, p.ID, p.GracePeriod) }, func(err error) {
		if err != nil && ctx.Err() == nil {
			e.events.record(e.opt.Now(), Warning, "FailedEviction", obj, err.Error())
		}
		e.poke()
	}) {
		e.events.record(e.opt.Now(), Warning, "Evicted", obj, msg)
	}
}

func quantityString(b int64) string {
	return resource.NewQuantity(b, resource.BinarySI).String()
}
