package config

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// byteResources are the resources counted in bytes, where a milli quantity
// ("1024m", 1.024 bytes) is valid but almost certainly meant as Mi. Quota
// keys name them with a requests./limits. prefix.
var byteResources = map[string]bool{
	"memory": true, "storage": true, "ephemeral-storage": true,
	"requests.memory": true, "limits.memory": true, "requests.storage": true,
	"requests.ephemeral-storage": true, "limits.ephemeral-storage": true,
}

// warnQuantities warns about byte quantities written with the milli suffix,
// in container resources, PVC requests, PV capacity and quotas. Kubernetes
// accepts them, and so does reconciler; the reference guides contain them.
func warnQuantities(obj runtime.Object, root *field.Path, is *issues) {
	sp := root.Child("spec")
	switch o := obj.(type) {
	case *corev1.Pod:
		warnPodQuantities(&o.Spec, sp, is)
	case *appsv1.Deployment:
		warnPodQuantities(&o.Spec.Template.Spec, sp.Child("template", "spec"), is)
	case *corev1.ReplicationController:
		if o.Spec.Template != nil {
			warnPodQuantities(&o.Spec.Template.Spec, sp.Child("template", "spec"), is)
		}
	case *batchv1.Job:
		warnPodQuantities(&o.Spec.Template.Spec, sp.Child("template", "spec"), is)
	case *batchv1.CronJob:
		warnPodQuantities(&o.Spec.JobTemplate.Spec.Template.Spec, sp.Child("jobTemplate", "spec", "template", "spec"), is)
	case *corev1.ResourceQuota:
		warnResourceList(o.Spec.Hard, sp.Child("hard"), is)
	case *corev1.PersistentVolume:
		warnResourceList(o.Spec.Capacity, sp.Child("capacity"), is)
	case *corev1.PersistentVolumeClaim:
		warnResourceList(o.Spec.Resources.Requests, sp.Child("resources", "requests"), is)
		warnResourceList(o.Spec.Resources.Limits, sp.Child("resources", "limits"), is)
	}
}

// warnPodQuantities checks the requests and limits of every container.
func warnPodQuantities(s *corev1.PodSpec, path *field.Path, is *issues) {
	for i := range s.InitContainers {
		warnContainer(&s.InitContainers[i], path.Child("initContainers").Index(i), is)
	}
	for i := range s.Containers {
		warnContainer(&s.Containers[i], path.Child("containers").Index(i), is)
	}
}

// warnContainer checks the requests and limits of one container.
func warnContainer(c *corev1.Container, path *field.Path, is *issues) {
	rp := path.Child("resources")
	warnResourceList(c.Resources.Requests, rp.Child("requests"), is)
	warnResourceList(c.Resources.Limits, rp.Child("limits"), is)
}

// warnResourceList warns about each byte resource with a milli quantity.
func warnResourceList(list corev1.ResourceList, path *field.Path, is *issues) {
	for _, name := range sortedKeys(list) {
		q := list[corev1.ResourceName(name)]
		if byteResources[name] {
			if msg := milliBytes(q); msg != "" {
				is.warn(path.Key(name), msg)
			}
		}
	}
}

// milliBytes explains a byte quantity that is not a whole number of bytes,
// such as 1024m, or "" if there is nothing to say.
func milliBytes(q resource.Quantity) string {
	milli := q.MilliValue()
	if milli%1000 == 0 {
		return ""
	}
	bytes := strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64)
	return fmt.Sprintf("%s is %s bytes (the m suffix means milli); probably meant %dMi", q.String(), bytes, milli)
}
