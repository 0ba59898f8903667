package executor

import (
	"errors"
	"sync"

	"github.com/reconciler/reconciler/runtime"
)

// remover stops and removes pods (and stops containers) in the background,
// so a grace period never stalls the loop, and marks those pods Terminating
// in each observation until they are gone.
type remover struct {
	mu      sync.Mutex
	pending map[string]bool // pod IDs being removed, "ctr:"+ID of containers being stopped
	wg      sync.WaitGroup
}

func newRemover() *remover { return &remover{pending: map[string]bool{}} }

// mark flags the observed pods that are being removed.
func (r *remover) mark(obs *runtime.Observed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range obs.Pods {
		obs.Pods[i].Terminating = r.pending[obs.Pods[i].ID]
	}
}

// start runs fn in the background under key unless work under that key is
// under way; done is called with the outcome when it ends. It reports
// whether it started.
func (r *remover) start(key string, fn func() error, done func(error)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending[key] {
		return false
	}
	r.pending[key] = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := fn()
		if errors.Is(err, runtime.ErrNotFound) {
			err = nil
		}
		r.mu.Lock()
		delete(r.pending, key)
		r.mu.Unlock()
		done(err)
	}()
	return true
}
