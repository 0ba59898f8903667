package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

// applyParallelism bounds how many actions of one phase run at once: pods
// are created side by side (a rollout's surge is created in one go), while
// the engine is not flooded.
const applyParallelism = 4

// apply carries out a plan phase by phase (removals, then creations, then
// starts), the actions of one phase concurrently. A failing action does not
// stop the others; it is recorded as a Warning event. It reports whether
// anything was changed, how many actions succeeded (background removals and
// stops count once started), and the joined errors (waiting for an image is
// not an error).
func (e *Executor) apply(ctx context.Context, obs *runtime.Observed, plan planner.Result) (bool, int, error) {
	results := e.run(ctx, plan.Actions)
	var errs []error
	changed, applied := false, 0
	waiting := map[string]string{}
	for k, msg := range e.refused {
		waiting[k] = ReasonFailedCreate + ": " + msg
	}
	for i, a := range plan.Actions {
		err, started := results[i].err, results[i].started
		if w, ok := isWaiting(err); ok {
			waiting[a.Namespace+"/"+a.Pod] = w.Error()
			e.noteWaiting(a, w)
			changed = changed || a.Type == planner.CreatePod
			continue
		}
		switch {
		case !started:
		case err != nil && !errors.Is(err, runtime.ErrNotFound):
			errs = append(errs, err)
			e.events.record(e.opt.Now(), Warning, "Failed"+a.Type.String(), objectOf(a), err.Error())
		default:
			changed = true
			applied++
			if typ, reason, ok := actionEvent(a); ok {
				e.events.record(e.opt.Now(), typ, reason, objectOf(a), a.Reason)
			}
			if a.Type == planner.CreateContainer && a.Cause == planner.CauseExited {
				e.opt.Observer.ContainerRestart()
			}
		}
	}
	e.setWaiting(waiting)
	return changed, applied, errorsJoin(errs)
}

// outcome is what became of one action.
type outcome struct {
	started bool // false: skipped (shutting down, or a removal already under way)
	err     error
}

// run executes the actions, each phase after the previous one, the actions
// of a phase at most applyParallelism at a time.
func (e *Executor) run(ctx context.Context, actions []planner.Action) []outcome {
	out := make([]outcome, len(actions))
	sem := make(chan struct{}, applyParallelism)
	for i := 0; i < len(actions); {
		j := i
		for j < len(actions) && actions[j].Type == actions[i].Type {
			j++
		}
		var wg sync.WaitGroup
		for k := i; k < j && ctx.Err() == nil; k++ {
			switch actions[k].Type { // these run in the background
			case planner.RemovePod:
				out[k] = outcome{started: e.removePod(ctx, actions[k])}
				continue
			case planner.StopContainer:
				out[k] = outcome{started: e.stopContainer(ctx, actions[k])}
				continue
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(k int) {
				defer func() { <-sem; wg.Done() }()
				out[k] = outcome{started: true, err: e.applyOne(ctx, actions[k])}
			}(k)
		}
		wg.Wait()
		i = j
	}
	return out
}

func objectOf(a planner.Action) string {
	if a.Pod == "" && a.Owner.Name != "" { // a record action: its Job or CronJob
		return a.Owner.String()
	}
	s := "pod/" + a.Namespace + "/" + a.Pod
	if a.Container != "" {
		s += "/" + a.Container
	}
	return s
}

// removePod starts removing a pod in the background (it may wait its grace
// period) and reports whether it started; the outcome is an event and a
// new pass.
func (e *Executor) removePod(ctx context.Context, a planner.Action) bool {
	e.withoutEndpoints(ctx, a.PodID)
	return e.rm.start(a.PodID, func() error { return e.drainThenRemove(ctx, a.PodID, a.Grace) }, e.background(ctx, a))
}

// stopContainer stops a container in the background (SIGTERM, then SIGKILL
// after the pod's grace period), as the kubelet does after a failed
// liveness probe; the planner then restarts it under the restart policy.
func (e *Executor) stopContainer(ctx context.Context, a planner.Action) bool {
	return e.rm.start("ctr:"+a.ContainerID, func() error { return e.rt.StopContainer(ctx, a.ContainerID, a.Grace) }, e.background(ctx, a))
}

// background reports the end of a background action: a failure as an event,
// and either way a new pass.
func (e *Executor) background(ctx context.Context, a planner.Action) func(error) {
	return func(err error) {
		if err != nil && ctx.Err() == nil {
			e.events.record(e.opt.Now(), Warning, "Failed"+a.Type.String(), objectOf(a), err.Error())
		}
		e.poke()
	}
}

func (e *Executor) applyOne(ctx context.Context, a planner.Action) error {
	switch a.Type {
	case planner.RemoveContainer:
		return e.rt.RemoveContainer(ctx, a.ContainerID)
	case planner.StartContainer:
		return e.rt.StartContainer(ctx, a.ContainerID)
	case planner.CreatePod:
		return e.createPod(ctx, a)
	case planner.CreateContainer:
		spec := e.podSpec(a.Workload, a.Pod)
		return e.runContainer(ctx, a.PodID, spec, a.Workload, a.Container, a.RestartCount)
	case planner.PutJobRecord, planner.DeleteJobRecord, planner.PutCronJobRecord, planner.DeleteCronJobRecord:
		return e.applyRecord(ctx, a)
	}
	return fmt.Errorf("executor: unknown action %v", a.Type)
}

// createPod creates the pod, its volumes and all its containers in spec
// order. What the pod reads from the desired state (ConfigMaps, Secrets,
// claims) is checked first: a missing reference leaves nothing behind and
// holds the pod in CreateContainerConfigError.
func (e *Executor) createPod(ctx context.Context, a planner.Action) error {
	spec := e.podSpec(a.Workload, a.Pod)
	if err := e.checkRefs(a.Workload); err != nil {
		return err
	}
	id, err := e.rt.CreatePod(ctx, spec)
	if err != nil {
		return err
	}
	if inits := a.Workload.Template.Spec.InitContainers; len(inits) > 0 {
		// The first init container; the planner runs the next ones (and
		// then the app containers) as each exits 0.
		return e.runContainer(ctx, id, spec, a.Workload, inits[0].Name, 0)
	}
	for _, c := range a.Workload.Template.Spec.Containers {
		if err := e.runContainer(ctx, id, spec, a.Workload, c.Name, 0); err != nil {
			return err
		}
	}
	return nil
}

// checkRefs resolves everything a workload's pods read from the desired
// state without creating anything.
func (e *Executor) checkRefs(wl *config.Workload) error {
	t := &wl.Template
	pod := podFacts{Namespace: wl.Key.Namespace, IP: func() (string, error) { return "", nil }}
	for _, list := range [][]corev1.Container{t.Spec.InitContainers, t.Spec.Containers} {
		for i := range list {
			if _, err := containerEnv(&list[i], nil, pod, e.data); err != nil {
				return configError(list[i].Name, err)
			}
		}
	}
	for i, v := range t.Spec.Volumes {
		var err error
		switch {
		case v.ConfigMap != nil || v.Secret != nil:
			_, _, err = volumeFiles(v, wl.Key.Namespace, e.data)
		case v.PersistentVolumeClaim != nil:
			_, err = e.data.claim(wl.Key.Namespace, v.PersistentVolumeClaim.ClaimName)
			if err != nil {
				return &ErrWaiting{Reason: ReasonPending, Err: fmt.Errorf("spec.volumes[%d]: %w", i, err)}
			}
		}
		if err != nil {
			return &ErrWaiting{Reason: ReasonCreateContainerConfigError, Err: fmt.Errorf("spec.volumes[%d] (%s): %w", i, v.Name, err)}
		}
	}
	return nil
}

func configError(container string, err error) error {
	return &ErrWaiting{Reason: ReasonCreateContainerConfigError, Err: fmt.Errorf("container %s: %w", container, err)}
}

// runContainer makes sure the image and the pod's volumes are usable, then
// creates and starts one run of the named container.
func (e *Executor) runContainer(ctx context.Context, podID string, pod runtime.PodSpec, wl *config.Workload, name string, restarts int) error {
	c, init := findContainer(wl, name)
	if c == nil {
		return fmt.Errorf("executor: container %q not in the template of %s", name, wl.Key)
	}
	if err := e.pulls.ensure(ctx, c.Image, c.ImagePullPolicy); err != nil {
		return err
	}
	e.pulls.forget(c.Image)
	spec, err := e.containerSpec(ctx, podID, pod, wl, c, restarts)
	if err != nil {
		return err
	}
	spec.Init = init
	id, err := e.rt.CreateContainer(ctx, spec)
	if err != nil {
		if errors.Is(err, runtime.ErrConfig) {
			return configError(name, err)
		}
		return err
	}
	return e.rt.StartContainer(ctx, id)
}

// containerSpec builds one run of a container: its environment (Service
// variables, envFrom, env with $(VAR) expanded), its command and args
// expanded against that environment, its volumes, resources and security.
func (e *Executor) containerSpec(ctx context.Context, podID string, pod runtime.PodSpec, wl *config.Workload, c *corev1.Container, restarts int) (runtime.ContainerSpec, error) {
	t := &wl.Template
	links := t.Spec.EnableServiceLinks == nil || *t.Spec.EnableServiceLinks
	facts := podFacts{
		Name: pod.Name, Namespace: pod.Namespace, Node: e.opt.Node, ServiceAccount: serviceAccount(&t.Spec),
		Labels: t.Labels, Annotations: t.Annotations, HostIP: e.opt.PublishIP,
		IP: func() (string, error) { return e.rt.PodIP(ctx, podID) },
	}
	env, err := containerEnv(c, serviceEnv(e.svcViews, pod.Namespace, links), facts, e.data)
	if err != nil {
		return runtime.ContainerSpec{}, configError(c.Name, err)
	}
	vols, err := e.podVolumes(ctx, pod, podID, &t.Spec, e.data)
	if err != nil {
		return runtime.ContainerSpec{}, configError(c.Name, err)
	}
	mounts, err := containerMounts(c, vols)
	if err != nil {
		return runtime.ContainerSpec{}, configError(c.Name, err)
	}
	lookup := newEnvList(env).lookup
	s := runtime.ContainerSpec{
		PodID: podID, Pod: pod, Name: c.Name, Image: c.Image, WorkingDir: c.WorkingDir,
		RestartCount: restarts, Env: env, Mounts: mounts,
		Resources: containerResources(c), Security: containerSecurity(&t.Spec, c),
	}
	for _, a := range c.Command {
		s.Command = append(s.Command, Expand(a, lookup))
	}
	for _, a := range c.Args {
		s.Args = append(s.Args, Expand(a, lookup))
	}
	return s, nil
}

// findContainer finds a container of a workload's template by name, and
// says whether it is an init container.
func findContainer(wl *config.Workload, name string) (*corev1.Container, bool) {
	for i := range wl.Template.Spec.InitContainers {
		if wl.Template.Spec.InitContainers[i].Name == name {
			return &wl.Template.Spec.InitContainers[i], true
		}
	}
	for i := range wl.Template.Spec.Containers {
		if wl.Template.Spec.Containers[i].Name == name {
			return &wl.Template.Spec.Containers[i], false
		}
	}
	return nil, false
}

// podSpec translates a workload's template into the engine's pod spec.
func (e *Executor) podSpec(wl *config.Workload, name string) runtime.PodSpec {
	t := &wl.Template
	grace := 30 * time.Second
	if t.Spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*t.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	s := runtime.PodSpec{
		Namespace: wl.Key.Namespace, Name: name, Node: e.opt.Node,
		Owner:        runtime.Owner{Kind: wl.Key.Kind, Name: wl.Key.Name},
		TemplateHash: wl.TemplateHash, Revision: e.desired.Revision,
		Labels: t.Labels, RestartPolicy: string(t.Spec.RestartPolicy), GracePeriod: grace,
		HostIP: e.opt.PublishIP,
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = string(corev1.RestartPolicyAlways)
	}
	s.DNS = e.podDNS(&t.Spec, wl.Key.Namespace)
	s.Hostname = t.Spec.Hostname
	s.ServiceAccount = serviceAccount(&t.Spec)
	s.InitCount = len(t.Spec.InitContainers)
	s.QuotaUsage = podUsage(&t.Spec)
	for _, a := range t.Spec.HostAliases {
		s.HostAliases = append(s.HostAliases, runtime.HostAlias{IP: a.IP, Hostnames: a.Hostnames})
	}
	for _, c := range t.Spec.Containers {
		for _, p := range c.Ports {
			proto := string(p.Protocol)
			if proto == "" {
				proto = "TCP"
			}
			s.Ports = append(s.Ports, runtime.PortSpec{ContainerPort: p.ContainerPort, Protocol: proto})
		}
	}
	return s
}
