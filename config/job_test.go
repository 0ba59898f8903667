package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

const jobYAML = `apiVersion: batch/v1
kind: Job
metadata: {name: dice, namespace: games, labels: {team: a}}
spec:
%s  template:
    spec:
      restartPolicy: %s
      containers: [{name: dice, image: "localhost/reconciler-hello:v1", args: [dice]}]
`

const cronYAML = `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: %q
%s  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: %s
          containers: [{name: c, image: "localhost/reconciler-hello:v1"}]
`

func loadOne(t *testing.T, manifest string) (*Desired, error) {
	t.Helper()
	return Load(memFS(map[string]string{"m.yaml": manifest, "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: games}\n"}), "rev")
}

func TestJobsReachTheDesiredState(t *testing.T) {
	d, err := loadOne(t, jobDoc("", "Never")+"---\n"+cronDoc("*/5 * * * *", "", "OnFailure"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Jobs) != 1 || len(d.CronJobs) != 1 || len(d.Workloads) != 0 {
		t.Fatalf("jobs %d cronjobs %d workloads %d", len(d.Jobs), len(d.CronJobs), len(d.Workloads))
	}
	j := d.Jobs[0]
	if j.Key != (Key{Namespace: "games", Kind: "Job", Name: "dice"}) || *j.Spec.Completions != 1 || *j.Spec.Parallelism != 1 ||
		*j.Spec.BackoffLimit != 6 || j.Labels["team"] != "a" || j.TemplateHash == "" || len(j.Unhonoured) != 0 {
		t.Errorf("job %+v", j)
	}
	c := d.CronJobs[0]
	if c.Key.Namespace != "default" || c.ConcurrencyPolicy != batchv1.AllowConcurrent || c.SuccessfulJobsHistoryLimit != 3 ||
		c.FailedJobsHistoryLimit != 1 || c.Suspend || c.Schedule.String() != "*/5 * * * *" ||
		*c.JobTemplate.Spec.BackoffLimit != 6 || *c.JobTemplate.Spec.Completions != 1 {
		t.Errorf("cronjob %+v", c)
	}
	from := time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC)
	if got := c.Schedule.Next(from); !got.Equal(from.Add(3 * time.Minute)) {
		t.Errorf("next slot %v", got)
	}
}

// jobDoc and cronDoc fill the templates above.
func jobDoc(spec, policy string) string { return fmt.Sprintf(jobYAML, spec, policy) }
func cronDoc(schedule, spec, policy string) string {
	return fmt.Sprintf(cronYAML, schedule, spec, policy)
}

func TestJobTemplateHash(t *testing.T) {
	base := jobSpecOf(t, jobDoc("", "Never"))
	same := jobSpecOf(t, jobDoc("  backoffLimit: 4\n  ttlSecondsAfterFinished: 10\n  suspend: true\n", "Never"))
	parallel := jobSpecOf(t, jobDoc("  completions: 1\n  parallelism: 3\n  activeDeadlineSeconds: 60\n", "Never"))
	more := jobSpecOf(t, jobDoc("  completions: 2\n", "Never"))
	other := jobSpecOf(t, jobDoc("", "OnFailure"))
	h := JobTemplateHash(&base)
	if JobTemplateHash(&same) != h || JobTemplateHash(&parallel) != h {
		t.Errorf("the mutable fields change the hash: %s %s %s", h, JobTemplateHash(&same), JobTemplateHash(&parallel))
	}
	if JobTemplateHash(&more) == h || JobTemplateHash(&other) == h {
		t.Errorf("completions or the template do not change the hash")
	}
}

func jobSpecOf(t *testing.T, manifest string) batchv1.JobSpec {
	t.Helper()
	d, err := loadOne(t, manifest)
	if err != nil || len(d.Jobs) != 1 {
		t.Fatalf("load: %v", err)
	}
	return d.Jobs[0].Spec
}

func TestJobValidation(t *testing.T) {
	tests := []struct {
		name, manifest string
		want           []string
	}{
		{"a Job's restartPolicy Always is refused", jobDoc("", "Always"),
			[]string{`m.yaml#0: spec.template.spec.restartPolicy: unsupported value "Always": supported values: "OnFailure", "Never"`}},
		{"a CronJob's restartPolicy Always is refused", cronDoc("@hourly", "", "Always"),
			[]string{`m.yaml#0: spec.jobTemplate.spec.template.spec.restartPolicy: unsupported value "Always": supported values: "OnFailure", "Never"`}},
		{"a schedule value out of range", cronDoc("61 * * * *", "", "Never"),
			[]string{`m.yaml#0: spec.schedule: end of range (61) above maximum (59): 61`}},
		{"a schedule that matches no date", cronDoc("0 0 30 2 *", "", "Never"),
			[]string{`m.yaml#0: spec.schedule: the schedule matches no date`}},
		{"an unknown time zone", cronDoc("@daily", "  timeZone: Mars/Olympus_Mons\n", "Never"),
			[]string{`m.yaml#0: spec.timeZone: unknown time zone Mars/Olympus_Mons`}},
		{"the Local time zone", cronDoc("@daily", "  timeZone: Local\n", "Never"),
			[]string{`m.yaml#0: spec.timeZone: timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones`}},
		{"a TZ in the schedule", cronDoc("TZ=UTC 0 * * * *", "", "Never"),
			[]string{`m.yaml#0: spec.schedule: cannot use TZ or CRON_TZ in schedule, use timeZone field instead`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadOne(t, tc.manifest)
			if got := errorLines(err); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	for _, ok := range []string{"@yearly", "@monthly", "@weekly", "@daily", "@hourly", "@every 90s", "0 9 * * MON-FRI"} {
		if _, err := loadOne(t, cronDoc(ok, "  timeZone: Europe/Berlin\n", "Never")); err != nil {
			t.Errorf("schedule %q: %v", ok, err)
		}
	}
}

func TestJobUnhonoured(t *testing.T) {
	d, err := loadOne(t, jobDoc("  completionMode: Indexed\n  completions: 3\n", "Never"))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Jobs[0].Unhonoured; len(got) != 1 || got[0] != "spec.completionMode: Indexed completion not run by this build yet" {
		t.Errorf("unhonoured %q", got)
	}
	vol := strings.Replace(cronDoc("@daily", "", "Never"), "containers:", "imagePullSecrets: [{name: r}]\n          containers:", 1)
	d, err = loadOne(t, vol)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.CronJobs[0].Unhonoured; len(got) != 1 || !strings.Contains(got[0], "spec.jobTemplate.spec.template.spec.imagePullSecrets: image pull secrets") {
		t.Errorf("unhonoured %q", got)
	}
}

func TestReferenceDiceJob(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "reference", "003-29-job-dice.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := loadOne(t, string(data))
	if err != nil {
		t.Fatal(err)
	}
	j := d.Jobs[0]
	if j.Key.Name != "dice-job" || *j.Spec.Completions != 1 || *j.Spec.Parallelism != 1 ||
		j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("dice job %+v", j)
	}
}
