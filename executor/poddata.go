package executor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/reconciler/reconciler/config"
)

// podData indexes what pods read from the desired state beside their
// template: ConfigMaps, Secrets, PersistentVolumes and the claims' bindings,
// by "namespace/name" (volumes by name).
type podData struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	volumes    map[string]*corev1.PersistentVolume
	claims     map[string]config.ClaimBinding
}

func indexData(d *config.Desired) *podData {
	data := &podData{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		volumes: map[string]*corev1.PersistentVolume{}}
	var pvs []*corev1.PersistentVolume
	var pvcs []*corev1.PersistentVolumeClaim
	for _, o := range d.Objects {
		key := o.Key.Namespace + "/" + o.Key.Name
		switch obj := o.Obj.(type) {
		case *corev1.ConfigMap:
			data.configMaps[key] = obj
		case *corev1.Secret:
			data.secrets[key] = obj
		case *corev1.PersistentVolume:
			data.volumes[obj.Name] = obj
			pvs = append(pvs, obj)
		case *corev1.PersistentVolumeClaim:
			c := obj.DeepCopy()
			c.Namespace = o.Key.Namespace
			pvcs = append(pvcs, c)
		}
	}
	data.claims = config.BindClaims(pvs, pvcs)
	return data
}

// configMap returns a ConfigMap; a missing one is an error unless optional
// (then nil).
func (d *podData) configMap(ns, name string, optional *bool) (*corev1.ConfigMap, error) {
	if cm := d.configMaps[ns+"/"+name]; cm != nil {
		return cm, nil
	}
	if optional != nil && *optional {
		return nil, nil
	}
	return nil, fmt.Errorf("configmap %q not found", name)
}

// secret returns a Secret; a missing one is an error unless optional.
func (d *podData) secret(ns, name string, optional *bool) (*corev1.Secret, error) {
	if s := d.secrets[ns+"/"+name]; s != nil {
		return s, nil
	}
	if optional != nil && *optional {
		return nil, nil
	}
	return nil, fmt.Errorf("secret %q not found", name)
}

// claim returns the PersistentVolume bound to a claim, or why there is none.
func (d *podData) claim(ns, name string) (*corev1.PersistentVolume, error) {
	b, ok := d.claims[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("persistentvolumeclaim %q not found", name)
	}
	if !b.Bound() {
		return nil, fmt.Errorf("persistentvolumeclaim %q is Pending: %s", name, b.Reason)
	}
	return d.volumes[b.Volume], nil
}

// dataDigest is a keyed digest of the ConfigMap and Secret data a pod
// template reads (through env, envFrom and volumes), or "" when it reads
// none. Keyed, so that the digest, which ends up in a label, tells nothing
// about a Secret's value; missing sources count as missing, so creating one
// later also changes it.
func dataDigest(key []byte, spec *corev1.PodSpec, ns string, data *podData) string {
	cms, secrets := referencedData(spec)
	if len(cms) == 0 && len(secrets) == 0 {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	for _, name := range cms {
		fmt.Fprintf(mac, "configmap %q\n", name)
		if cm := data.configMaps[ns+"/"+name]; cm != nil {
			for _, k := range sortedKeys(cm.Data) {
				fmt.Fprintf(mac, "%q=%q\n", k, cm.Data[k])
			}
			for _, k := range sortedKeys(cm.BinaryData) {
				fmt.Fprintf(mac, "%q=b%q\n", k, cm.BinaryData[k])
			}
		}
	}
	for _, name := range secrets {
		fmt.Fprintf(mac, "secret %q\n", name)
		if s := data.secrets[ns+"/"+name]; s != nil {
			for _, k := range sortedKeys(s.Data) {
				fmt.Fprintf(mac, "%q=%q\n", k, s.Data[k])
			}
		}
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// referencedData lists, sorted and unique, the ConfigMaps and Secrets a pod
// spec reads.
func referencedData(spec *corev1.PodSpec) (cms, secrets []string) {
	cm, sec := map[string]bool{}, map[string]bool{}
	containers := append(append([]corev1.Container(nil), spec.InitContainers...), spec.Containers...)
	for _, c := range containers {
		for _, f := range c.EnvFrom {
			if f.ConfigMapRef != nil {
				cm[f.ConfigMapRef.Name] = true
			}
			if f.SecretRef != nil {
				sec[f.SecretRef.Name] = true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				cm[r.Name] = true
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				sec[r.Name] = true
			}
		}
	}
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			cm[v.ConfigMap.Name] = true
		}
		if v.Secret != nil {
			sec[v.Secret.SecretName] = true
		}
	}
	return sortedKeys(cm), sortedKeys(sec)
}

// withDataHash mixes a data digest into a template hash, in the same short
// form.
func withDataHash(templateHash, digest string) string {
	if digest == "" {
		return templateHash
	}
	h := fnv.New32a()
	h.Write([]byte(templateHash + "/" + digest))
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// bindData prepares a newly loaded desired state for this node: every
// workload's template hash includes the data it reads, so that a change to
// a ConfigMap or Secret rolls the workloads that use it, and pod specs this
// node's policy refuses (a hostPath outside --host-path-allow, a privileged
// container without --allow-privileged) are marked not to run, with the
// reason.
// The source's desired state is not changed: a copy is returned.
func (e *Executor) bindData(src *config.Desired) (*config.Desired, *podData) {
	data := indexData(src)
	d := *src
	d.Workloads = append([]config.Workload(nil), src.Workloads...)
	d.Jobs = append([]config.Job(nil), src.Jobs...)
	d.CronJobs = append([]config.CronJob(nil), src.CronJobs...)
	for i := range d.Workloads {
		wl := &d.Workloads[i]
		spec := &wl.Template.Spec
		wl.TemplateHash = withDataHash(wl.TemplateHash, dataDigest(e.opt.DataKey, spec, wl.Key.Namespace, data))
		path := "spec.template.spec"
		if wl.Key.Kind == "Pod" {
			path = "spec"
		}
		if reason := e.refusal(spec, path); reason != "" {
			wl.Unhonoured = append(append([]string(nil), wl.Unhonoured...), reason)
		}
	}
	for i := range d.Jobs {
		if reason := e.refusal(&d.Jobs[i].Spec.Template.Spec, "spec.template.spec"); reason != "" {
			d.Jobs[i].Unhonoured = append(append([]string(nil), d.Jobs[i].Unhonoured...), reason)
		}
	}
	for i := range d.CronJobs {
		if reason := e.refusal(&d.CronJobs[i].JobTemplate.Spec.Template.Spec, "spec.jobTemplate.spec.template.spec"); reason != "" {
			d.CronJobs[i].Unhonoured = append(append([]string(nil), d.CronJobs[i].Unhonoured...), reason)
		}
	}
	return &d, data
}

// refusal says why this node's policy refuses a pod spec, or "".
func (e *Executor) refusal(spec *corev1.PodSpec, path string) string {
	for i, v := range spec.Volumes {
		if v.HostPath != nil && !e.hostPathAllowed(v.HostPath.Path) {
			return fmt.Sprintf("%s.volumes[%d].hostPath.path: %q is not under a directory allowed by --host-path-allow (%s)",
				path, i, v.HostPath.Path, e.allowedList())
		}
	}
	if e.opt.AllowPrivileged {
		return ""
	}
	for _, list := range []struct {
		name string
		cs   []corev1.Container
	}{{"initContainers", spec.InitContainers}, {"containers", spec.Containers}} {
		for i, c := range list.cs {
			if sc := c.SecurityContext; sc != nil && sc.Privileged != nil && *sc.Privileged {
				return fmt.Sprintf("%s.%s[%d].securityContext.privileged: privileged containers are refused unless the daemon runs with --allow-privileged", path, list.name, i)
			}
		}
	}
	return ""
}

func (e *Executor) allowedList() string {
	if len(e.opt.HostPathAllow) == 0 {
		return "none allowed"
	}
	return strings.Join(e.opt.HostPathAllow, ", ")
}

// hostPathAllowed reports whether p is one of the allowed directories or
// under one, after resolving symbolic links of its existing part (a link
// inside an allowed directory must not lead out of it).
func (e *Executor) hostPathAllowed(p string) bool {
	if !filepath.IsAbs(p) {
		return false
	}
	real := resolveExisting(filepath.Clean(p))
	for _, dir := range e.opt.HostPathAllow {
		d := resolveExisting(filepath.Clean(dir))
		if real == d || strings.HasPrefix(real, strings.TrimSuffix(d, "/")+"/") {
			return true
		}
	}
	return false
}

// resolveExisting resolves the symbolic links of the longest existing
// prefix of an absolute path and appends the rest.
func resolveExisting(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
