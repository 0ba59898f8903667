package config

import (
	"encoding/json"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ConfigMap and Secret errors must never carry an entry's value: every
// error below is built with the placeholder omitted as its bad value, and
// fieldMessage never prints the bad value of Invalid or TooLong errors
// anyway.
const omitted = "<omitted>"

// validateConfigMap checks a ConfigMap: keys valid (IsConfigMapKey), no key
// in both data and binaryData, total size at most 1 MiB.
func validateConfigMap(cm *corev1.ConfigMap, root *field.Path) field.ErrorList {
	errs := validateDataKeys(cm.Data, root.Child("data"))
	errs = append(errs, validateDataKeys(cm.BinaryData, root.Child("binaryData"))...)
	size := 0
	for k, v := range cm.Data {
		size += len(k) + len(v)
	}
	for _, k := range sortedKeys(cm.BinaryData) {
		size += len(k) + len(cm.BinaryData[k])
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Duplicate(root.Child("binaryData").Key(k), k))
		}
	}
	if size > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(root, omitted, corev1.MaxSecretSize))
	}
	return errs
}

// secretRequiredKeys lists the data keys each built-in Secret type needs.
var secretRequiredKeys = map[corev1.SecretType][]string{
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
	corev1.SecretTypeSSHAuth:          {corev1.SSHAuthPrivateKey},
}

// validateSecret checks a Secret (stringData already merged into data):
// keys valid, total size at most 1 MiB, the keys its type needs, and valid
// JSON for Docker configs. Values are never quoted.
func validateSecret(s *corev1.Secret, root *field.Path) field.ErrorList {
	dp := root.Child("data")
	errs := validateDataKeys(s.Data, dp)
	size := 0
	for k, v := range s.Data {
		size += len(k) + len(v)
	}
	if size > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(dp, omitted, corev1.MaxSecretSize))
	}
	for _, k := range secretRequiredKeys[s.Type] {
		if _, ok := s.Data[k]; !ok {
			errs = append(errs, field.Required(dp.Key(k), "required for a Secret of type "+strconv.Quote(string(s.Type))))
		}
	}
	for _, k := range []string{corev1.DockerConfigJsonKey, corev1.DockerConfigKey} {
		if v, ok := s.Data[k]; ok && (s.Type == corev1.SecretTypeDockerConfigJson || s.Type == corev1.SecretTypeDockercfg) && !json.Valid(v) {
			errs = append(errs, field.Invalid(dp.Key(k), omitted, "must be valid JSON"))
		}
	}
	if s.Type == corev1.SecretTypeServiceAccountToken && s.Annotations[corev1.ServiceAccountNameKey] == "" {
		errs = append(errs, field.Required(root.Child("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
	}
	return errs
}

// validateDataKeys checks the keys of a ConfigMap or Secret.
func validateDataKeys[V any](data map[string]V, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(data) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(path.Key(k), omitted, msg))
		}
	}
	return errs
}
