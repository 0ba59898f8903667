package config

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	corev1 "k8s.io/api/core/v1"
	extv1beta1 "k8s.io/api/extensions/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// typeKey is an apiVersion and kind as written in a manifest.
type typeKey struct {
	apiVersion string
	kind       string
}

// kindInfo says how to decode one apiVersion/kind.
type kindInfo struct {
	// newObj returns an empty object of the Go type this version is decoded
	// into, strictly.
	newObj func() any
	// convert turns a decoded legacy object into the current API type,
	// applying the defaults its version had; nil for current versions, whose
	// newObj already returns the current type.
	convert func(obj any, root *field.Path, is *issues) runtime.Object
	// current is the apiVersion to use instead, for legacy versions.
	current string
}

// kinds lists every apiVersion/kind the loader accepts.
var kinds = map[typeKey]kindInfo{
	{"v1", "Namespace"}:             {newObj: func() any { return &corev1.Namespace{} }},
	{"v1", "Pod"}:                   {newObj: func() any { return &corev1.Pod{} }},
	{"v1", "ReplicationController"}: {newObj: func() any { return &corev1.ReplicationController{} }},
	{"v1", "Service"}:               {newObj: func() any { return &corev1.Service{} }},
	{"v1", "ConfigMap"}:             {newObj: func() any { return &corev1.ConfigMap{} }},
	{"v1", "Secret"}:                {newObj: func() any { return &corev1.Secret{} }},
	{"v1", "PersistentVolume"}:      {newObj: func() any { return &corev1.PersistentVolume{} }},
	{"v1", "PersistentVolumeClaim"}: {newObj: func() any { return &corev1.PersistentVolumeClaim{} }},
	{"v1", "ResourceQuota"}:         {newObj: func() any { return &corev1.ResourceQuota{} }},
	{"v1", "ServiceAccount"}:        {newObj: func() any { return &corev1.ServiceAccount{} }},
	{"apps/v1", "Deployment"}:       {newObj: func() any { return &appsv1.Deployment{} }},
	{"batch/v1", "Job"}:             {newObj: func() any { return &batchv1.Job{} }},
	{"batch/v1", "CronJob"}:         {newObj: func() any { return &batchv1.CronJob{} }},

	{"extensions/v1beta1", "Deployment"}: {
		newObj:  func() any { return &extv1beta1.Deployment{} },
		convert: convertExtensionsDeployment, current: "apps/v1",
	},
	{"apps/v1beta1", "Deployment"}: {
		newObj:  func() any { return &appsv1beta1.Deployment{} },
		convert: convertAppsV1beta1Deployment, current: "apps/v1",
	},
	{"apps/v1beta2", "Deployment"}: {
		newObj:  func() any { return &appsv1beta2.Deployment{} },
		convert: convertAppsV1beta2Deployment, current: "apps/v1",
	},
	{"batch/v1beta1", "CronJob"}: {
		newObj:  func() any { return &batchv1beta1.CronJob{} },
		convert: convertBatchV1beta1CronJob, current: "batch/v1",
	},
	// batch/v2alpha1 CronJob (Kubernetes 1.5 to 1.20) is no longer in
	// k8s.io/api; its schema is the one batch/v1beta1 kept, so it is decoded
	// into that type.
	{"batch/v2alpha1", "CronJob"}: {
		newObj:  func() any { return &batchv1beta1.CronJob{} },
		convert: convertBatchV2alpha1CronJob, current: "batch/v1",
	},
}

// clusterScoped lists the recognised kinds that have no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "PersistentVolume": true}

// lookupKind finds how to decode apiVersion/kind, or explains on which field
// the document is wrong.
func lookupKind(apiVersion, kind string) (kindInfo, string, string) {
	if info, ok := kinds[typeKey{apiVersion, kind}]; ok {
		return info, "", ""
	}
	var versions []string
	for k := range kinds {
		if k.kind == kind {
			versions = append(versions, k.apiVersion)
		}
	}
	if len(versions) == 0 {
		return kindInfo{}, "kind", fmt.Sprintf("unknown kind %q (reconciler accepts %s)", kind, knownKinds())
	}
	sort.Strings(versions)
	return kindInfo{}, "apiVersion", fmt.Sprintf("unknown apiVersion %q for kind %s (accepted: %s)",
		apiVersion, kind, strings.Join(versions, ", "))
}

// knownKinds lists the accepted kinds, sorted, for error messages.
func knownKinds() string {
	seen := map[string]bool{}
	var names []string
	for k := range kinds {
		if !seen[k.kind] {
			seen[k.kind] = true
			names = append(names, k.kind)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
