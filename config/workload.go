package config

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// workloadOf builds the Workload of a Pod, Deployment or
// ReplicationController; ok is false for other kinds. The template is a
// deep copy, so the planner may keep it without sharing the Object's maps.
func workloadOf(o Object) (w Workload, ok bool) {
	w = Workload{
		Key:        o.Key,
		Source:     o.Source,
		Strategy:   appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		Unhonoured: o.Unhonoured,
	}
	switch obj := o.Obj.(type) {
	case *corev1.Pod:
		w.Replicas = 1
		w.Template = corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: obj.Labels, Annotations: obj.Annotations},
			Spec:       obj.Spec,
		}
	case *appsv1.Deployment:
		w.Replicas = derefInt32(obj.Spec.Replicas, 1)
		w.Template = obj.Spec.Template
		w.Strategy = *obj.Spec.Strategy.DeepCopy()
		w.MinReadySeconds = obj.Spec.MinReadySeconds
		w.ProgressDeadlineSeconds = derefInt32(obj.Spec.ProgressDeadlineSeconds, 600)
		w.RevisionHistoryLimit = derefInt32(obj.Spec.RevisionHistoryLimit, 10)
		w.AutoRevert = obj.Annotations[AnnotationAutoRevert] == "true"
	case *corev1.ReplicationController:
		if obj.Spec.Template == nil {
			return Workload{}, false
		}
		w.Replicas = derefInt32(obj.Spec.Replicas, 1)
		w.Template = *obj.Spec.Template
		w.MinReadySeconds = obj.Spec.MinReadySeconds
	default:
		return Workload{}, false
	}
	w.Template = *w.Template.DeepCopy()
	w.TemplateHash = TemplateHash(&w.Template)
	return w, true
}

// TemplateHash is the short, stable hash of a pod template that tells
// up-to-date pods from stale ones. It is computed the way Kubernetes
// computes pod-template-hash (FNV-32a, then rand.SafeEncodeString of the
// decimal sum, giving a short string of consonants and digits), over the
// deterministic JSON encoding of the template (struct fields in order, map
// keys sorted). It is the same for equal templates in every process and
// every run.
func TemplateHash(t *corev1.PodTemplateSpec) string {
	b, err := json.Marshal(t)
	if err != nil {
		// A PodTemplateSpec always encodes; fall back to a hash of nothing
		// rather than panic.
		b = nil
	}
	h := fnv.New32a()
	h.Write(b)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// derefInt32 reads an optional int32, with a fallback for nil.
func derefInt32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}
