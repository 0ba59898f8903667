// Package fake is an in-memory runtime.Runtime for executor tests: it keeps
// pods and containers in maps, records every call, and injects failures.
// It is never the proof that a feature works against a real engine.
package fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reconciler/reconciler/runtime"
)

var _ runtime.Runtime = (*Runtime)(nil)

// ErrDown is what every call returns while the fake engine is down.
var ErrDown = errors.New("fake: engine down")

// Runtime is the in-memory engine.
type Runtime struct {
	mu     sync.Mutex
	pods   map[string]*runtime.Pod
	images map[string]bool
	calls  []string
	seq    int
	down   bool
	// FailPull makes PullImage fail for these images.
	FailPull map[string]bool
	// RemoveGate, when set, makes RemovePod wait for a receive from it
	// first, as a pod with a long grace period would.
	RemoveGate chan struct{}
	// Now is the clock used for created/started times (default time.Now).
	Now    func() time.Time
	events chan runtime.Event
	revs   map[string]runtime.Revision
	// jobs and crons are the Job and CronJob records (jobrecords.go).
	jobs  map[string]runtime.JobRecord
	crons map[string]runtime.CronJobRecord
	// volumes are the named volumes (volumes.go).
	volumes map[string]runtime.Volume
}

// New returns an empty engine holding the given images.
func New(images ...string) *Runtime {
	r := &Runtime{pods: map[string]*runtime.Pod{}, images: map[string]bool{}, FailPull: map[string]bool{},
		Now: time.Now, events: make(chan runtime.Event, 1024), revs: map[string]runtime.Revision{}}
	for _, i := range images {
		r.images[i] = true
	}
	return r
}

// SetDown makes every call fail (true) or succeed again (false).
func (r *Runtime) SetDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// Calls returns the recorded calls, e.g. "CreatePod ns/name".
func (r *Runtime) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// ResetCalls forgets the recorded calls.
func (r *Runtime) ResetCalls() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// Exit makes a running container exit with code, as if its process ended.
func (r *Runtime) Exit(podName, container string, code int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.pods {
		if p.Name != podName {
			continue
		}
		c := p.Current(container)
		if c == nil {
			c = p.CurrentInit(container)
		}
		if c != nil {
			c.State, c.ExitCode, c.FinishedAt = runtime.StateExited, code, r.Now()
			r.emit("container", "died", c.ID, p)
		}
	}
}

// call records a call; the caller holds r.mu.
func (r *Runtime) call(call string) error {
	r.calls = append(r.calls, call)
	if r.down {
		return ErrDown
	}
	return nil
}

func (r *Runtime) emit(typ, action, id string, p *runtime.Pod) {
	select {
	case r.events <- runtime.Event{Type: typ, Action: action, ID: id, Namespace: p.Namespace, Pod: p.Name, Time: r.Now()}:
	default:
	}
}

// Ping fails while down.
func (r *Runtime) Ping(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.call("Ping")
}

// Observe returns a deep copy of the node's pods.
func (r *Runtime) Observe(_ context.Context, node string) (*runtime.Observed, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("Observe"); err != nil {
		return nil, err
	}
	obs := &runtime.Observed{}
	for _, p := range r.pods {
		if node == "" || p.Node == node {
			cp := *p
			cp.Containers = append([]runtime.Container(nil), p.Containers...)
			cp.InitContainers = append([]runtime.Container(nil), p.InitContainers...)
			obs.Pods = append(obs.Pods, cp)
		}
	}
	obs.Sort()
	return obs, nil
}

// CreatePod adds a pod; its name must be free on the node.
func (r *Runtime) CreatePod(_ context.Context, s runtime.PodSpec) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("CreatePod " + s.Namespace + "/" + s.Name); err != nil {
		return "", err
	}
	for _, p := range r.pods {
		if p.Namespace == s.Namespace && p.Name == s.Name && p.Node == s.Node {
			return "", fmt.Errorf("fake: pod %s/%s exists", s.Namespace, s.Name)
		}
	}
	r.seq++
	id := fmt.Sprintf("pod%d", r.seq)
	p := &runtime.Pod{ID: id, Namespace: s.Namespace, Name: s.Name, Node: s.Node, Owner: s.Owner,
		TemplateHash: s.TemplateHash, Revision: s.Revision, Labels: s.Labels, RestartPolicy: s.RestartPolicy, ServiceAccount: s.ServiceAccount, InitCount: s.InitCount, QuotaUsage: s.QuotaUsage,
		GracePeriod: s.GracePeriod, Created: r.Now()}
	for i, port := range s.Ports {
		p.Ports = append(p.Ports, runtime.PortBinding{ContainerPort: port.ContainerPort, Protocol: port.Protocol,
			HostIP: "127.0.0.1", HostPort: int32(40000 + r.seq*10 + i)})
	}
	r.pods[id] = p
	r.emit("pod", "create", id, p)
	return id, nil
}

// RemovePod deletes a pod and its containers.
func (r *Runtime) RemovePod(ctx context.Context, id string, _ time.Duration) error {
	if r.RemoveGate != nil {
		select {
		case <-r.RemoveGate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pods[id]
	name := id
	if ok {
		name = p.Namespace + "/" + p.Name
	}
	if err := r.call("RemovePod " + name); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("fake: pod %s: %w", id, runtime.ErrNotFound)
	}
	delete(r.pods, id)
	r.emit("pod", "remove", id, p)
	return nil
}

// CreateContainer adds a created container; the image must be present.
func (r *Runtime) CreateContainer(_ context.Context, s runtime.ContainerSpec) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call(fmt.Sprintf("CreateContainer %s/%s/%s#%d", s.Pod.Namespace, s.Pod.Name, s.Name, s.RestartCount)); err != nil {
		return "", err
	}
	p, ok := r.pods[s.PodID]
	if !ok {
		return "", fmt.Errorf("fake: pod %s: %w", s.PodID, runtime.ErrNotFound)
	}
	if !r.images[s.Image] {
		return "", fmt.Errorf("fake: image %q not present", s.Image)
	}
	r.seq++
	id := fmt.Sprintf("ctr%d", r.seq)
	c := runtime.Container{ID: id, Name: s.Name, Image: s.Image,
		RestartCount: s.RestartCount, State: runtime.StateCreated, Created: r.Now()}
	if s.Init {
		p.InitContainers = append(p.InitContainers, c)
	} else {
		p.Containers = append(p.Containers, c)
	}
	return id, nil
}

func (r *Runtime) container(id string) (*runtime.Pod, *runtime.Container) {
	for _, p := range r.pods {
		for i := range p.Containers {
			if p.Containers[i].ID == id {
				return p, &p.Containers[i]
			}
		}
		for i := range p.InitContainers {
			if p.InitContainers[i].ID == id {
				return p, &p.InitContainers[i]
			}
		}
	}
	return nil, nil
}

// StartContainer marks a container running.
func (r *Runtime) StartContainer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("StartContainer " + id); err != nil {
		return err
	}
	p, c := r.container(id)
	if c == nil {
		return fmt.Errorf("fake: container %s: %w", id, runtime.ErrNotFound)
	}
	c.State, c.StartedAt = runtime.StateRunning, r.Now()
	r.emit("container", "start", id, p)
	return nil
}

// StopContainer marks a container exited with code 0.
func (r *Runtime) StopContainer(_ context.Context, id string, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("StopContainer " + id); err != nil {
		return err
	}
	_, c := r.container(id)
	if c == nil {
		return fmt.Errorf("fake: container %s: %w", id, runtime.ErrNotFound)
	}
	c.State, c.FinishedAt = runtime.StateExited, r.Now()
	return nil
}

// RemoveContainer deletes a container.
func (r *Runtime) RemoveContainer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("RemoveContainer " + id); err != nil {
		return err
	}
	p, c := r.container(id)
	if c == nil {
		return fmt.Errorf("fake: container %s: %w", id, runtime.ErrNotFound)
	}
	p.Containers = withoutContainer(p.Containers, id)
	p.InitContainers = withoutContainer(p.InitContainers, id)
	r.emit("container", "remove", id, p)
	return nil
}

// ImageExists reports whether the image was given to New or pulled.
func (r *Runtime) ImageExists(_ context.Context, ref string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("ImageExists " + ref); err != nil {
		return false, err
	}
	return r.images[ref], nil
}

// PullImage adds the image unless FailPull names it.
func (r *Runtime) PullImage(_ context.Context, ref string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("PullImage " + ref); err != nil {
		return err
	}
	if r.FailPull[ref] {
		return fmt.Errorf("fake: pull %q: %w", ref, runtime.ErrImagePull)
	}
	r.images[ref] = true
	return nil
}

// Logs writes a fixed line.
func (r *Runtime) Logs(_ context.Context, id string, _ runtime.LogOptions, w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("Logs " + id); err != nil {
		return err
	}
	_, err := io.WriteString(w, "log of "+id+"\n")
	return err
}

// Exec echoes the command.
func (r *Runtime) Exec(_ context.Context, id string, cmd []string) (runtime.ExecResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("Exec " + id); err != nil {
		return runtime.ExecResult{}, err
	}
	return runtime.ExecResult{Stdout: []byte(strings.Join(cmd, " "))}, nil
}

// Events forwards the fake's events until ctx ends.
func (r *Runtime) Events(ctx context.Context, _ string, out chan<- runtime.Event) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-r.events:
			select {
			case out <- e:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// PodNames lists "ns/name" of every pod, sorted.
func (r *Runtime) PodNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	sort.Strings(out)
	return out
}

func revKey(r runtime.Revision) string {
	return r.Namespace + "/" + r.Deployment + "/" + r.Node + "/" + r.Hash
}

// Revisions lists the stored revisions of node (all when empty).
func (r *Runtime) Revisions(_ context.Context, node string) ([]runtime.Revision, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("Revisions"); err != nil {
		return nil, err
	}
	var out []runtime.Revision
	for _, rev := range r.revs {
		if node == "" || rev.Node == node {
			out = append(out, rev)
		}
	}
	sort.Slice(out, func(i, j int) bool { return revKey(out[i]) < revKey(out[j]) })
	return out, nil
}

// PutRevision stores a revision.
func (r *Runtime) PutRevision(_ context.Context, rev runtime.Revision) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call(fmt.Sprintf("PutRevision %s/%s#%d", rev.Namespace, rev.Deployment, rev.Number)); err != nil {
		return err
	}
	if rev.Created.IsZero() {
		rev.Created = r.Now()
	}
	r.revs[revKey(rev)] = rev
	return nil
}

// DeleteRevision forgets a revision.
func (r *Runtime) DeleteRevision(_ context.Context, rev runtime.Revision) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call(fmt.Sprintf("DeleteRevision %s/%s#%d", rev.Namespace, rev.Deployment, rev.Number)); err != nil {
		return err
	}
	delete(r.revs, revKey(rev))
	return nil
}

func withoutContainer(cs []runtime.Container, id string) []runtime.Container {
	for i := range cs {
		if cs[i].ID == id {
			return append(cs[:i], cs[i+1:]...)
		}
	}
	return cs
}
