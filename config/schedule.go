package config

import (
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// scheduleMacros are the predefined schedules Kubernetes' cron parser
// accepts.
var scheduleMacros = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// checkSchedule is the first check of a CronJob schedule, with messages
// that say what is expected: a macro such as "@hourly" or "@every 5m", or
// five fields (minute, hour, day of month, month, day of week) made of the
// characters cron uses. It returns "" when the schedule has that shape; the
// cron parser then checks the values (validateSchedule).
func checkSchedule(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "a schedule is required"
	case strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ="):
		return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
	case strings.HasPrefix(s, "@every "):
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(s, "@every ")))
		if err != nil || d <= 0 {
			return "@every needs a positive duration such as 5m"
		}
		return ""
	case strings.HasPrefix(s, "@"):
		if !scheduleMacros[s] {
			return "unknown macro; use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>"
		}
		return ""
	}
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return "must have 5 fields (minute hour day-of-month month day-of-week) or be a macro such as @hourly"
	}
	for _, f := range fields {
		if strings.Trim(f, "0123456789*,-/?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			return "fields may only hold numbers, names, and the characters * , - / ?"
		}
	}
	return ""
}

// validTimeZoneCharacters is Kubernetes' check of each part of a time zone
// name, before the name is looked up.
var validTimeZoneCharacters = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

// validateTimeZone checks a CronJob's timeZone as Kubernetes does: unset,
// or an explicit IANA name ("Local" is refused) that the embedded time zone
// database knows.
func validateTimeZone(tz *string, path *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(path, *tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !validTimeZoneCharacters.MatchString(part) {
			return field.ErrorList{field.Invalid(path, *tz, "unknown time zone "+*tz)}
		}
	}
	if strings.EqualFold(*tz, "Local") {
		return field.ErrorList{field.Invalid(path, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return field.ErrorList{field.Invalid(path, *tz, err.Error())}
	}
	return nil
}

// validateSchedule checks a CronJob's schedule and time zone: the shape
// (checkSchedule), then the cron parser's verdict on the values, and that
// the schedule matches some date at all.
func validateSchedule(spec string, tz *string, sp *field.Path) field.ErrorList {
	errs := validateTimeZone(tz, sp.Child("timeZone"))
	if msg := checkSchedule(spec); msg != "" {
		return append(errs, field.Invalid(sp.Child("schedule"), spec, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	zone := ""
	if tz != nil {
		zone = *tz
	}
	s, err := ParseSchedule(spec, zone)
	if err == nil {
		err = s.checkRuns()
	}
	if err != nil {
		errs = append(errs, field.Invalid(sp.Child("schedule"), spec, err.Error()))
	}
	return errs
}
