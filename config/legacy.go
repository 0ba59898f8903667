package config

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"

	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	extv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Legacy API versions are decoded strictly into their own k8s.io/api types,
// given the defaults Kubernetes applied to that version (which differ from
// today's), and only then converted to the current type, whose defaults fill
// whatever is still unset. The specs have the same JSON shape, so the
// conversion is a JSON round trip that rejects any field the current type
// lacks.
//
// The defaults are those of Kubernetes' own defaulting functions:
// pkg/apis/extensions/v1beta1/defaults.go, pkg/apis/apps/v1beta1/defaults.go
// (its SetDefaults_Deployment comment lists "MaxUnavailable 25% (1 in
// extensions), MaxSurge 25% (1 in extensions), RevisionHistoryLimit 2 (not
// set in extensions), ProgressDeadlineSeconds 600s (not set in extensions)"),
// pkg/apis/apps/v1beta2/defaults.go (the same as apps/v1),
// pkg/apis/batch/v1beta1/defaults.go and pkg/apis/batch/v2alpha1/defaults.go.

// convertExtensionsDeployment converts an extensions/v1beta1 Deployment.
// That version defaulted the selector (and the Deployment's own labels) from
// the template labels, maxSurge and maxUnavailable to 1, and left
// revisionHistoryLimit and progressDeadlineSeconds unset, meaning unlimited;
// Kubernetes 1.9+ serves that unset value as MaxInt32 (see the field
// comments in k8s.io/api/extensions/v1beta1), and so do we.
func convertExtensionsDeployment(obj any, root *field.Path, is *issues) runtime.Object {
	d := obj.(*extv1beta1.Deployment)
	defaultLegacySelector(&d.ObjectMeta, &d.Spec.Selector, d.Spec.Template.Labels)
	st := &d.Spec.Strategy
	if st.Type == "" {
		st.Type = extv1beta1.RollingUpdateDeploymentStrategyType
	}
	if st.Type == extv1beta1.RollingUpdateDeploymentStrategyType || st.RollingUpdate != nil {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &extv1beta1.RollingUpdateDeployment{}
		}
		setIntOrString(&st.RollingUpdate.MaxUnavailable, intstr.FromInt32(1))
		setIntOrString(&st.RollingUpdate.MaxSurge, intstr.FromInt32(1))
	}
	setInt32(&d.Spec.RevisionHistoryLimit, math.MaxInt32)
	setInt32(&d.Spec.ProgressDeadlineSeconds, math.MaxInt32)
	if d.Spec.RollbackTo != nil {
		is.add(root.Child("spec", "rollbackTo"), msgNotSupported)
		d.Spec.RollbackTo = nil
	}
	return toCurrent(d, &appsv1.Deployment{}, "apps/v1", root, is)
}

// convertAppsV1beta1Deployment converts an apps/v1beta1 Deployment: selector
// from the template labels, maxSurge and maxUnavailable 25%,
// revisionHistoryLimit 2, progressDeadlineSeconds 600.
func convertAppsV1beta1Deployment(obj any, root *field.Path, is *issues) runtime.Object {
	d := obj.(*appsv1beta1.Deployment)
	defaultLegacySelector(&d.ObjectMeta, &d.Spec.Selector, d.Spec.Template.Labels)
	st := &d.Spec.Strategy
	if st.Type == "" {
		st.Type = appsv1beta1.RollingUpdateDeploymentStrategyType
	}
	if st.Type == appsv1beta1.RollingUpdateDeploymentStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &appsv1beta1.RollingUpdateDeployment{}
		}
		setIntOrString(&st.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
		setIntOrString(&st.RollingUpdate.MaxSurge, intstr.FromString("25%"))
	}
	setInt32(&d.Spec.RevisionHistoryLimit, 2)
	setInt32(&d.Spec.ProgressDeadlineSeconds, 600)
	if d.Spec.RollbackTo != nil {
		is.add(root.Child("spec", "rollbackTo"), msgNotSupported)
		d.Spec.RollbackTo = nil
	}
	return toCurrent(d, &appsv1.Deployment{}, "apps/v1", root, is)
}

// convertAppsV1beta2Deployment converts an apps/v1beta2 Deployment, whose
// defaults are those of apps/v1 and whose selector is required.
func convertAppsV1beta2Deployment(obj any, root *field.Path, is *issues) runtime.Object {
	return toCurrent(obj.(*appsv1beta2.Deployment), &appsv1.Deployment{}, "apps/v1", root, is)
}

// convertBatchV1beta1CronJob converts a batch/v1beta1 CronJob, whose
// defaults (concurrencyPolicy Allow, suspend false, history limits 3 and 1)
// are those of batch/v1.
func convertBatchV1beta1CronJob(obj any, root *field.Path, is *issues) runtime.Object {
	return toCurrent(obj.(*batchv1beta1.CronJob), &batchv1.CronJob{}, "batch/v1", root, is)
}

// convertBatchV2alpha1CronJob converts a batch/v2alpha1 CronJob. That
// version defaulted only concurrencyPolicy and suspend: unset history limits
// kept every finished Job, which is written here as MaxInt32 so that the
// batch/v1 defaults (3 and 1) do not apply.
func convertBatchV2alpha1CronJob(obj any, root *field.Path, is *issues) runtime.Object {
	c := obj.(*batchv1beta1.CronJob)
	setInt32(&c.Spec.SuccessfulJobsHistoryLimit, math.MaxInt32)
	setInt32(&c.Spec.FailedJobsHistoryLimit, math.MaxInt32)
	return toCurrent(c, &batchv1.CronJob{}, "batch/v1", root, is)
}

// defaultLegacySelector applies the selector defaulting of the beta
// Deployment versions: with template labels, an unset selector matches them
// and unset object labels copy them.
func defaultLegacySelector(meta *metav1.ObjectMeta, sel **metav1.LabelSelector, labels map[string]string) {
	if labels == nil {
		return
	}
	if *sel == nil {
		*sel = &metav1.LabelSelector{MatchLabels: maps.Clone(labels)}
	}
	if len(meta.Labels) == 0 {
		meta.Labels = maps.Clone(labels)
	}
}

// toCurrent converts a legacy object into the current type through JSON,
// refusing any field the current type does not have, and sets its
// apiVersion.
func toCurrent[T runtime.Object](from any, to T, apiVersion string, root *field.Path, is *issues) runtime.Object {
	b, err := json.Marshal(from)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err = dec.Decode(to)
	}
	if err != nil {
		is.add(root, "cannot convert to "+apiVersion+": "+err.Error())
		return nil
	}
	setAPIVersion(to, apiVersion)
	return to
}

// setAPIVersion rewrites the apiVersion of an object, keeping its kind.
func setAPIVersion(obj runtime.Object, apiVersion string) {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return
	}
	obj.GetObjectKind().SetGroupVersionKind(gv.WithKind(kind))
}

// setInt32 sets *p to v when it is unset.
func setInt32(p **int32, v int32) {
	if *p == nil {
		*p = &v
	}
}

// setIntOrString sets *p to v when it is unset.
func setIntOrString(p **intstr.IntOrString, v intstr.IntOrString) {
	if *p == nil {
		*p = &v
	}
}
