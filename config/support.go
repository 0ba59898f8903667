package config

import (
	"encoding/json"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// This file is the field support policy: reconciler runs pods
// progressively, and says so precisely. Every field an author writes in a
// pod (a Pod, or the pod template of a Deployment, ReplicationController,
// Job or CronJob) is one of:
//
//   - honoured: run as Kubernetes runs it;
//   - parsed and validated but not run yet: the workload is reported as
//     such (Workload.Unhonoured) and not started, never run half-right;
//   - not supported: an error "<path>: not supported by reconciler".
//
// Only what the author wrote counts: the walk is over the original
// document, and null, false, 0, "", {} and [] (and objects or lists made only
// of those) count as not written, so defaults and generated empty fields
// ("resources: {}") trigger nothing. The controller fields around a template
// (replicas, selector, strategy, ...) are all honoured; the kinds that run
// no pods have no allowlist.

// rule is one node of the allowlist tree.
type rule struct {
	// feature, when set, names what this build parses but does not run.
	feature string
	// fields lists the allowed fields of an object; fields not listed are
	// not supported. Nil with item nil means the whole value is honoured.
	fields map[string]*rule
	// item is the rule for every element of a list.
	item *rule
}

// honoured accepts a value and everything under it.
var honoured = &rule{}

// pending marks a field that is parsed and validated but not run yet.
func pending(feature string) *rule { return &rule{feature: feature} }

// Features not run by this build yet, as named in Workload.Unhonoured.
const (
	featureLifecycleHooks = "lifecycle hooks"
	featureHostPorts      = "host ports"
	featurePullSecrets    = "image pull secrets"
	featureStdin          = "stdin/tty"
)

// podMetadataRule is the allowlist of pod metadata.
var podMetadataRule = &rule{fields: map[string]*rule{
	"name": honoured, "namespace": honoured, "labels": honoured, "annotations": honoured,
}}

// probeRule is the allowlist of a probe: every handler but gRPC, and every
// timing field. A host is not supported: probes reach the port the engine
// published on 127.0.0.1.
var probeRule = &rule{fields: map[string]*rule{
	"httpGet": {fields: map[string]*rule{
		"path": honoured, "port": honoured, "scheme": honoured, "httpHeaders": honoured,
	}},
	"tcpSocket":           {fields: map[string]*rule{"port": honoured}},
	"exec":                honoured,
	"initialDelaySeconds": honoured, "periodSeconds": honoured, "timeoutSeconds": honoured,
	"successThreshold": honoured, "failureThreshold": honoured,
}}

// containerRule is the allowlist of a container.
var containerRule = &rule{fields: map[string]*rule{
	"name": honoured, "image": honoured, "command": honoured, "args": honoured,
	"imagePullPolicy": honoured, "workingDir": honoured,
	"terminationMessagePath": honoured, "terminationMessagePolicy": honoured,
	"env": {item: &rule{fields: map[string]*rule{
		"name": honoured, "value": honoured, "valueFrom": envSourceRule,
	}}},
	"envFrom": honoured,
	"ports": {item: &rule{fields: map[string]*rule{
		"name": honoured, "containerPort": honoured, "protocol": honoured,
		"hostPort": pending(featureHostPorts), "hostIP": pending(featureHostPorts),
	}}},
	"livenessProbe":  probeRule,
	"readinessProbe": probeRule,
	"startupProbe":   probeRule,
	"volumeMounts": {item: &rule{fields: map[string]*rule{
		"name": honoured, "mountPath": honoured, "readOnly": honoured, "subPath": honoured,
	}}},
	"resources":       resourcesRule,
	"securityContext": containerSecurityRule,
	"lifecycle":       pending(featureLifecycleHooks),
	"stdin":           pending(featureStdin),
	"stdinOnce":       pending(featureStdin),
	"tty":             pending(featureStdin),
}}

// podSpecRule is the allowlist of a pod spec.
var podSpecRule = &rule{fields: map[string]*rule{
	"containers":                    {item: containerRule},
	"restartPolicy":                 honoured,
	"terminationGracePeriodSeconds": honoured,
	"dnsPolicy":                     honoured,
	"schedulerName":                 honoured,
	"initContainers":                {item: containerRule},
	"volumes":                       {item: volumeRule},
	"securityContext":               podSecurityRule,
	"serviceAccountName":            honoured,
	"serviceAccount":                honoured,
	"automountServiceAccountToken":  honoured,
	"enableServiceLinks":            honoured,
	"hostname":                      honoured,
	"hostAliases":                   honoured,
	"dnsConfig":                     honoured,
	"nodeSelector":                  honoured,
	"nodeName":                      honoured,
	"affinity":                      {fields: map[string]*rule{"nodeAffinity": nodeAffinityRule}},
	"tolerations":                   honoured,
	"imagePullSecrets":              pending(featurePullSecrets),
}}

// envSourceRule is the allowlist of an env valueFrom: the downward API's
// fields are checked when the pod is made (fieldPath values reconciler
// cannot give are a CreateContainerConfigError naming them).
var envSourceRule = &rule{fields: map[string]*rule{
	"configMapKeyRef": honoured, "secretKeyRef": honoured, "fieldRef": honoured, "resourceFieldRef": honoured,
}}

// resourcesRule is the allowlist of a container's resources: cpu and
// memory (other resources, such as ephemeral-storage or hugepages, are
// validated by the quantity rules but not enforced; see README).
var resourcesRule = &rule{fields: map[string]*rule{"requests": honoured, "limits": honoured}}

// volumeRule is the allowlist of a pod volume: the sources reconciler
// runs on a single host.
var volumeRule = &rule{fields: map[string]*rule{
	"name": honoured, "emptyDir": honoured, "hostPath": honoured, "configMap": honoured,
	"secret": honoured, "persistentVolumeClaim": honoured,
}}

// containerSecurityRule and podSecurityRule are the security settings the
// engine applies (no SELinux, seccomp, AppArmor or sysctl settings).
var containerSecurityRule = &rule{fields: map[string]*rule{
	"runAsUser": honoured, "runAsGroup": honoured, "runAsNonRoot": honoured,
	"readOnlyRootFilesystem": honoured, "allowPrivilegeEscalation": honoured,
	"privileged": honoured, "capabilities": honoured,
}}

var podSecurityRule = &rule{fields: map[string]*rule{
	"runAsUser": honoured, "runAsGroup": honoured, "runAsNonRoot": honoured,
	"fsGroup": honoured, "supplementalGroups": honoured, "fsGroupChangePolicy": honoured,
}}

// nodeAffinityRule is the part of node affinity placement runs: the
// required terms. Preferred terms only weigh nodes in Kubernetes' scoring,
// which placement does not do (it spreads and hashes instead).
var nodeAffinityRule = &rule{fields: map[string]*rule{
	"requiredDuringSchedulingIgnoredDuringExecution": honoured,
}}

// podTemplateRule is the allowlist of a pod template (and of a Pod's
// metadata and spec).
var podTemplateRule = &rule{fields: map[string]*rule{
	"metadata": podMetadataRule,
	"spec":     podSpecRule,
}}

// templatePaths says where the pod template of each kind is in a document.
var templatePaths = map[string][]string{
	"Deployment":            {"spec", "template"},
	"ReplicationController": {"spec", "template"},
	"Job":                   {"spec", "template"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template"},
}

// checkSupport walks the pod of a document against the allowlist. Fields
// not supported are reported to is; the fields not run yet are returned.
func checkSupport(kind string, raw map[string]any, root *field.Path, is *issues) []string {
	var unhonoured []string
	switch kind {
	case "Pod":
		podTemplateRule.walk(map[string]any{"metadata": raw["metadata"], "spec": raw["spec"]}, root, is, &unhonoured)
	case "Deployment", "ReplicationController", "Job", "CronJob":
		v, p := any(raw), root
		for _, name := range templatePaths[kind] {
			m, _ := v.(map[string]any)
			v, p = m[name], p.Child(name)
		}
		podTemplateRule.walk(v, p, is, &unhonoured)
	}
	return unhonoured
}

// walk checks v against r: unsupported fields become errors, fields not run
// yet are appended to out as "<path>: <feature> not run by this build yet".
func (r *rule) walk(v any, path *field.Path, is *issues, out *[]string) {
	switch {
	case r.feature != "":
		*out = append(*out, path.String()+": "+r.feature+" not run by this build yet")
	case r.item != nil:
		list, _ := v.([]any)
		for i, e := range list {
			if !isEmptyValue(e) {
				r.item.walk(e, path.Index(i), is, out)
			}
		}
	case r.fields != nil:
		m, _ := v.(map[string]any)
		for _, k := range sortedKeys(m) {
			if isEmptyValue(m[k]) {
				continue
			}
			child, ok := r.fields[k]
			if !ok {
				is.add(path.Child(k), msgNotSupported)
				continue
			}
			child.walk(m[k], path.Child(k), is, out)
		}
	}
}

// isEmptyValue reports whether a plain JSON value counts as not written:
// null, false, zero, "", or an object or list of only such values.
func isEmptyValue(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case bool:
		return !t
	case string:
		return t == ""
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		return err == nil && f == 0
	case map[string]any:
		for _, e := range t {
			if !isEmptyValue(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range t {
			if !isEmptyValue(e) {
				return false
			}
		}
		return true
	}
	return false
}
