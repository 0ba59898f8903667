package config

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateVolumes checks pod volumes: unique DNS-label names, exactly one
// source each, and the names their sources need. It records the names in
// seen for the volume mounts.
func validateVolumes(vols []corev1.Volume, path *field.Path, seen map[string]bool) field.ErrorList {
	var errs field.ErrorList
	for i := range vols {
		v := &vols[i]
		vp := path.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(vp.Child("name"), ""))
		case seen[v.Name]:
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		default:
			errs = append(errs, invalidAll(vp.Child("name"), v.Name, validation.IsDNS1123Label(v.Name))...)
		}
		seen[v.Name] = true
		errs = append(errs, exactlyOneSource(reflect.ValueOf(v.VolumeSource), vp, "volume")...)
		errs = append(errs, validateVolumeSource(&v.VolumeSource, vp)...)
	}
	return errs
}

// validateVolumeSource checks the required names of the common sources.
func validateVolumeSource(s *corev1.VolumeSource, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.HostPath != nil && s.HostPath.Path == "" {
		errs = append(errs, field.Required(path.Child("hostPath", "path"), ""))
	}
	if s.ConfigMap != nil && s.ConfigMap.Name == "" {
		errs = append(errs, field.Required(path.Child("configMap", "name"), ""))
	}
	if s.Secret != nil && s.Secret.SecretName == "" {
		errs = append(errs, field.Required(path.Child("secret", "secretName"), ""))
	}
	if s.PersistentVolumeClaim != nil && s.PersistentVolumeClaim.ClaimName == "" {
		errs = append(errs, field.Required(path.Child("persistentVolumeClaim", "claimName"), ""))
	}
	if s.EmptyDir != nil && s.EmptyDir.SizeLimit != nil {
		errs = append(errs, nonNegativeQuantity(*s.EmptyDir.SizeLimit, path.Child("emptyDir", "sizeLimit"))...)
	}
	return errs
}

// exactlyOneSource checks that exactly one pointer field of a volume source
// struct is set.
func exactlyOneSource(v reflect.Value, path *field.Path, what string) field.ErrorList {
	n := 0
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	switch n {
	case 0:
		return field.ErrorList{field.Required(path, "must specify a "+what+" type")}
	case 1:
		return nil
	}
	return field.ErrorList{field.Forbidden(path, "may not specify more than 1 "+what+" type")}
}

// validateVolumeMounts checks that each mount names a volume of the pod, has
// a mount path, and that mount paths are unique.
func validateVolumeMounts(mounts []corev1.VolumeMount, path *field.Path, volumes map[string]bool) field.ErrorList {
	var errs field.ErrorList
	paths := map[string]bool{}
	for i, m := range mounts {
		mp := path.Index(i)
		switch {
		case m.Name == "":
			errs = append(errs, field.Required(mp.Child("name"), ""))
		case !volumes[m.Name]:
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		switch {
		case m.MountPath == "":
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		case paths[m.MountPath]:
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths[m.MountPath] = true
	}
	return errs
}

// validatePodSecurity checks the user and group IDs of a pod security
// context.
func validatePodSecurity(sc *corev1.PodSecurityContext, path *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	errs := validateIDs(sc.RunAsUser, sc.RunAsGroup, path)
	if sc.FSGroup != nil {
		errs = append(errs, invalidAll(path.Child("fsGroup"), *sc.FSGroup, validation.IsValidGroupID(*sc.FSGroup))...)
	}
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, invalidAll(path.Child("supplementalGroups").Index(i), g, validation.IsValidGroupID(g))...)
	}
	return errs
}

// validateContainerSecurity checks the IDs of a container security context
// and that privileged containers do not forbid privilege escalation.
func validateContainerSecurity(sc *corev1.SecurityContext, path *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	errs := validateIDs(sc.RunAsUser, sc.RunAsGroup, path)
	if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		errs = append(errs, field.Invalid(path, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
	}
	return errs
}

// validateIDs checks runAsUser and runAsGroup.
func validateIDs(user, group *int64, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if user != nil {
		errs = append(errs, invalidAll(path.Child("runAsUser"), *user, validation.IsValidUserID(*user))...)
	}
	if group != nil {
		errs = append(errs, invalidAll(path.Child("runAsGroup"), *group, validation.IsValidGroupID(*group))...)
	}
	return errs
}
