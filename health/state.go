package health

import "time"

// kind is one of a container's three probes.
type kind int

const (
	startupProbe kind = iota
	livenessProbe
	readinessProbe
)

// String names the kind as the kubelet's events do.
func (k kind) String() string {
	switch k {
	case startupProbe:
		return "Startup"
	case livenessProbe:
		return "Liveness"
	case readinessProbe:
		return "Readiness"
	}
	return "Unknown"
}

// verdict is the outcome of one probe attempt.
type verdict int

const (
	// errored means the probe could not be carried out (not the target's
	// fault); as in the kubelet, it counts neither way.
	errored verdict = iota
	passed
	failed
)

// result names the verdict for metrics: success, failure or error.
func (v verdict) result() string {
	switch v {
	case passed:
		return "success"
	case failed:
		return "failure"
	}
	return "error"
}

// String names the verdict, for logs and test failures.
func (v verdict) String() string {
	switch v {
	case passed:
		return "passed"
	case failed:
		return "failed"
	}
	return "errored"
}

// outcome is one probe attempt's verdict and, unless it passed, why.
type outcome struct {
	verdict verdict
	msg     string
}

// threshold counts consecutive equal verdicts, as the kubelet's worker does
// with its resultRun.
type threshold struct {
	last verdict
	run  int
}

// record counts v and reports whether the run of equal verdicts has reached
// its threshold, so that the probe's result becomes v. Errors never settle
// and do not break a run.
func (t *threshold) record(v verdict, tm timing) bool {
	if v == errored {
		return false
	}
	if v == t.last {
		t.run++
	} else {
		t.last, t.run = v, 1
	}
	if v == passed {
		return t.run >= tm.success
	}
	return t.run >= tm.failure
}

// state is what the probes of one container run have established.
type state struct {
	started    bool // startup probe passed, or there is none
	live       bool // no liveness or startup probe has failed past its threshold
	probeReady bool // readiness probe passed, or there is none
	readySince time.Time
	message    string
	msgKind    kind
}

// initialState is the state of a container before any probe ran: started
// and ready unless it has the corresponding probes (a probe-less container
// is ready since it started), always live.
func initialState(hasStartup, hasReadiness bool, startedAt time.Time) state {
	s := state{started: !hasStartup, live: true, probeReady: !hasReadiness}
	if s.ready() {
		s.readySince = startedAt
	}
	return s
}

// ready is the container's readiness: started and passing its readiness
// probe, if any.
func (s *state) ready() bool { return s.started && s.probeReady }

// observe applies one outcome of a k probe at now; settled says the outcome
// reached its threshold (see threshold.record). A failure or error records
// its message; a later pass of the same probe clears it. Once the container
// needs a restart, the message (the reason) no longer changes.
func (s *state) observe(k kind, o outcome, settled bool, now time.Time) {
	wasReady := s.ready()
	if s.live {
		s.note(k, o)
	}
	if settled {
		switch k {
		case startupProbe:
			s.started = o.verdict == passed
			s.live = o.verdict == passed
		case livenessProbe:
			s.live = o.verdict == passed
		case readinessProbe:
			s.probeReady = o.verdict == passed
		}
	}
	switch ready := s.ready(); {
	case ready && !wasReady:
		s.readySince = now
	case !ready:
		s.readySince = time.Time{}
	}
}

// note keeps the message of a failed or errored probe, in the kubelet's
// event wording, and clears it when the same probe passes.
func (s *state) note(k kind, o outcome) {
	switch o.verdict {
	case passed:
		if s.msgKind == k {
			s.message = ""
		}
	case failed:
		s.message, s.msgKind = k.String()+" probe failed: "+o.msg, k
	case errored:
		s.message, s.msgKind = k.String()+" probe errored: "+o.msg, k
	}
}

// result is the state as the executor sees it.
func (s *state) result() Result {
	return Result{
		Ready:      s.ready(),
		ReadySince: s.readySince,
		Live:       s.live,
		Started:    s.started,
		Message:    s.message,
	}
}
