package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
	// The IANA time zone database, embedded, so a CronJob's timeZone means
	// the same on every host, whatever its /usr/share/zoneinfo holds.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed CronJob schedule in its time zone. It is parsed with
// github.com/robfig/cron/v3's standard parser, the one Kubernetes' CronJob
// controller uses: five fields (minute, hour, day of month, month, day of
// week), the macros @yearly (@annually), @monthly, @weekly, @daily
// (@midnight) and @hourly, and @every <duration>.
type Schedule struct {
	spec     string
	timeZone string
	loc      *time.Location
	sched    cron.Schedule
}

// ParseSchedule parses a schedule in a time zone: an IANA name such as
// "Europe/Berlin", or "" for the daemon's local time zone (where
// kube-controller-manager, too, evaluates schedules without a timeZone).
func ParseSchedule(spec, timeZone string) (Schedule, error) {
	loc := time.Local
	if timeZone != "" {
		l, err := time.LoadLocation(timeZone)
		if err != nil {
			return Schedule{}, fmt.Errorf("time zone %q: %w", timeZone, err)
		}
		loc = l
	}
	sched, err := cron.ParseStandard(strings.TrimSpace(spec))
	if err != nil {
		return Schedule{}, err
	}
	if s, ok := sched.(*cron.SpecSchedule); ok {
		s.Location = loc
	}
	return Schedule{spec: spec, timeZone: timeZone, loc: loc, sched: sched}, nil
}

// errNeverRuns is a schedule that parses but matches no date, such as
// "0 0 30 2 *" (February 30th).
var errNeverRuns = errors.New("the schedule matches no date")

// checkRuns reports errNeverRuns for a schedule with no slot in the five
// years the parser searches from a fixed date (leap days are found).
func (s Schedule) checkRuns() error {
	if s.sched == nil || s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return errNeverRuns
	}
	return nil
}

// Next returns the first slot strictly after t, in t's location; the zero
// time when there is none (an empty Schedule, or none within five years).
func (s Schedule) Next(t time.Time) time.Time {
	if s.sched == nil {
		return time.Time{}
	}
	n := s.sched.Next(t.In(s.loc))
	if n.IsZero() {
		return n
	}
	return n.In(t.Location())
}

// String returns the schedule as written.
func (s Schedule) String() string { return s.spec }

// TimeZone returns the time zone as written ("" for the local one).
func (s Schedule) TimeZone() string { return s.timeZone }

// Location returns where the schedule is evaluated.
func (s Schedule) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}
