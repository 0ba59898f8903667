package health

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The Kubernetes defaults of a probe's timing fields.
const (
	defaultPeriod           = 10 * time.Second
	defaultTimeout          = 1 * time.Second
	defaultSuccessThreshold = 1
	defaultFailureThreshold = 3
)

// timing is a probe's schedule and thresholds, defaults applied.
type timing struct {
	initialDelay time.Duration
	period       time.Duration
	timeout      time.Duration
	success      int
	failure      int
}

// timingOf reads p's timing fields, taking the Kubernetes default for any
// that is zero (or negative, which validation rejects anyway).
func timingOf(p *corev1.Probe) timing {
	return timing{
		initialDelay: seconds(p.InitialDelaySeconds, 0),
		period:       seconds(p.PeriodSeconds, defaultPeriod),
		timeout:      seconds(p.TimeoutSeconds, defaultTimeout),
		success:      count(p.SuccessThreshold, defaultSuccessThreshold),
		failure:      count(p.FailureThreshold, defaultFailureThreshold),
	}
}

// seconds converts a field in seconds, or returns def when it is not
// positive.
func seconds(v int32, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return time.Duration(v) * time.Second
}

// count returns v, or def when it is not positive.
func count(v int32, def int) int {
	if v <= 0 {
		return def
	}
	return int(v)
}
