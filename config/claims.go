package config

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ClaimBinding is the outcome of binding one PersistentVolumeClaim.
type ClaimBinding struct {
	// Volume is the bound PersistentVolume's name; empty while Pending.
	Volume string `json:"volume,omitempty"`
	// Reason says why a Pending claim found no volume.
	Reason string `json:"reason,omitempty"`
}

// Bound reports whether the claim has a volume.
func (b ClaimBinding) Bound() bool { return b.Volume != "" }

// BindClaims binds claims to volumes as Kubernetes' volume binder does:
// a volume pre-bound to a claim (spec.claimRef) or named by it
// (spec.volumeName) is taken when it satisfies the claim; every other claim
// gets the smallest volume of its storage class whose capacity covers the
// request, whose access modes include the claim's, whose volume mode is the
// same and whose labels match the claim's selector (ties by name). A volume
// binds one claim. Claims are bound pre-bound first, then in key order, so
// the same objects always give the same bindings. The result is keyed by
// "namespace/name" of the claim.
func BindClaims(pvs []*corev1.PersistentVolume, pvcs []*corev1.PersistentVolumeClaim) map[string]ClaimBinding {
	vols := append([]*corev1.PersistentVolume(nil), pvs...)
	sort.Slice(vols, func(i, j int) bool { return vols[i].Name < vols[j].Name })
	claims := append([]*corev1.PersistentVolumeClaim(nil), pvcs...)
	sort.SliceStable(claims, func(i, j int) bool {
		pi, pj := preBound(claims[i], vols), preBound(claims[j], vols)
		if pi != pj {
			return pi
		}
		return claimKey(claims[i]) < claimKey(claims[j])
	})
	taken := map[string]bool{}
	out := make(map[string]ClaimBinding, len(claims))
	for _, c := range claims {
		out[claimKey(c)] = bindOne(c, vols, taken)
	}
	return out
}

func claimKey(c *corev1.PersistentVolumeClaim) string {
	ns := c.Namespace
	if ns == "" {
		ns = "default"
	}
	return ns + "/" + c.Name
}

// preBound reports whether a volume reserves itself for the claim or the
// claim names its volume.
func preBound(c *corev1.PersistentVolumeClaim, vols []*corev1.PersistentVolume) bool {
	if c.Spec.VolumeName != "" {
		return true
	}
	for _, v := range vols {
		if reservedFor(v, c) {
			return true
		}
	}
	return false
}

func reservedFor(v *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) bool {
	r := v.Spec.ClaimRef
	if r == nil {
		return false
	}
	ns := r.Namespace
	if ns == "" {
		ns = "default"
	}
	return ns+"/"+r.Name == claimKey(c)
}

func bindOne(c *corev1.PersistentVolumeClaim, vols []*corev1.PersistentVolume, taken map[string]bool) ClaimBinding {
	var best *corev1.PersistentVolume
	var why string
	for _, v := range vols {
		if taken[v.Name] {
			continue
		}
		if c.Spec.VolumeName != "" && v.Name != c.Spec.VolumeName {
			continue
		}
		if v.Spec.ClaimRef != nil && !reservedFor(v, c) {
			continue
		}
		if reason := mismatch(v, c); reason != "" {
			why = reason
			continue
		}
		if vc, bc := capacity(v), capacity(best); best == nil || vc.Cmp(bc) < 0 {
			best = v
		}
	}
	if best == nil {
		return ClaimBinding{Reason: pendingReason(c, why)}
	}
	taken[best.Name] = true
	return ClaimBinding{Volume: best.Name}
}

// pendingReason words a Pending claim as Kubernetes' FailedBinding event.
func pendingReason(c *corev1.PersistentVolumeClaim, why string) string {
	if c.Spec.VolumeName != "" {
		if why != "" {
			return fmt.Sprintf("volume %q cannot be bound: %s", c.Spec.VolumeName, why)
		}
		return fmt.Sprintf("volume %q not found or bound to another claim", c.Spec.VolumeName)
	}
	if class := claimClass(c); class != "" {
		return fmt.Sprintf("no persistent volumes of storage class %q available for this claim (reconciler provisions none)", class)
	}
	return "no persistent volumes available for this claim and no storage class is set"
}

// mismatch says why a volume cannot serve a claim, or "".
func mismatch(v *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) string {
	if v.Spec.StorageClassName != claimClass(c) {
		return fmt.Sprintf("storage class %q of the volume differs from the claim's %q", v.Spec.StorageClassName, claimClass(c))
	}
	if volumeMode(v.Spec.VolumeMode) != volumeMode(c.Spec.VolumeMode) {
		return "volume mode differs"
	}
	for _, m := range c.Spec.AccessModes {
		if !hasMode(v.Spec.AccessModes, m) {
			return fmt.Sprintf("the volume does not offer access mode %s", m)
		}
	}
	if req, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		if have := capacity(v); have.Cmp(req) < 0 {
			return fmt.Sprintf("capacity %s is less than the requested %s", have.String(), req.String())
		}
	}
	if c.Spec.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(c.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(v.Labels)) {
			return "the volume's labels do not match the claim's selector"
		}
	}
	return ""
}

func claimClass(c *corev1.PersistentVolumeClaim) string {
	if c.Spec.StorageClassName != nil {
		return *c.Spec.StorageClassName
	}
	return ""
}

func volumeMode(m *corev1.PersistentVolumeMode) corev1.PersistentVolumeMode {
	if m == nil {
		return corev1.PersistentVolumeFilesystem
	}
	return *m
}

func hasMode(modes []corev1.PersistentVolumeAccessMode, m corev1.PersistentVolumeAccessMode) bool {
	for _, x := range modes {
		if x == m {
			return true
		}
	}
	return false
}

// capacity is a volume's storage capacity (zero when not declared).
func capacity(v *corev1.PersistentVolume) resource.Quantity {
	if v == nil {
		return resource.Quantity{}
	}
	return v.Spec.Capacity[corev1.ResourceStorage]
}
