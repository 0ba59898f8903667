package executor

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "alpha", "B": "$(A)", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for in, want := range map[string]string{
		"plain":              "plain",
		"$(A)":               "alpha",
		"x$(A)y$(A)":         "xalphayalpha",
		"$(B)":               "$(A)", // no recursive expansion
		"$$(A)":              "$(A)", // escaped
		"$$$(A)":             "$alpha",
		"$(MISSING)":         "$(MISSING)",
		"$(EMPTY)!":          "!",
		"$(A":                "$(A",
		"$A":                 "$A",
		"a$":                 "a$",
		"$()":                "$()",
		"$(A)$(MISSING)$(A)": "alpha$(MISSING)alpha",
	} {
		if got := Expand(in, lookup); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func ptrTrue() *bool { b := true; return &b }

func TestContainerEnv(t *testing.T) {
	data := indexData(&config.Desired{Objects: []config.Object{
		{Key: config.Key{Namespace: "ns", Kind: "ConfigMap", Name: "cm"},
			Obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"},
				Data: map[string]string{"color": "blue", "1bad": "skipped", "size": "L"}}},
		{Key: config.Key{Namespace: "ns", Kind: "Secret", Name: "s"},
			Obj: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"},
				Data: map[string][]byte{"token": []byte("t0k")}}},
	}})
	pod := podFacts{Name: "p-1", Namespace: "ns", Labels: map[string]string{"app": "web"},
		IP: func() (string, error) { return "10.88.0.9", nil }}
	base := []runtime.EnvVar{{Name: "WEB_SERVICE_HOST", Value: "10.96.0.1"}, {Name: "color", Value: "service"}}
	c := &corev1.Container{
		EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}},
			{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}},
		Env: []corev1.EnvVar{
			{Name: "URL", Value: "http://$(WEB_SERVICE_HOST)/$(color)"},
			{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "GONE", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "k", Optional: ptrTrue()}}},
			{Name: "color", Value: "red"},
		},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
	}
	env, err := containerEnv(c, base, pod, data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range env {
		got = append(got, e.Name+"="+e.Value)
	}
	// Service variables first, envFrom (an env entry of the same name
	// replaces it in place), invalid keys skipped, optional misses unset.
	want := "WEB_SERVICE_HOST=10.96.0.1,color=red,size=L,S_token=t0k,URL=http://10.96.0.1/blue,IP=10.88.0.9,APP=web,MEM=64"
	if strings.Join(got, ",") != want {
		t.Errorf("env:\n%s\nwant:\n%s", strings.Join(got, ","), want)
	}

	for name, c := range map[string]*corev1.Container{
		`configmap "absent" not found`: {EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}}}}},
		`couldn't find key missing in secret "s"`: {Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "missing"}}}}},
		`fieldRef "spec.unknown" is not supported`: {Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.unknown"}}}}},
	} {
		if _, err := containerEnv(c, nil, pod, data); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v, want %q", err, name)
		}
	}
}

func TestDataDigest(t *testing.T) {
	mk := func(secret string) *podData {
		return indexData(&config.Desired{Objects: []config.Object{
			{Key: config.Key{Namespace: "ns", Kind: "Secret", Name: "s"},
				Obj: &corev1.Secret{Data: map[string][]byte{"k": []byte(secret)}}},
		}})
	}
	spec := &corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}}
	key := []byte("node key")
	a, b := dataDigest(key, spec, "ns", mk("one")), dataDigest(key, spec, "ns", mk("two"))
	if a == "" || a == b {
		t.Errorf("digests %q and %q: want different, non-empty", a, b)
	}
	if dataDigest([]byte("other key"), spec, "ns", mk("one")) == a {
		t.Errorf("the digest does not depend on the key")
	}
	if dataDigest(key, &corev1.PodSpec{}, "ns", mk("one")) != "" {
		t.Errorf("a template reading nothing has a digest")
	}
	if withDataHash("abc", "") != "abc" || withDataHash("abc", a) == "abc" || withDataHash("abc", a) != withDataHash("abc", a) {
		t.Errorf("withDataHash is not stable or does not change the hash")
	}
}
