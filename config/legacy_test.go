package config

import (
	"math"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// legacyDeployment is a Deployment in apiVersion v without selector or
// strategy, as the old guides write them.
func legacyDeployment(v string) string {
	return `apiVersion: ` + v + `
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers: [{name: web, image: nginx:1.7.9}]
`
}

func TestLegacyDeployments(t *testing.T) {
	tests := []struct {
		name          string
		manifest      string
		wantSurge     intstr.IntOrString
		wantUnavail   intstr.IntOrString
		wantHistory   int32
		wantDeadline  int32
		wantWarning   string
		wantObjLabels bool
	}{
		{
			name:          "extensions/v1beta1: surge and unavailable 1, history and deadline unlimited",
			manifest:      legacyDeployment("extensions/v1beta1"),
			wantSurge:     intstr.FromInt32(1),
			wantUnavail:   intstr.FromInt32(1),
			wantHistory:   math.MaxInt32,
			wantDeadline:  math.MaxInt32,
			wantWarning:   "m.yaml#0: apiVersion extensions/v1beta1 Deployment is deprecated; use apps/v1",
			wantObjLabels: true,
		},
		{
			name:          "apps/v1beta1: 25%, history 2, deadline 600",
			manifest:      legacyDeployment("apps/v1beta1"),
			wantSurge:     intstr.FromString("25%"),
			wantUnavail:   intstr.FromString("25%"),
			wantHistory:   2,
			wantDeadline:  600,
			wantWarning:   "m.yaml#0: apiVersion apps/v1beta1 Deployment is deprecated; use apps/v1",
			wantObjLabels: true,
		},
		{
			name: "apps/v1beta2: the apps/v1 defaults",
			manifest: strings.Replace(legacyDeployment("apps/v1beta2"), "spec:\n  replicas: 3",
				"spec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}", 1),
			wantSurge:    intstr.FromString("25%"),
			wantUnavail:  intstr.FromString("25%"),
			wantHistory:  10,
			wantDeadline: 600,
			wantWarning:  "m.yaml#0: apiVersion apps/v1beta2 Deployment is deprecated; use apps/v1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, warnings := decodeOne(t, "m.yaml", tt.manifest)
			d, ok := o.Obj.(*appsv1.Deployment)
			if !ok {
				t.Fatalf("Obj is %T, want *appsv1.Deployment", o.Obj)
			}
			expect(t, "apiVersion", d.APIVersion, "apps/v1")
			expect(t, "replicas", *d.Spec.Replicas, int32(3))
			expect(t, "maxSurge", *d.Spec.Strategy.RollingUpdate.MaxSurge, tt.wantSurge)
			expect(t, "maxUnavailable", *d.Spec.Strategy.RollingUpdate.MaxUnavailable, tt.wantUnavail)
			expect(t, "revisionHistoryLimit", *d.Spec.RevisionHistoryLimit, tt.wantHistory)
			expect(t, "progressDeadlineSeconds", *d.Spec.ProgressDeadlineSeconds, tt.wantDeadline)
			expect(t, "selector", len(d.Spec.Selector.MatchLabels) > 0, true)
			expect(t, "object labels from template", d.Labels["tier"] == "front", tt.wantObjLabels)
			expect(t, "template defaults", d.Spec.Template.Spec.RestartPolicy, "Always")
			if len(warnings) != 1 || warnings[0] != tt.wantWarning {
				t.Errorf("warnings = %q, want [%q]", warnings, tt.wantWarning)
			}
		})
	}
}

func TestLegacyDeploymentRules(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     []string
	}{
		{
			name:     "apps/v1beta2 requires a selector",
			manifest: legacyDeployment("apps/v1beta2"),
			want:     []string{"m.yaml#0: spec.selector: required value"},
		},
		{
			name:     "legacy fields are still strict",
			manifest: strings.Replace(legacyDeployment("extensions/v1beta1"), "replicas: 3", "replica: 3", 1),
			want:     []string{"m.yaml#0: spec.replica: unknown field"},
		},
		{
			name:     "rollbackTo has no apps/v1 equivalent",
			manifest: strings.Replace(legacyDeployment("extensions/v1beta1"), "replicas: 3", "rollbackTo: {revision: 2}", 1),
			want:     []string{"m.yaml#0: spec.rollbackTo: not supported by reconciler"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode("m.yaml", []byte(tt.manifest))
			if got := errorLines(err); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLegacyCronJobs(t *testing.T) {
	const body = `
kind: CronJob
metadata: {name: check}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: check, image: alpine}]
`
	tests := []struct {
		version       string
		wantSucceeded int32
		wantFailed    int32
	}{
		{"batch/v1beta1", 3, 1},
		{"batch/v2alpha1", math.MaxInt32, math.MaxInt32},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			o, warnings := decodeOne(t, "m.yaml", "apiVersion: "+tt.version+body)
			c := o.Obj.(*batchv1.CronJob)
			expect(t, "apiVersion", c.APIVersion, "batch/v1")
			expect(t, "concurrencyPolicy", c.Spec.ConcurrencyPolicy, batchv1.AllowConcurrent)
			expect(t, "suspend", *c.Spec.Suspend, false)
			expect(t, "successfulJobsHistoryLimit", *c.Spec.SuccessfulJobsHistoryLimit, tt.wantSucceeded)
			expect(t, "failedJobsHistoryLimit", *c.Spec.FailedJobsHistoryLimit, tt.wantFailed)
			want := "m.yaml#0: apiVersion " + tt.version + " CronJob is deprecated; use batch/v1"
			if len(warnings) != 1 || warnings[0] != want {
				t.Errorf("warnings = %q, want [%q]", warnings, want)
			}
		})
	}
}
