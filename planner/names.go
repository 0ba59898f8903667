package planner

import (
	"hash/fnv"
	"strconv"

	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// maxBase keeps generated pod names within 63 characters, so they are valid
// hostnames, as Kubernetes' generateName does.
const maxBase = 57

// newPodNames returns n names for new pods of wl that no pod in existing
// uses: "<deployment>-<template hash>-<suffix>" for Deployments,
// "<rc>-<suffix>" for ReplicationControllers and the pod's own name for a
// Pod. Suffixes are derived from the template hash, the workload's
// PodNameSeed and a counter, so the same inputs always give the same names.
func newPodNames(wl *config.Workload, existing []*runtime.Pod, n int) []string {
	if wl.Key.Kind == "Pod" {
		return []string{wl.Key.Name}
	}
	base := wl.Key.Name
	if wl.Key.Kind == "Deployment" {
		base += "-" + wl.TemplateHash
	}
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	used := make(map[string]bool, len(existing))
	for _, p := range existing {
		used[p.Name] = true
	}
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		name := base + "-" + suffix(wl.TemplateHash+wl.PodNameSeed, i)
		if !used[name] {
			used[name] = true
			out = append(out, name)
		}
	}
	return out
}

// suffix is a deterministic 5-character name suffix in Kubernetes' alphabet.
func suffix(seed string, i int) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(seed))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(strconv.Itoa(i)))
	s := rand.SafeEncodeString(strconv.FormatUint(h.Sum64(), 10))
	return s[len(s)-5:]
}
