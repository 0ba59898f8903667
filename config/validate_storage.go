package config

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// accessModes are the PersistentVolume access modes Kubernetes knows.
var accessModes = []corev1.PersistentVolumeAccessMode{
	corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod,
}

// validatePersistentVolume checks a v1 PersistentVolume spec: a storage
// capacity (and nothing else), access modes, reclaim policy, volume mode,
// and exactly one volume source.
func validatePersistentVolume(s *corev1.PersistentVolumeSpec, path *field.Path) field.ErrorList {
	cp := path.Child("capacity")
	var errs field.ErrorList
	if q, ok := s.Capacity[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(cp.Key(string(corev1.ResourceStorage)), ""))
	} else {
		errs = append(errs, nonNegativeQuantity(q, cp.Key(string(corev1.ResourceStorage)))...)
	}
	for _, k := range sortedKeys(s.Capacity) {
		if k != string(corev1.ResourceStorage) {
			errs = append(errs, field.NotSupported(cp.Key(k), k, []corev1.ResourceName{corev1.ResourceStorage}))
		}
	}
	errs = append(errs, validateAccessModes(s.AccessModes, path.Child("accessModes"))...)
	errs = append(errs, oneOf(path.Child("persistentVolumeReclaimPolicy"), s.PersistentVolumeReclaimPolicy,
		corev1.PersistentVolumeReclaimRetain, corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle)...)
	errs = append(errs, validateVolumeMode(s.VolumeMode, path.Child("volumeMode"))...)
	errs = append(errs, exactlyOneSource(reflect.ValueOf(s.PersistentVolumeSource), path, "volume")...)
	if s.HostPath != nil && s.HostPath.Path == "" {
		errs = append(errs, field.Required(path.Child("hostPath", "path"), ""))
	}
	return errs
}

// validatePersistentVolumeClaim checks a v1 PersistentVolumeClaim spec:
// access modes and a positive storage request are required.
func validatePersistentVolumeClaim(s *corev1.PersistentVolumeClaimSpec, path *field.Path) field.ErrorList {
	errs := validateAccessModes(s.AccessModes, path.Child("accessModes"))
	rp := path.Child("resources", "requests").Key(string(corev1.ResourceStorage))
	if q, ok := s.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(rp, ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(rp, q.String(), "must be greater than zero"))
	}
	errs = append(errs, validateVolumeMode(s.VolumeMode, path.Child("volumeMode"))...)
	return append(errs, metavalidation.ValidateLabelSelector(s.Selector, metavalidation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
}

// validateAccessModes checks a required list of access modes.
func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, path *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(path, "at least 1 access mode is required")}
	}
	var errs field.ErrorList
	for i, m := range modes {
		errs = append(errs, oneOf(path.Index(i), m, accessModes...)...)
	}
	return errs
}

// validateVolumeMode checks an optional volume mode.
func validateVolumeMode(m *corev1.PersistentVolumeMode, path *field.Path) field.ErrorList {
	if m == nil {
		return nil
	}
	return oneOf(path, *m, corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)
}

// validateResourceQuota checks a v1 ResourceQuota spec: qualified resource
// names with non-negative quantities, and known scopes.
func validateResourceQuota(s *corev1.ResourceQuotaSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(s.Hard) {
		kp := path.Child("hard").Key(k)
		errs = append(errs, invalidAll(kp, k, validation.IsQualifiedName(k))...)
		errs = append(errs, nonNegativeQuantity(s.Hard[corev1.ResourceName(k)], kp)...)
	}
	for i, sc := range s.Scopes {
		errs = append(errs, oneOf(path.Child("scopes").Index(i), sc,
			corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
			corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
			corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
			corev1.ResourceQuotaScopeVolumeAttributesClass)...)
	}
	return errs
}
