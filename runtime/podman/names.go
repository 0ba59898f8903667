package podman

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reconciler/reconciler/runtime"
)

// podName is the engine name of a pod: unique per node, readable in
// `podman pod ps`.
func podName(ns, pod, node string) string {
	return ns + "_" + pod + "_" + node
}

// containerName is the engine name of one run of a container.
func containerName(ns, pod, node, ctr string, restart int) string {
	return fmt.Sprintf("%s_%s_%s_%s_%d", ns, pod, node, ctr, restart)
}

// podLabels returns the engine labels of a pod: the Kubernetes labels plus
// the schema labels.
func podLabels(s runtime.PodSpec) map[string]string {
	l := make(map[string]string, len(s.Labels)+12)
	keys := make([]string, 0, len(s.Labels))
	for k, v := range s.Labels {
		l[k] = v
		keys = append(keys, k)
	}
	sortStrings(keys)
	for k, v := range identityLabels(s) {
		l[k] = v
	}
	l[runtime.LabelUserLabels] = strings.Join(keys, ",")
	l[runtime.LabelGracePeriod] = strconv.FormatInt(int64(s.GracePeriod/time.Second), 10)
	l[runtime.LabelRestartPolicy] = s.RestartPolicy
	if s.ServiceAccount != "" {
		l[runtime.LabelServiceAccount] = s.ServiceAccount
	}
	if s.InitCount > 0 {
		l[runtime.LabelInitCount] = strconv.Itoa(s.InitCount)
	}
	if len(s.QuotaUsage) > 0 {
		keys := make([]string, 0, len(s.QuotaUsage))
		for k := range s.QuotaUsage {
			keys = append(keys, k)
		}
		sortStrings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + s.QuotaUsage[k]
		}
		l[runtime.LabelQuotaUsage] = strings.Join(parts, ",")
	}
	return l
}

// identityLabels are the labels pods and containers share: enough to find
// the owner from a single event or container.
func identityLabels(s runtime.PodSpec) map[string]string {
	return map[string]string{
		runtime.LabelManagedBy:    runtime.ManagedByValue,
		runtime.LabelNode:         s.Node,
		runtime.LabelNamespace:    s.Namespace,
		runtime.LabelPod:          s.Name,
		runtime.LabelOwnerKind:    s.Owner.Kind,
		runtime.LabelOwnerName:    s.Owner.Name,
		runtime.LabelTemplateHash: s.TemplateHash,
		runtime.LabelRevision:     s.Revision,
	}
}

// scopeFilters selects the managed objects of one node, or of every node
// when node is empty (read-only views such as `reconciler get`).
func scopeFilters(node string) map[string][]string {
	l := []string{runtime.LabelManagedBy + "=" + runtime.ManagedByValue}
	if node != "" {
		l = append(l, runtime.LabelNode+"="+node)
	}
	return map[string][]string{"label": l}
}

// podFromLabels rebuilds an observed pod's identity from its labels.
func podFromLabels(id string, created time.Time, l map[string]string) runtime.Pod {
	p := runtime.Pod{
		ID:             id,
		Namespace:      l[runtime.LabelNamespace],
		Name:           l[runtime.LabelPod],
		Node:           l[runtime.LabelNode],
		Owner:          runtime.Owner{Kind: l[runtime.LabelOwnerKind], Name: l[runtime.LabelOwnerName]},
		TemplateHash:   l[runtime.LabelTemplateHash],
		Revision:       l[runtime.LabelRevision],
		RestartPolicy:  l[runtime.LabelRestartPolicy],
		ServiceAccount: l[runtime.LabelServiceAccount],
		InitCount:      atoi(l[runtime.LabelInitCount]),
		QuotaUsage:     usageOf(l[runtime.LabelQuotaUsage]),
		Created:        created,
		Labels:         map[string]string{},
	}
	if s, err := strconv.ParseInt(l[runtime.LabelGracePeriod], 10, 64); err == nil && s >= 0 {
		p.GracePeriod = time.Duration(s) * time.Second
	}
	if keys := l[runtime.LabelUserLabels]; keys != "" {
		for _, k := range strings.Split(keys, ",") {
			if v, ok := l[k]; ok {
				p.Labels[k] = v
			}
		}
	}
	return p
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// atoi reads a count label (0 when absent or malformed).
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// usageOf reads the quota usage label.
func usageOf(s string) map[string]string {
	if s == "" {
		return nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
