package config

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// undeclaredNamespaces reports every namespaced object whose namespace is
// neither "default" nor declared by a Namespace object of the same source:
// as in Kubernetes, objects cannot be created in a namespace that does not
// exist.
func undeclaredNamespaces(objs []Object) []*FieldError {
	declared := map[string]bool{"default": true}
	for _, o := range objs {
		if o.Key.Kind == "Namespace" {
			declared[o.Key.Name] = true
		}
	}
	var errs []*FieldError
	for _, o := range objs {
		if ns := o.Key.Namespace; ns != "" && !declared[ns] {
			errs = append(errs, &FieldError{Source: o.Source, Field: "metadata.namespace",
				Msg: fmt.Sprintf("namespace %q not found: declare it with a Namespace manifest", ns)})
		}
	}
	return errs
}

// countResources names, per kind, the object-count resources a
// ResourceQuota may limit it by: the count/<resource>[.<group>] form and
// the legacy names.
var countResources = map[string][]corev1.ResourceName{
	"ConfigMap":             {"count/configmaps", corev1.ResourceConfigMaps},
	"Secret":                {"count/secrets", corev1.ResourceSecrets},
	"Service":               {"count/services", corev1.ResourceServices},
	"PersistentVolumeClaim": {"count/persistentvolumeclaims", corev1.ResourcePersistentVolumeClaims},
	"ReplicationController": {"count/replicationcontrollers", corev1.ResourceReplicationControllers},
	"ResourceQuota":         {"count/resourcequotas", corev1.ResourceQuotas},
	"ServiceAccount":        {"count/serviceaccounts"},
	"Deployment":            {"count/deployments.apps"},
	"Job":                   {"count/jobs.batch"},
	"CronJob":               {"count/cronjobs.batch"},
}

// objectCountQuotas enforces the object-count limits of the namespaces'
// ResourceQuotas. The objects of a commit are known in full when it is
// loaded, so a count over the limit is an error of the commit, on the
// first object (in key order) past the limit, in the quota admission's
// words. Pods are counted at creation (see planner.AdmitQuota).
func objectCountQuotas(objs []Object) []*FieldError {
	type counted struct {
		n    int64
		objs []Object
	}
	counts := map[string]*counted{} // "ns/resource"
	var quotas []Object
	for _, o := range objs {
		if o.Key.Kind == "ResourceQuota" {
			quotas = append(quotas, o)
		}
		for _, r := range countResources[o.Key.Kind] {
			k := o.Key.Namespace + "/" + string(r)
			if counts[k] == nil {
				counts[k] = &counted{}
			}
			counts[k].n++
			counts[k].objs = append(counts[k].objs, o)
		}
	}
	var errs []*FieldError
	for _, q := range quotas {
		rq := q.Obj.(*corev1.ResourceQuota)
		names := make([]string, 0, len(rq.Spec.Hard))
		for r := range rq.Spec.Hard {
			names = append(names, string(r))
		}
		sort.Strings(names)
		for _, r := range names {
			c := counts[q.Key.Namespace+"/"+r]
			hard := rq.Spec.Hard[corev1.ResourceName(r)]
			if c == nil || c.n <= hard.Value() {
				continue
			}
			objs := append([]Object(nil), c.objs...)
			sort.Slice(objs, func(i, j int) bool { return objs[i].Key.Less(objs[j].Key) })
			over := objs[hard.Value()]
			errs = append(errs, &FieldError{Source: over.Source, Field: "metadata.name", Msg: fmt.Sprintf(
				"%s %q is forbidden: exceeded quota: %s, requested: %s=1, used: %s=%d, limited: %s=%s",
				strings.ToLower(over.Key.Kind)+"s", over.Key.Name, q.Key.Name, r, r, hard.Value(), r, hard.String())})
		}
	}
	return errs
}
