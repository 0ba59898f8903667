package config

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// msgSelectorMismatch is the error when a controller's selector does not
// select its own pods.
const msgSelectorMismatch = "does not match selector"

// validateTemplate checks a pod template: its labels, its spec, and its
// restart policy against the ones the controller allows.
func validateTemplate(t *corev1.PodTemplateSpec, path *field.Path, restart ...corev1.RestartPolicy) field.ErrorList {
	errs := validateLabels(t.Labels, path.Child("metadata", "labels"))
	errs = append(errs, validateAnnotations(t.Annotations, path.Child("metadata", "annotations"))...)
	errs = append(errs, validatePodSpec(&t.Spec, path.Child("spec"))...)
	if len(restart) > 0 && t.Spec.RestartPolicy != "" {
		errs = append(errs, oneOf(path.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, restart...)...)
	}
	return errs
}

// validateDeployment checks an apps/v1 Deployment spec: a non-empty selector
// that matches the template labels, replicas ≥ 0, restartPolicy Always, the
// strategy, and the timing fields.
func validateDeployment(s *appsv1.DeploymentSpec, path *field.Path) field.ErrorList {
	errs := nonNegativePtr(s.Replicas, path.Child("replicas"))
	errs = append(errs, validateSelector(s.Selector, s.Template.Labels, path)...)
	errs = append(errs, validateTemplate(&s.Template, path.Child("template"), corev1.RestartPolicyAlways)...)
	errs = append(errs, validateStrategy(&s.Strategy, path.Child("strategy"))...)
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), path.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(s.RevisionHistoryLimit, path.Child("revisionHistoryLimit"))...)
	if p := s.ProgressDeadlineSeconds; p != nil {
		errs = append(errs, nonNegative(int64(*p), path.Child("progressDeadlineSeconds"))...)
		if *p <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(path.Child("progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

// validateSelector checks a required, non-empty label selector and that it
// selects the template labels.
func validateSelector(sel *metav1.LabelSelector, tmplLabels map[string]string, spec *field.Path) field.ErrorList {
	sp := spec.Child("selector")
	if sel == nil {
		return field.ErrorList{field.Required(sp, "")}
	}
	errs := metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, sp)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		return append(errs, field.Invalid(sp, "", "empty selector is invalid for deployment"))
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || len(errs) > 0 {
		return errs
	}
	if !selector.Matches(labels.Set(tmplLabels)) {
		errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), "", msgSelectorMismatch))
	}
	return errs
}

// validateStrategy checks a Deployment strategy: Recreate, or RollingUpdate
// with maxSurge and maxUnavailable as non-negative integers or percentages,
// not both zero, maxUnavailable at most 100%.
func validateStrategy(st *appsv1.DeploymentStrategy, path *field.Path) field.ErrorList {
	switch st.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if st.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(path.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
		return nil
	case appsv1.RollingUpdateDeploymentStrategyType:
	default:
		return field.ErrorList{field.NotSupported(path.Child("type"), st.Type,
			[]appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType})}
	}
	ru := st.RollingUpdate
	if ru == nil {
		return nil
	}
	rp := path.Child("rollingUpdate")
	errs := validateIntOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"))
	errs = append(errs, validateIntOrPercent(ru.MaxSurge, rp.Child("maxSurge"))...)
	if len(errs) > 0 {
		return errs
	}
	if percentOrInt(ru.MaxUnavailable) == 0 && percentOrInt(ru.MaxSurge) == 0 {
		errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), "", "may not be 0 when `maxSurge` is 0"))
	}
	if v := ru.MaxUnavailable; v != nil && v.Type == intstr.String && percentOrInt(v) > 100 {
		errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), v.StrVal, "must not be greater than 100%"))
	}
	return errs
}

// validateIntOrPercent checks a non-negative integer or a percentage.
func validateIntOrPercent(v *intstr.IntOrString, path *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.String {
		return invalidAll(path, v.StrVal, validation.IsValidPercent(v.StrVal))
	}
	return nonNegative(int64(v.IntVal), path)
}

// percentOrInt reads a validated integer or percentage as a number.
func percentOrInt(v *intstr.IntOrString) int {
	if v == nil {
		return 0
	}
	if v.Type == intstr.Int {
		return int(v.IntVal)
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return n
}

// validateReplicationController checks a v1 ReplicationController spec: a
// non-empty selector that matches the template labels, replicas ≥ 0, a
// template with restartPolicy Always.
func validateReplicationController(s *corev1.ReplicationControllerSpec, path *field.Path) field.ErrorList {
	errs := nonNegativePtr(s.Replicas, path.Child("replicas"))
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), path.Child("minReadySeconds"))...)
	if len(s.Selector) == 0 {
		errs = append(errs, field.Required(path.Child("selector"), ""))
	}
	errs = append(errs, validateSelectorLabels(s.Selector, path.Child("selector"))...)
	if s.Template == nil {
		return append(errs, field.Required(path.Child("template"), ""))
	}
	if len(s.Selector) > 0 && !labels.SelectorFromSet(s.Selector).Matches(labels.Set(s.Template.Labels)) {
		errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), "", msgSelectorMismatch))
	}
	return append(errs, validateTemplate(s.Template, path.Child("template"), corev1.RestartPolicyAlways)...)
}

// validateJobSpec checks a batch/v1 Job spec: counts ≥ 0, an optional
// selector, and a template whose restartPolicy is OnFailure or Never (the
// defaulted Always is refused, as Kubernetes refuses it).
func validateJobSpec(s *batchv1.JobSpec, path *field.Path) field.ErrorList {
	errs := nonNegativePtr(s.Parallelism, path.Child("parallelism"))
	errs = append(errs, nonNegativePtr(s.Completions, path.Child("completions"))...)
	errs = append(errs, nonNegativePtr(s.BackoffLimit, path.Child("backoffLimit"))...)
	errs = append(errs, nonNegativePtr(s.TTLSecondsAfterFinished, path.Child("ttlSecondsAfterFinished"))...)
	if v := s.ActiveDeadlineSeconds; v != nil && *v < 1 {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *v, "must be at least 1"))
	}
	if s.CompletionMode != nil {
		errs = append(errs, oneOf(path.Child("completionMode"), *s.CompletionMode, batchv1.NonIndexedCompletion, batchv1.IndexedCompletion)...)
	}
	errs = append(errs, metavalidation.ValidateLabelSelector(s.Selector, metavalidation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
	return append(errs, validateTemplate(&s.Template, path.Child("template"), corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)...)
}

// maxCronJobNameLength is Kubernetes' limit: the name plus the 11
// characters of a scheduled Job's suffix must fit a 63-character label.
const maxCronJobNameLength = 52

// validateCronJob checks a batch/v1 CronJob: name length, schedule,
// concurrency policy, limits, and the job template.
func validateCronJob(c *batchv1.CronJob, root *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(c.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(root.Child("metadata", "name"), c.Name, "must be no more than 52 characters"))
	}
	sp := root.Child("spec")
	errs = append(errs, validateSchedule(c.Spec.Schedule, c.Spec.TimeZone, sp)...)
	errs = append(errs, oneOf(sp.Child("concurrencyPolicy"), c.Spec.ConcurrencyPolicy,
		batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent)...)
	errs = append(errs, nonNegativePtr(c.Spec.StartingDeadlineSeconds, sp.Child("startingDeadlineSeconds"))...)
	errs = append(errs, nonNegativePtr(c.Spec.SuccessfulJobsHistoryLimit, sp.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, nonNegativePtr(c.Spec.FailedJobsHistoryLimit, sp.Child("failedJobsHistoryLimit"))...)
	jt := sp.Child("jobTemplate")
	errs = append(errs, validateLabels(c.Spec.JobTemplate.Labels, jt.Child("metadata", "labels"))...)
	return append(errs, validateJobSpec(&c.Spec.JobTemplate.Spec, jt.Child("spec"))...)
}
