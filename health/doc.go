// Package health runs the Kubernetes startup, liveness and readiness probes
// of containers that run in Podman pods, and keeps their results for the
// executor.
//
// The executor owns a Manager: it calls Run once (the Manager's workers live
// and die inside it), hands the full set of running containers to Sync after
// every observation, and reads each container's Result back. Sync and Result
// only take a mutex briefly and never do I/O, so a hanging probe target never
// stalls the reconcile loop; OnChange tells the executor when a result moved
// so it can plan again at once.
//
// The semantics are the kubelet's (pkg/kubelet/prober):
//
//   - Probe kinds: httpGet (status 200–399 succeeds), tcpSocket (the connect
//     succeeds) and exec (exit code 0 succeeds). gRPC probes are not
//     supported; such a probe errors and is never counted.
//   - Timings take the Kubernetes defaults where zero: initialDelaySeconds 0,
//     periodSeconds 10, timeoutSeconds 1, successThreshold 1,
//     failureThreshold 3. A result changes only after threshold consecutive
//     equal outcomes; a probe that errors (rather than fails) counts for
//     nothing, as in the kubelet.
//   - Startup: until the startup probe succeeds, liveness and readiness
//     probes do not run; the container is live and not ready. After
//     failureThreshold failures the container needs a restart.
//   - Liveness: after failureThreshold failures the container needs a
//     restart (Result.Live is false) and its liveness probe stops until a
//     new container replaces it. Without a liveness probe a container is
//     always live.
//   - Readiness: not ready until the probe first succeeds successThreshold
//     times in a row, not ready again after failureThreshold failures.
//     Without a readiness probe a container is ready once it has started.
//   - A new container ID (or a new start time for a known ID) starts all
//     state over.
//
// Deliberate differences from the kubelet: the first probe runs exactly
// initialDelaySeconds after the container started (the kubelet checks the
// delay on its ticks, so it may start up to a period later); redirects are
// never followed, so any 3xx answer is a success (the kubelet follows
// redirects to the same host); the probe's host field is ignored, since
// ports are reached through the address Podman published on the host.
//
// HTTP probes share one Transport with keep-alives disabled and TLS
// certificates unverified, as the kubelet's do; every probe is bounded by its
// timeoutSeconds through its context.
package health
