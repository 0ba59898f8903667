package config

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pv(name, size, class string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolume {
	v := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}}
	v.Spec.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}
	v.Spec.StorageClassName = class
	v.Spec.AccessModes = modes
	return v
}

func pvc(ns, name, size string, class *string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	c.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}
	c.Spec.StorageClassName = class
	c.Spec.AccessModes = modes
	return c
}

func TestBindClaims(t *testing.T) {
	rwo, rwx, rox := corev1.ReadWriteOnce, corev1.ReadWriteMany, corev1.ReadOnlyMany
	fast := "fast"
	labelled := pv("labelled", "1Gi", "", rwo)
	labelled.Labels = map[string]string{"tier": "db"}
	reserved := pv("reserved", "10Gi", "", rwo)
	reserved.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "owner"}
	selective := pvc("ns", "selective", "1Gi", nil, rwo)
	selective.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "db"}}
	named := pvc("ns", "named", "1Gi", nil, rwo)
	named.Spec.VolumeName = "big"

	tests := []struct {
		name   string
		pvs    []*corev1.PersistentVolume
		claims []*corev1.PersistentVolumeClaim
		want   map[string]string // claim → volume, or "Pending: reason"
	}{
		{
			name:   "the smallest volume that is large enough wins",
			pvs:    []*corev1.PersistentVolume{pv("big", "10Gi", "", rwo), pv("small", "1Gi", "", rwo), pv("mid", "5Gi", "", rwo)},
			claims: []*corev1.PersistentVolumeClaim{pvc("ns", "data", "2Gi", nil, rwo)},
			want:   map[string]string{"ns/data": "mid"},
		},
		{
			name:   "binary and decimal units compare as quantities",
			pvs:    []*corev1.PersistentVolume{pv("dec", "1G", "", rwo), pv("bin", "1Gi", "", rwo)},
			claims: []*corev1.PersistentVolumeClaim{pvc("ns", "data", "1000Mi", nil, rwo)},
			want:   map[string]string{"ns/data": "bin"}, // 1G = 953.7Mi is too small
		},
		{
			name:   "access modes must be offered",
			pvs:    []*corev1.PersistentVolume{pv("once", "5Gi", "", rwo), pv("many", "5Gi", "", rwo, rwx)},
			claims: []*corev1.PersistentVolumeClaim{pvc("ns", "shared", "1Gi", nil, rwx)},
			want:   map[string]string{"ns/shared": "many"},
		},
		{
			name:   "no volume fits: pending with Kubernetes' reason",
			pvs:    []*corev1.PersistentVolume{pv("small", "1Gi", "", rwo)},
			claims: []*corev1.PersistentVolumeClaim{pvc("ns", "data", "5Gi", nil, rwo)},
			want:   map[string]string{"ns/data": "Pending: no persistent volumes available for this claim and no storage class is set"},
		},
		{
			name:   "storage class must match",
			pvs:    []*corev1.PersistentVolume{pv("plain", "5Gi", "", rwo), pv("ssd", "5Gi", "fast", rwo)},
			claims: []*corev1.PersistentVolumeClaim{pvc("ns", "a", "1Gi", &fast, rwo), pvc("ns", "b", "1Gi", nil, rox)},
			want: map[string]string{"ns/a": "ssd",
				"ns/b": "Pending: no persistent volumes available for this claim and no storage class is set"},
		},
		{
			name:   "a volume binds one claim, in key order",
			pvs:    []*corev1.PersistentVolume{pv("only", "5Gi", "", rwo)},
			claims: []*corev1.PersistentVolumeClaim{pvc("ns", "z", "1Gi", nil, rwo), pvc("ns", "a", "1Gi", nil, rwo)},
			want: map[string]string{"ns/a": "only",
				"ns/z": "Pending: no persistent volumes available for this claim and no storage class is set"},
		},
		{
			name:   "a reserved volume goes to its claim only, first",
			pvs:    []*corev1.PersistentVolume{reserved},
			claims: []*corev1.PersistentVolumeClaim{pvc("ns", "a", "1Gi", nil, rwo), pvc("ns", "owner", "1Gi", nil, rwo)},
			want: map[string]string{"ns/owner": "reserved",
				"ns/a": "Pending: no persistent volumes available for this claim and no storage class is set"},
		},
		{
			name:   "selector filters volumes by label",
			pvs:    []*corev1.PersistentVolume{pv("unlabelled", "1Gi", "", rwo), labelled},
			claims: []*corev1.PersistentVolumeClaim{selective},
			want:   map[string]string{"ns/selective": "labelled"},
		},
		{
			name:   "volumeName binds that volume even when a smaller one fits",
			pvs:    []*corev1.PersistentVolume{pv("big", "10Gi", "", rwo), pv("small", "1Gi", "", rwo)},
			claims: []*corev1.PersistentVolumeClaim{named},
			want:   map[string]string{"ns/named": "big"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := BindClaims(tc.pvs, tc.claims)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d bindings, want %d: %v", len(got), len(tc.want), got)
			}
			for k, want := range tc.want {
				b := got[k]
				s := b.Volume
				if !b.Bound() {
					s = "Pending: " + b.Reason
				}
				if s != want {
					t.Errorf("%s: got %q, want %q", k, s, want)
				}
			}
		})
	}
}
