package config

import (
	"strings"
	"time"
)

// scheduleMacros are the predefined schedules Kubernetes' cron parser
// accepts.
var scheduleMacros = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// checkSchedule is a basic check of a CronJob schedule: a macro such as
// "@hourly" or "@every 5m", or five fields (minute, hour, day of month,
// month, day of week) made of the characters cron uses. It returns "" when
// the schedule is acceptable; full parsing belongs to the scheduler.
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
