package config

import (
	"errors"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ReservedLabelPrefix is the label key prefix reconciler keeps for the
// labels it puts on what it creates; manifests may not use it.
const ReservedLabelPrefix = "reconciler.dev/"

// validate checks a defaulted object the way the Kubernetes API server would
// on create, plus reconciler's own rules; root prefixes every path (items[i]
// in a List, nil otherwise).
func validate(obj runtime.Object, kind string, root *field.Path) field.ErrorList {
	errs := validateMeta(obj, kind, root.Child("metadata"))
	sp := root.Child("spec")
	switch o := obj.(type) {
	case *corev1.Pod:
		errs = append(errs, validatePodSpec(&o.Spec, sp)...)
	case *appsv1.Deployment:
		errs = append(errs, validateDeployment(&o.Spec, sp)...)
	case *corev1.ReplicationController:
		errs = append(errs, validateReplicationController(&o.Spec, sp)...)
	case *batchv1.Job:
		errs = append(errs, validateJobSpec(&o.Spec, sp)...)
	case *batchv1.CronJob:
		errs = append(errs, validateCronJob(o, root)...)
	case *corev1.Service:
		errs = append(errs, validateService(&o.Spec, sp)...)
	case *corev1.ConfigMap:
		errs = append(errs, validateConfigMap(o, root)...)
	case *corev1.Secret:
		errs = append(errs, validateSecret(o, root)...)
	case *corev1.PersistentVolume:
		errs = append(errs, validatePersistentVolume(&o.Spec, sp)...)
	case *corev1.PersistentVolumeClaim:
		errs = append(errs, validatePersistentVolumeClaim(&o.Spec, sp)...)
	case *corev1.ResourceQuota:
		errs = append(errs, validateResourceQuota(&o.Spec, sp)...)
	}
	return errs
}

// nameRules gives each kind's name rule, as Kubernetes does: a DNS-1035
// label for Services (it becomes a DNS name and an environment variable
// prefix), a DNS-1123 label for Namespaces, a DNS-1123 subdomain otherwise.
var nameRules = map[string]apivalidation.ValidateNameFunc{
	"Service":   apivalidation.NameIsDNS1035Label,
	"Namespace": apivalidation.ValidateNamespaceName,
}

// validateMeta checks metadata with apimachinery's ValidateObjectMeta;
// labels and annotations are checked one key at a time so each error names
// its key, and reserved label keys are refused.
func validateMeta(obj runtime.Object, kind string, path *field.Path) field.ErrorList {
	accessor, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		return field.ErrorList{field.InternalError(path, errNotObjectMeta)}
	}
	m, ok := accessor.GetObjectMeta().(*metav1.ObjectMeta)
	if !ok {
		return field.ErrorList{field.InternalError(path, errNotObjectMeta)}
	}
	nameFn, ok := nameRules[kind]
	if !ok {
		nameFn = apivalidation.NameIsDNSSubdomain
	}
	bare := *m
	bare.Labels, bare.Annotations = nil, nil
	errs := apivalidation.ValidateObjectMeta(&bare, !clusterScoped[kind], nameFn, path)
	errs = append(errs, validateLabels(m.Labels, path.Child("labels"))...)
	return append(errs, validateAnnotations(m.Annotations, path.Child("annotations"))...)
}

// errNotObjectMeta is an internal error: every accepted kind embeds
// metav1.ObjectMeta.
var errNotObjectMeta = errors.New("object has no ObjectMeta")

// validateLabels checks a label map key by key (path[key]) with
// apimachinery's ValidateLabels and refuses the reserved prefix.
func validateLabels(labels map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(labels) {
		kp := path.Key(k)
		errs = append(errs, metavalidation.ValidateLabels(map[string]string{k: labels[k]}, kp)...)
		if strings.HasPrefix(k, ReservedLabelPrefix) {
			errs = append(errs, field.Invalid(kp, k, `label prefix "`+ReservedLabelPrefix+`" is reserved for reconciler`))
		}
	}
	return errs
}

// validateAnnotations checks annotation keys one at a time and the total
// size, with apimachinery's ValidateAnnotations.
func validateAnnotations(annotations map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(annotations) {
		errs = append(errs, apivalidation.ValidateAnnotations(map[string]string{k: ""}, path.Key(k))...)
	}
	if err := apivalidation.ValidateAnnotationsSize(annotations); err != nil {
		errs = append(errs, field.TooLong(path, "", apivalidation.TotalAnnotationSizeLimitB))
	}
	return errs
}

// validateSelectorLabels checks a map of label selectors (a Service or
// ReplicationController selector) key by key.
func validateSelectorLabels(sel map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(sel) {
		errs = append(errs, metavalidation.ValidateLabels(map[string]string{k: sel[k]}, path.Key(k))...)
	}
	return errs
}

// nonNegative reports a negative value, with apimachinery's message.
func nonNegative(v int64, path *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(v, path)
}

// nonNegativePtr reports a set, negative value.
func nonNegativePtr[T int32 | int64](v *T, path *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return nonNegative(int64(*v), path)
}

// invalidAll turns validator messages into Invalid errors on one path.
func invalidAll(path *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

// sortedKeys returns the keys of a map in order, so errors and messages
// come out the same on every run.
func sortedKeys[K ~string, V any](m map[K]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys
}
