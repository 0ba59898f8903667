package health

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestTimingDefaults(t *testing.T) {
	cases := []struct {
		name string
		p    corev1.Probe
		want timing
	}{
		{"all zero", corev1.Probe{}, timing{0, 10 * time.Second, time.Second, 1, 3}},
		{"all set", corev1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 2, TimeoutSeconds: 3, SuccessThreshold: 2, FailureThreshold: 7},
			timing{5 * time.Second, 2 * time.Second, 3 * time.Second, 2, 7}},
		{"negative", corev1.Probe{InitialDelaySeconds: -1, PeriodSeconds: -1, TimeoutSeconds: -1, SuccessThreshold: -1, FailureThreshold: -1},
			timing{0, 10 * time.Second, time.Second, 1, 3}},
	}
	for _, c := range cases {
		if got := timingOf(&c.p); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// step is one probe outcome fed to a state, and what the result must be
// after it: R ready, L live, S started (lowercase: false).
type step struct {
	k    kind
	v    verdict
	want string
}

// t0 is the start of every state scenario; step i happens at t0+i seconds.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// flags renders a result as the step notation.
func flags(r Result) string {
	b := []byte("rls")
	for i, on := range []bool{r.Ready, r.Live, r.Started} {
		if on {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func TestStateMachine(t *testing.T) {
	const R, L, S = readinessProbe, livenessProbe, startupProbe
	cases := []struct {
		name                 string
		startup, readiness   bool
		success, failure     int
		steps                []step
		wantReadySinceAtStep int // -1: zero at the end
	}{
		{"readiness is false until the first success", false, true, 1, 3, []step{
			{R, failed, "rLS"}, {R, failed, "rLS"}, {R, failed, "rLS"}, {R, failed, "rLS"}, {R, passed, "RLS"},
		}, 4},
		{"success and failure thresholds count consecutive outcomes", false, true, 2, 3, []step{
			{R, passed, "rLS"}, {R, failed, "rLS"}, {R, passed, "rLS"}, {R, passed, "RLS"},
			{R, failed, "RLS"}, {R, failed, "RLS"}, {R, passed, "RLS"}, {R, failed, "RLS"}, {R, failed, "RLS"},
			{R, failed, "rLS"}, {R, passed, "rLS"}, {R, passed, "RLS"},
		}, 11},
		{"errors count for nothing and do not break a run", false, true, 1, 3, []step{
			{R, passed, "RLS"}, {R, failed, "RLS"}, {R, errored, "RLS"}, {R, failed, "RLS"}, {R, errored, "RLS"}, {R, failed, "rLS"},
		}, -1},
		{"liveness needs a restart after failureThreshold failures", false, false, 1, 3, []step{
			{L, failed, "RLS"}, {L, failed, "RLS"}, {L, passed, "RLS"}, {L, failed, "RLS"}, {L, failed, "RLS"}, {L, failed, "RlS"},
		}, 0},
		{"readiness is independent of liveness", false, true, 1, 2, []step{
			{R, passed, "RLS"}, {L, failed, "RLS"}, {L, failed, "RlS"}, {R, passed, "RlS"}, {R, failed, "RlS"}, {R, failed, "rlS"},
		}, -1},
		{"startup gates readiness; ready once both passed", true, true, 1, 3, []step{
			{S, failed, "rLs"}, {S, passed, "rLS"}, {R, passed, "RLS"},
		}, 2},
		{"startup without readiness: ready when startup passes", true, false, 1, 3, []step{
			{S, failed, "rLs"}, {S, failed, "rLs"}, {S, passed, "RLS"},
		}, 2},
		{"startup failing past its threshold needs a restart", true, true, 1, 2, []step{
			{S, failed, "rLs"}, {S, failed, "rls"},
		}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := timing{success: c.success, failure: c.failure}
			s := initialState(c.startup, c.readiness, t0)
			var ths [3]threshold
			var readyAt time.Time
			for i, st := range c.steps {
				now := t0.Add(time.Duration(i) * time.Second)
				s.observe(st.k, outcome{st.v, "boom"}, ths[st.k].record(st.v, tm), now)
				if got := flags(s.result()); got != st.want {
					t.Fatalf("step %d (%v %v): got %s, want %s", i, st.k, st.v, got, st.want)
				}
				if i == c.wantReadySinceAtStep {
					readyAt = now
				}
			}
			if c.wantReadySinceAtStep == 0 {
				readyAt = t0 // ready since the container started
			}
			if got := s.result().ReadySince; !got.Equal(readyAt) {
				t.Errorf("ReadySince = %v, want %v", got, readyAt)
			}
		})
	}
}

func TestStateMessages(t *testing.T) {
	s := initialState(false, true, t0)
	tm := timing{success: 1, failure: 2}
	var ths [3]threshold
	feed := func(k kind, v verdict, msg, want string) {
		t.Helper()
		s.observe(k, outcome{v, msg}, ths[k].record(v, tm), t0)
		if got := s.result().Message; got != want {
			t.Errorf("after %v %v: Message = %q, want %q", k, v, got, want)
		}
	}
	feed(readinessProbe, failed, "HTTP probe failed with statuscode: 503", "Readiness probe failed: HTTP probe failed with statuscode: 503")
	feed(livenessProbe, passed, "", "Readiness probe failed: HTTP probe failed with statuscode: 503")
	feed(readinessProbe, passed, "", "")
	feed(readinessProbe, errored, "gRPC probes are not supported", "Readiness probe errored: gRPC probes are not supported")
	feed(livenessProbe, failed, "dial tcp: connection refused", "Liveness probe failed: dial tcp: connection refused")
	feed(livenessProbe, failed, "dial tcp: connection refused", "Liveness probe failed: dial tcp: connection refused")
	// Once a restart is needed, the reason stays.
	feed(readinessProbe, failed, "timeout", "Liveness probe failed: dial tcp: connection refused")
	feed(readinessProbe, passed, "", "Liveness probe failed: dial tcp: connection refused")
}

func TestInitialState(t *testing.T) {
	cases := []struct {
		startup, readiness bool
		want               string
		readySince         time.Time
	}{
		{false, false, "RLS", t0},
		{false, true, "rLS", time.Time{}},
		{true, false, "rLs", time.Time{}},
		{true, true, "rLs", time.Time{}},
	}
	for _, c := range cases {
		s := initialState(c.startup, c.readiness, t0)
		r := s.result()
		if flags(r) != c.want || !r.ReadySince.Equal(c.readySince) || r.Message != "" {
			t.Errorf("startup %v readiness %v: got %s since %v, want %s since %v", c.startup, c.readiness, flags(r), r.ReadySince, c.want, c.readySince)
		}
	}
}
