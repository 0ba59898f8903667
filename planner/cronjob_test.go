package planner

import (
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

func schedule(t testing.TB, spec, tz string) config.Schedule {
	t.Helper()
	s, err := config.ParseSchedule(spec, tz)
	if err != nil {
		t.Fatalf("ParseSchedule(%q, %q): %v", spec, tz, err)
	}
	return s
}

// cronJob is a CronJob "tick" on spec (UTC) whose Jobs run one container.
func cronJob(t testing.TB, spec string) config.CronJob {
	c := config.CronJob{Key: config.Key{Namespace: "ns", Kind: "CronJob", Name: "tick"},
		Schedule: schedule(t, spec, "UTC"), ConcurrencyPolicy: batchv1.AllowConcurrent,
		SuccessfulJobsHistoryLimit: 3, FailedJobsHistoryLimit: 1,
		JobTemplate: batchv1.JobTemplateSpec{Spec: jobSpec(i32(1), 1, 6, corev1.RestartPolicyOnFailure)}}
	c.TemplateHash = config.JobTemplateHash(&c.JobTemplate.Spec)
	return c
}

// cronRec is the record of CronJob "tick", first seen at created, last
// scheduled at last.
func cronRec(created, last time.Time) runtime.CronJobRecord {
	return runtime.CronJobRecord{Namespace: "ns", Name: "tick", Node: "n", Created: created, LastScheduleTime: last}
}

// slotJob is the record of tick's Job for slot, in condition cond ("" runs).
func slotJob(c config.CronJob, slot time.Time, cond string) runtime.JobRecord {
	r := runtime.JobRecord{Namespace: "ns", Name: JobName("tick", slot), Node: "n", TemplateHash: c.TemplateHash,
		CronJob: "tick", ScheduledTime: slot, Spec: encodeJobTemplate(nil, &c.JobTemplate.Spec),
		Created: slot.Add(time.Second), StartTime: slot.Add(time.Second)}
	if cond != "" {
		r.Condition, r.CompletionTime = cond, slot.Add(10*time.Second)
	}
	return r
}

var m0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) // a minute boundary

func TestJobName(t *testing.T) {
	if got := JobName("tick", time.Date(2026, 11, 23, 12, 1, 0, 0, time.UTC)); got != "tick-29923921" {
		t.Errorf("JobName = %s", got)
	}
}

func TestScheduleNext(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name, spec, tz, from, want string
	}{
		{"every five minutes", "*/5 * * * *", "UTC", "2026-11-23T12:03:10Z", "2026-11-23T12:05:00Z"},
		{"a slot is strictly after from", "*/5 * * * *", "UTC", "2026-11-23T12:05:00Z", "2026-11-23T12:10:00Z"},
		{"@hourly", "@hourly", "UTC", "2026-11-23T12:00:01Z", "2026-11-23T13:00:00Z"},
		{"@daily in Berlin is 23:00 UTC in winter", "@daily", "Europe/Berlin", "2026-11-23T12:00:00Z", "2026-11-23T23:00:00Z"},
		{"@midnight is @daily", "@midnight", "UTC", "2026-11-23T12:00:00Z", "2026-11-24T00:00:00Z"},
		{"@weekly is Sunday midnight", "@weekly", "UTC", "2026-11-23T12:00:00Z", "2026-11-29T00:00:00Z"},
		{"@monthly in Berlin", "@monthly", "Europe/Berlin", "2026-11-23T12:00:00Z", "2026-11-30T23:00:00Z"},
		{"@yearly in Tokyo", "@yearly", "Asia/Tokyo", "2026-11-23T12:00:00Z", "2026-12-31T15:00:00Z"},
		{"@annually is @yearly", "@annually", "UTC", "2026-11-23T12:00:00Z", "2027-01-01T00:00:00Z"},
		{"weekdays at 9 in New York", "0 9 * * 1-5", "America/New_York", "2026-11-27T15:00:00Z", "2026-11-30T14:00:00Z"},
		{"names of months", "0 0 1 JAN,JUL *", "UTC", "2026-11-23T12:00:00Z", "2027-01-01T00:00:00Z"},
		{"names of days", "0 0 * * SAT", "UTC", "2026-11-23T12:00:00Z", "2026-11-28T00:00:00Z"},
		{"leap day", "0 0 29 2 *", "UTC", "2026-11-23T12:00:00Z", "2028-02-29T00:00:00Z"},
		{"@every", "@every 90s", "UTC", "2026-11-23T12:00:00Z", "2026-11-23T12:01:30Z"},
		// DST in New York, 2026: clocks go 02:00 -> 03:00 on March 8 and
		// 02:00 -> 01:00 on November 1. robfig/cron v3.0.1, as Kubernetes
		// runs it: a slot in the skipped hour does not happen that day...
		{"spring forward: 02:30 is skipped that day", "30 2 * * *", "America/New_York", "2026-03-08T05:00:00Z", "2026-03-09T06:30:00Z"},
		{"spring forward: hourly jumps from 01:00 to 03:00 EDT", "0 * * * *", "America/New_York", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"},
		// ... and a slot in the repeated hour happens in both of its runs.
		{"fall back: 01:30 EDT", "30 1 * * *", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z"},
		{"fall back: 01:30 EST, an hour later", "30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"},
		{"fall back: then the next day", "30 1 * * *", "America/New_York", "2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"},
		{"fall back: hourly counts real hours", "0 * * * *", "America/New_York", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := schedule(t, tc.spec, tc.tz).Next(utc(tc.from))
			if want := utc(tc.want); !got.Equal(want) {
				t.Errorf("Next(%s) = %s, want %s", tc.from, got.UTC().Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestMostRecentSlot(t *testing.T) {
	every := schedule(t, "* * * * *", "UTC")
	tests := []struct {
		name           string
		s              config.Schedule
		earliest, now  time.Time
		want           time.Time
		wantMissedOver int64
	}{
		{"no slot yet", every, m0, m0.Add(59 * time.Second), time.Time{}, -1},
		{"the first slot", every, m0, m0.Add(61 * time.Second), m0.Add(time.Minute), 0},
		{"a slot is due at its second", every, m0, m0.Add(time.Minute), m0.Add(time.Minute), 0},
		{"after downtime only the most recent slot", every, m0, m0.Add(10*time.Minute + 5*time.Second), m0.Add(10 * time.Minute), 9},
		{"beyond 100 missed slots", every, m0, m0.Add(3 * time.Hour), m0.Add(3 * time.Hour), 100},
		{"years of downtime cost nothing", every, m0.AddDate(-3, 0, 0), m0.Add(30 * time.Second), m0, 100},
		{"a lost first-seen time looks back a century at most", every, time.Time{}, m0.Add(30 * time.Second), m0, 100},
		{"weekdays: the estimate overshoots over a weekend", schedule(t, "0 9 * * 1-5", "UTC"),
			time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), // Wednesday
			time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC),  // Monday, before 9
			time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, missed, err := MostRecentSlot(tc.s, tc.earliest, tc.now)
			if err != nil || !got.Equal(tc.want) || missed <= tc.wantMissedOver {
				t.Errorf("MostRecentSlot = %s, %d, %v; want %s and more than %d missed", got, missed, err, tc.want, tc.wantMissedOver)
			}
		})
	}
}

func TestCronJobRules(t *testing.T) {
	c := cronJob(t, "* * * * *")
	forbid, replace := c, c
	forbid.ConcurrencyPolicy, replace.ConcurrencyPolicy = batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent
	deadline := c
	deadline.StartingDeadlineSeconds = i64(20)
	suspended := c
	suspended.Suspend = true
	ttl := c
	ttl.JobTemplate.Spec.TTLSecondsAfterFinished = i32(30)
	s1, s2, s3 := m0.Add(time.Minute), m0.Add(2*time.Minute), m0.Add(3*time.Minute)
	slots := func(n int, cond string) []runtime.JobRecord {
		var out []runtime.JobRecord
		for i := 1; i <= n; i++ {
			out = append(out, slotJob(c, m0.Add(time.Duration(i)*time.Minute), cond))
		}
		return out
	}
	tests := []struct {
		name      string
		c         batchCase
		now       time.Time
		want      []string
		wantNotes []string
	}{
		{name: "a new CronJob is recorded first; its slots count from then",
			c: batchCase{crons: []config.CronJob{c}}, now: m0.Add(90 * time.Second),
			want: []string{"PutCronJobRecord ns/tick"}},
		{name: "no slot since the CronJob was first seen",
			c: batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(m0, time.Time{})}}, now: m0.Add(30 * time.Second),
			want: []string{}},
		{name: "a due slot records its Job, named after the slot",
			c: batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(m0, time.Time{})}}, now: s1.Add(time.Second),
			want: []string{"PutJobRecord ns/" + JobName("tick", s1) + " 0/0"}},
		{name: "then the CronJob's last schedule, and the Job's pod",
			c: batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(m0, time.Time{})},
				recs: []runtime.JobRecord{slotJob(c, s1, "")}}, now: s1.Add(2 * time.Second),
			want: []string{"CreatePod ns/" + JobName("tick", s1) + "-", "PutCronJobRecord ns/tick last 12:01"}},
		{name: "a slot taken is never run again, even with its Job deleted",
			c: batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(m0, s1)}}, now: s1.Add(50 * time.Second),
			want: []string{}},
		{name: "a finished slot's Job is not run again after a restart",
			c: batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(m0, s1)},
				recs: []runtime.JobRecord{slotJob(c, s1, runtime.JobComplete)}}, now: s1.Add(50 * time.Second),
			want: []string{}},
		{name: "Allow: a new slot's Job starts beside a running one",
			c: batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(m0, s1)},
				recs: []runtime.JobRecord{slotJob(c, s1, "")},
				pods: []runtime.Pod{jobPod(JobName("tick", s1), "p1", runtime.StateRunning, 0, 0, s1)}}, now: s2,
			want: []string{"PutJobRecord ns/" + JobName("tick", s2)}},
		{name: "Forbid: the slot is skipped while the previous Job runs",
			c: batchCase{crons: []config.CronJob{forbid}, crecs: []runtime.CronJobRecord{cronRec(m0, s1)},
				recs: []runtime.JobRecord{slotJob(c, s1, "")},
				pods: []runtime.Pod{jobPod(JobName("tick", s1), "p1", runtime.StateRunning, 0, 0, s1)}}, now: s2,
			want: []string{}, wantNotes: []string{"JobAlreadyActive"}},
		{name: "Replace: the running Job is marked for deletion first",
			c: batchCase{crons: []config.CronJob{replace}, crecs: []runtime.CronJobRecord{cronRec(m0, s1)},
				recs: []runtime.JobRecord{slotJob(c, s1, "")},
				pods: []runtime.Pod{jobPod(JobName("tick", s1), "p1", runtime.StateRunning, 0, 0, s1)}}, now: s2,
			want: []string{"PutJobRecord ns/" + JobName("tick", s1) + " 0/0 deleting"}},
		{name: "Replace: then its pods go, and the new slot's Job is recorded",
			c: batchCase{crons: []config.CronJob{replace}, crecs: []runtime.CronJobRecord{cronRec(m0, s1)},
				recs: []runtime.JobRecord{func() runtime.JobRecord { r := slotJob(c, s1, ""); r.Deleting = true; return r }()},
				pods: []runtime.Pod{jobPod(JobName("tick", s1), "p1", runtime.StateRunning, 0, 0, s1)}}, now: s2,
			want: []string{"RemovePod ns/p1", "PutJobRecord ns/" + JobName("tick", s2)}},
		{name: "after downtime the most recent missed slot runs, once",
			c: batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(m0, s1)}}, now: m0.Add(3*time.Hour + 10*time.Second),
			want:      []string{"PutJobRecord ns/" + JobName("tick", m0.Add(3*time.Hour))},
			wantNotes: []string{"TooManyMissedTimes"}},
		{name: "startingDeadlineSeconds: a slot still within it runs late",
			c: batchCase{crons: []config.CronJob{deadline}, crecs: []runtime.CronJobRecord{cronRec(m0, time.Time{})}}, now: s1.Add(15 * time.Second),
			want: []string{"PutJobRecord ns/" + JobName("tick", s1)}},
		{name: "startingDeadlineSeconds: a slot past it is missed",
			c: batchCase{crons: []config.CronJob{deadline}, crecs: []runtime.CronJobRecord{cronRec(m0, time.Time{})}}, now: s1.Add(25 * time.Second),
			want: []string{}, wantNotes: []string{"MissSchedule"}},
		{name: "a suspended CronJob starts nothing",
			c: batchCase{crons: []config.CronJob{suspended}, crecs: []runtime.CronJobRecord{cronRec(m0, time.Time{})}}, now: s3,
			want: []string{}},
		{name: "history limits: the oldest finished Jobs beyond the limits go",
			c: batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(m0, m0.Add(5*time.Minute))},
				recs: append(slots(5, runtime.JobComplete), slotJob(c, m0.Add(6*time.Minute), runtime.JobFailed), slotJob(c, m0.Add(7*time.Minute), runtime.JobFailed)),
				pods: []runtime.Pod{jobPod(JobName("tick", s1), "p1", runtime.StateExited, 0, 0, s1)}}, now: m0.Add(5*time.Minute + 30*time.Second),
			want: []string{"RemovePod ns/p1", "DeleteJobRecord ns/" + JobName("tick", s2)}},
		{name: "a Job's TTL deletes a CronJob's Job entirely",
			c: batchCase{crons: []config.CronJob{ttl}, crecs: []runtime.CronJobRecord{cronRec(m0, s1)},
				recs: []runtime.JobRecord{func() runtime.JobRecord { r := slotJob(ttl, s1, runtime.JobComplete); return r }()}}, now: s1.Add(45 * time.Second),
			want: []string{"DeleteJobRecord ns/" + JobName("tick", s1)}},
		{name: "a CronJob removed from the source: its Jobs' pods, then records, then its own record",
			c: batchCase{crecs: []runtime.CronJobRecord{cronRec(m0, s1)}, recs: slots(2, runtime.JobComplete),
				pods: []runtime.Pod{jobPod(JobName("tick", s1), "p1", runtime.StateExited, 0, 0, s1)}}, now: s2,
			want: []string{"RemovePod ns/p1", "DeleteJobRecord ns/" + JobName("tick", s2), "DeleteCronJobRecord ns/tick"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.plan(tc.now)
			if got := summary(r.Actions); !matchPrefixes(got, tc.want) {
				t.Errorf("plan:\n got  %q\n want %q", got, tc.want)
			}
			var notes []string
			for _, n := range r.Notes {
				notes = append(notes, n.Reason)
			}
			if strings.Join(notes, ",") != strings.Join(tc.wantNotes, ",") {
				t.Errorf("notes %q, want %q", notes, tc.wantNotes)
			}
		})
	}
}

func TestCronJobTimeZoneAndStatus(t *testing.T) {
	c := cronJob(t, "0 9 * * *")
	c.Schedule = schedule(t, "0 9 * * *", "Asia/Tokyo") // 09:00 JST is 00:00 UTC
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	bc := batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(day.Add(-time.Hour), time.Time{})}}
	r := bc.plan(day.Add(5 * time.Second))
	if got := summary(r.Actions); !reflect.DeepEqual(got, []string{"PutJobRecord ns/" + JobName("tick", day) + " 0/0"}) {
		t.Fatalf("09:00 in Tokyo: %q", got)
	}
	if st := r.CronJobs[0]; st.Schedule != "0 9 * * *" || st.TimeZone != "Asia/Tokyo" || !st.NextScheduleTime.Equal(day.Add(24*time.Hour)) {
		t.Errorf("status %+v", st)
	}
	if !r.Requeue.Equal(day.Add(24 * time.Hour)) {
		t.Errorf("requeue %v, want the next slot", r.Requeue)
	}
	// A running Job is active; a complete one sets the last successful time.
	done := slotJob(c, day.Add(-24*time.Hour), runtime.JobComplete)
	running := slotJob(c, day, "")
	bc = batchCase{crons: []config.CronJob{c}, crecs: []runtime.CronJobRecord{cronRec(day.Add(-48*time.Hour), day)},
		recs: []runtime.JobRecord{done, running}}
	r = bc.plan(day.Add(time.Minute))
	st := r.CronJobs[0]
	if !reflect.DeepEqual(st.Active, []string{running.Name}) || !st.LastSuccessfulTime.Equal(done.CompletionTime) || !st.LastScheduleTime.Equal(day) {
		t.Errorf("status %+v", st)
	}
	if len(r.Jobs) != 2 || r.Jobs[0].CronJob != "tick" {
		t.Errorf("the CronJob's Jobs: %+v", r.Jobs)
	}
}
