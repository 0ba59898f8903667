package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/runtime"
)

// Waiting reasons, as the kubelet reports them.
const (
	ReasonErrImagePull       = "ErrImagePull"
	ReasonImagePullBackOff   = "ImagePullBackOff"
	ReasonErrImageNeverPull  = "ErrImageNeverPull"
	ReasonContainerCreating  = "ContainerCreating"
	ReasonCreateContainerErr = "CreateContainerError"
	// ReasonCreateContainerConfigError holds a pod whose configuration
	// (a ConfigMap, Secret or key it reads) is missing.
	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	// ReasonPending holds a pod whose claim is not bound.
	ReasonPending = "Pending"
)

// Image pull back-off: 10 s doubling to 5 min, as the kubelet's.
const (
	pullBackoffBase = 10 * time.Second
	pullBackoffMax  = 5 * time.Minute
	pullTimeout     = 5 * time.Minute
)

// puller pulls images in the background, one pull per image at a time, so a
// slow or failing pull never blocks the loop or other pods.
type puller struct {
	rt   runtime.Runtime
	poke func()
	now  func() time.Time

	mu     sync.Mutex
	images map[string]*pullState
	wg     sync.WaitGroup
}

type pullState struct {
	pulling  bool
	err      error
	failures int
	retryAt  time.Time
	reported bool // the latest failure was shown as ErrImagePull once
}

func newPuller(rt runtime.Runtime, now func() time.Time, poke func()) *puller {
	return &puller{rt: rt, now: now, poke: poke, images: map[string]*pullState{}}
}

// ErrWaiting is returned by ensure while an image is not ready; its Reason
// is the waiting reason to report.
type ErrWaiting struct {
	Reason string
	Err    error
}

func (e *ErrWaiting) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *ErrWaiting) Unwrap() error { return e.Err }

// ensure returns nil when image can be used now under policy; otherwise an
// *ErrWaiting, having started a background pull when one is due.
func (p *puller) ensure(ctx context.Context, image string, policy corev1.PullPolicy) error {
	exists, err := p.rt.ImageExists(ctx, image)
	if err != nil {
		return err
	}
	switch {
	case policy == corev1.PullNever && !exists:
		return &ErrWaiting{Reason: ReasonErrImageNeverPull,
			Err: fmt.Errorf("image %q is not present and imagePullPolicy is Never", image)}
	case policy == corev1.PullNever, policy == corev1.PullIfNotPresent && exists:
		return nil
	}
	return p.pullState(ctx, image, exists, policy)
}

// pullState decides from the pull record whether image is usable, pulling
// when due. A pull under policy Always that fails falls back to a local copy.
func (p *puller) pullState(ctx context.Context, image string, exists bool, policy corev1.PullPolicy) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.images[image]
	if st == nil {
		st = &pullState{}
		p.images[image] = st
	}
	switch {
	case st.pulling:
		return &ErrWaiting{Reason: ReasonContainerCreating, Err: fmt.Errorf("pulling image %q", image)}
	case st.err == nil && st.failures == 0 && !st.retryAt.IsZero():
		return nil // pulled successfully since the last ask
	case st.err != nil && exists && policy == corev1.PullAlways:
		return nil // registry unreachable: use the local copy (README: differences)
	case st.err != nil && !st.reported:
		st.reported = true
		return &ErrWaiting{Reason: ReasonErrImagePull, Err: st.err}
	case st.err != nil && p.now().Before(st.retryAt):
		return &ErrWaiting{Reason: ReasonImagePullBackOff, Err: st.err}
	}
	hadErr := st.err
	st.pulling = true
	p.wg.Add(1)
	go p.pull(context.WithoutCancel(ctx), image)
	if hadErr != nil {
		return &ErrWaiting{Reason: ReasonImagePullBackOff, Err: hadErr}
	}
	return &ErrWaiting{Reason: ReasonContainerCreating, Err: fmt.Errorf("pulling image %q", image)}
}

func (p *puller) pull(ctx context.Context, image string) {
	defer p.wg.Done()
	ctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	err := p.rt.PullImage(ctx, image)
	p.mu.Lock()
	st := p.images[image]
	st.pulling = false
	st.err = err
	st.reported = false
	if err != nil {
		st.failures++
		d := pullBackoffBase << min(st.failures-1, 5)
		st.retryAt = p.now().Add(min(d, pullBackoffMax))
	} else {
		st.failures = 0
		st.retryAt = p.now()
	}
	p.mu.Unlock()
	p.poke()
}

// forget drops the record of a successful pull once it was used, so that a
// later container start under policy Always pulls again.
func (p *puller) forget(image string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.images[image]; st != nil && !st.pulling && st.err == nil {
		delete(p.images, image)
	}
}

// nextRetry returns the earliest time a failed pull may be retried.
func (p *puller) nextRetry() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var t time.Time
	for _, st := range p.images {
		if st.err != nil && !st.pulling && (t.IsZero() || st.retryAt.Before(t)) {
			t = st.retryAt
		}
	}
	return t
}

// isWaiting reports whether err is an *ErrWaiting and returns it.
func isWaiting(err error) (*ErrWaiting, bool) {
	var w *ErrWaiting
	ok := errors.As(err, &w)
	return w, ok
}
