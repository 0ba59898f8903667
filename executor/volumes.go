package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/runtime"
)

// Default file modes of projected ConfigMap and Secret files, as Kubernetes'.
const defaultFileMode = 0o644

// volumeSource is where one pod volume's content lives on this host.
type volumeSource struct {
	volume   string // an engine named volume
	hostPath string // a host file or directory
	tmpfs    bool
	// mountpoint is a named volume's host directory (for subPath).
	mountpoint string
	readOnly   bool // ConfigMap and Secret volumes are always read-only
}

// podVolumes makes sure every volume of a pod exists and returns where each
// lives: emptyDirs as named volumes of the pod (memory-backed for medium
// Memory), ConfigMaps and Secrets as files under the node's volume
// directory, claims as their PersistentVolume (a host path or a named
// volume that outlives every pod), host paths as they are (the policy
// check happened when the desired state was loaded). It is idempotent: a
// restarted container or daemon finds the same volumes.
func (e *Executor) podVolumes(ctx context.Context, pod runtime.PodSpec, podID string, spec *corev1.PodSpec, data *podData) (map[string]volumeSource, error) {
	out := make(map[string]volumeSource, len(spec.Volumes))
	fsGroup := podFSGroup(spec)
	for i, v := range spec.Volumes {
		path := fmt.Sprintf("spec.volumes[%d]", i)
		var src volumeSource
		var err error
		switch {
		case v.EmptyDir != nil:
			src, err = e.emptyDir(ctx, pod, podID, v, fsGroup)
		case v.ConfigMap != nil || v.Secret != nil:
			src, err = e.projectedFiles(pod, podID, v, fsGroup, data)
		case v.HostPath != nil:
			src, err = hostPathSource(v.HostPath)
		case v.PersistentVolumeClaim != nil:
			src, err = e.claimSource(ctx, pod, v.PersistentVolumeClaim, fsGroup, data)
		default:
			err = errors.New("volume type not supported")
		}
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", path, v.Name, err)
		}
		out[v.Name] = src
	}
	return out, nil
}

func podFSGroup(spec *corev1.PodSpec) *int64 {
	if sc := spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

// emptyDirName is the engine name of a pod's emptyDir: the pod ID in it, so
// a new pod of the same name never finds an old pod's data.
func emptyDirName(pod runtime.PodSpec, podID, volume string) string {
	return fmt.Sprintf("%s_%s_%s_%s_%s", pod.Namespace, pod.Name, pod.Node, volume, short12(podID))
}

func short12(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func (e *Executor) emptyDir(ctx context.Context, pod runtime.PodSpec, podID string, v corev1.Volume, fsGroup *int64) (volumeSource, error) {
	s := runtime.VolumeSpec{
		Name: emptyDirName(pod, podID, v.Name), Kind: runtime.VolumeEmptyDir,
		Node: pod.Node, Namespace: pod.Namespace, Pod: pod.Name, PodID: podID, Volume: v.Name,
		Tmpfs: v.EmptyDir.Medium == corev1.StorageMediumMemory, GID: fsGroup, Mode: 0o777,
	}
	if s.Tmpfs && v.EmptyDir.SizeLimit != nil {
		s.SizeBytes = v.EmptyDir.SizeLimit.Value()
	}
	vol, err := e.rt.EnsureVolume(ctx, s)
	if err != nil {
		return volumeSource{}, err
	}
	return volumeSource{volume: vol.Name, mountpoint: vol.Mountpoint, tmpfs: s.Tmpfs}, nil
}

// podFilesDir is the host directory of one pod's ConfigMap and Secret files.
func (e *Executor) podFilesDir(podID string) string {
	return filepath.Join(e.opt.VolumeDir, e.opt.Node, short12(podID))
}

// projectedFiles writes a ConfigMap or Secret volume: one file per key (or
// per item), with the volume's modes, group-owned by the pod's fsGroup. The
// pod's directory is 0700 root, under a tmpfs by default (/run), so Secret
// values are never written to disk. Files are written once per pod: the
// data cannot change under a pod, since a change gives its owner a new
// template hash and new pods.
func (e *Executor) projectedFiles(pod runtime.PodSpec, podID string, v corev1.Volume, fsGroup *int64, data *podData) (volumeSource, error) {
	dir := filepath.Join(e.podFilesDir(podID), v.Name)
	src := volumeSource{hostPath: dir, readOnly: true}
	if _, err := os.Stat(dir); err == nil {
		return src, nil
	}
	files, mode, err := volumeFiles(v, pod.Namespace, data)
	if err != nil {
		return volumeSource{}, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return volumeSource{}, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+v.Name+"-")
	if err != nil {
		return volumeSource{}, err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		if err := writeProjected(tmp, f, mode, fsGroup); err != nil {
			return volumeSource{}, err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return volumeSource{}, err
	}
	if fsGroup != nil {
		if err := os.Chown(tmp, 0, int(*fsGroup)); err != nil {
			return volumeSource{}, err
		}
	}
	return src, os.Rename(tmp, dir)
}

// projectedFile is one file of a ConfigMap or Secret volume.
type projectedFile struct {
	path string
	data []byte
	mode *int32
}

// volumeFiles lists the files of a ConfigMap or Secret volume and its
// default mode. A missing optional source gives an empty volume.
func volumeFiles(v corev1.Volume, ns string, data *podData) ([]projectedFile, int32, error) {
	kv := map[string][]byte{}
	var items []corev1.KeyToPath
	var mode *int32
	var optional *bool
	kind, name := "configmap", ""
	if c := v.ConfigMap; c != nil {
		name, items, mode, optional = c.Name, c.Items, c.DefaultMode, c.Optional
		cm, err := data.configMap(ns, c.Name, c.Optional)
		if err != nil {
			return nil, 0, err
		}
		if cm != nil {
			for k, s := range cm.Data {
				kv[k] = []byte(s)
			}
			for k, b := range cm.BinaryData {
				kv[k] = b
			}
		}
	} else {
		s := v.Secret
		kind, name, items, mode, optional = "secret", s.SecretName, s.Items, s.DefaultMode, s.Optional
		sec, err := data.secret(ns, s.SecretName, s.Optional)
		if err != nil {
			return nil, 0, err
		}
		if sec != nil {
			kv = sec.Data
		}
	}
	def := int32(defaultFileMode)
	if mode != nil {
		def = *mode
	}
	var files []projectedFile
	if len(items) == 0 {
		for _, k := range sortedKeys(kv) {
			files = append(files, projectedFile{path: k, data: kv[k]})
		}
		return files, def, nil
	}
	for _, it := range items {
		b, ok := kv[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, 0, fmt.Errorf("couldn't find key %s in %s %q", it.Key, kind, name)
		}
		files = append(files, projectedFile{path: it.Path, data: b, mode: it.Mode})
	}
	return files, def, nil
}

func writeProjected(dir string, f projectedFile, def int32, fsGroup *int64) error {
	p, err := securejoin.SecureJoin(dir, f.path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	mode := def
	if f.mode != nil {
		mode = *f.mode
	}
	if err := os.WriteFile(p, f.data, os.FileMode(mode)&0o777); err != nil {
		return err
	}
	if err := os.Chmod(p, os.FileMode(mode)&0o777); err != nil { // past the umask
		return err
	}
	if fsGroup != nil {
		return os.Chown(p, 0, int(*fsGroup))
	}
	return nil
}

// hostPathSource checks a hostPath against its type, creating what the
// *OrCreate types ask for, as the kubelet does.
func hostPathSource(h *corev1.HostPathVolumeSource) (volumeSource, error) {
	p := filepath.Clean(h.Path)
	typ := corev1.HostPathUnset
	if h.Type != nil {
		typ = *h.Type
	}
	fi, err := os.Stat(p)
	switch typ {
	case corev1.HostPathDirectoryOrCreate:
		if err != nil {
			err = os.MkdirAll(p, 0o755)
		} else if !fi.IsDir() {
			err = fmt.Errorf("%s is not a directory", p)
		}
	case corev1.HostPathFileOrCreate:
		if err != nil {
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				var f *os.File
				if f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
					err = f.Close()
				}
			}
		}
	case corev1.HostPathDirectory:
		if err == nil && !fi.IsDir() {
			err = fmt.Errorf("%s is not a directory", p)
		}
	case corev1.HostPathFile:
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s is not a file", p)
		}
	case corev1.HostPathSocket:
		if err == nil && fi.Mode()&os.ModeSocket == 0 {
			err = fmt.Errorf("%s is not a socket", p)
		}
	case corev1.HostPathUnset:
		err = nil // no check, as Kubernetes
	}
	if err != nil {
		return volumeSource{}, fmt.Errorf("hostPath type check failed: %w", err)
	}
	return volumeSource{hostPath: p}, nil
}

// VolumeDriver is the CSI driver name of PersistentVolumes that the node
// backs with an engine named volume (spec.csi.driver).
const VolumeDriver = "volume.reconciler.dev"

// persistentName is the engine name of the named volume behind a
// PersistentVolume on this node.
func persistentName(node, pv string) string { return "pv_" + node + "_" + pv }

func (e *Executor) claimSource(ctx context.Context, pod runtime.PodSpec, c *corev1.PersistentVolumeClaimVolumeSource, fsGroup *int64, data *podData) (volumeSource, error) {
	pv, err := data.claim(pod.Namespace, c.ClaimName)
	if err != nil {
		return volumeSource{}, err
	}
	hostDir := ""
	switch {
	case pv.Spec.HostPath != nil:
		hostDir = pv.Spec.HostPath.Path
	case pv.Spec.Local != nil:
		hostDir = pv.Spec.Local.Path
	case pv.Spec.CSI == nil || pv.Spec.CSI.Driver != VolumeDriver:
		return volumeSource{}, fmt.Errorf("persistentvolume %q: only hostPath, local and csi driver %s volumes can be mounted", pv.Name, VolumeDriver)
	}
	if hostDir != "" {
		if !e.hostPathAllowed(hostDir) {
			return volumeSource{}, fmt.Errorf("persistentvolume %q: %q is not under a directory allowed by --host-path-allow (%s)", pv.Name, hostDir, e.allowedList())
		}
		src, err := hostPathSource(&corev1.HostPathVolumeSource{Path: hostDir})
		src.readOnly = c.ReadOnly
		return src, err
	}
	vol, err := e.rt.EnsureVolume(ctx, runtime.VolumeSpec{
		Name: persistentName(pod.Node, pv.Name), Kind: runtime.VolumePersistent,
		Node: pod.Node, Volume: pv.Name, GID: fsGroup, Mode: 0o777,
	})
	if err != nil {
		return volumeSource{}, err
	}
	return volumeSource{volume: vol.Name, mountpoint: vol.Mountpoint, readOnly: c.ReadOnly}, nil
}

// containerMounts turns a container's volumeMounts into engine mounts. A
// subPath of a named volume is resolved on the host, inside the volume
// (created when missing, as the kubelet does), so it cannot escape it.
func containerMounts(c *corev1.Container, vols map[string]volumeSource) ([]runtime.Mount, error) {
	var out []runtime.Mount
	for i, m := range c.VolumeMounts {
		src, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMounts[%d]: volume %q not prepared", i, m.Name)
		}
		mnt := runtime.Mount{Destination: m.MountPath, ReadOnly: m.ReadOnly || src.readOnly}
		switch {
		case m.SubPath != "" && src.tmpfs:
			return nil, fmt.Errorf("volumeMounts[%d].subPath: not supported on a medium Memory emptyDir", i)
		case m.SubPath != "" && src.volume != "":
			p, err := subPathOf(src.mountpoint, m.SubPath, true)
			if err != nil {
				return nil, fmt.Errorf("volumeMounts[%d].subPath: %w", i, err)
			}
			mnt.HostPath = p
		case m.SubPath != "":
			p, err := subPathOf(src.hostPath, m.SubPath, !src.readOnly)
			if err != nil {
				return nil, fmt.Errorf("volumeMounts[%d].subPath: %w", i, err)
			}
			mnt.HostPath = p
		case src.volume != "":
			mnt.Volume = src.volume
		default:
			mnt.HostPath = src.hostPath
		}
		out = append(out, mnt)
	}
	return out, nil
}

func subPathOf(root, sub string, create bool) (string, error) {
	if filepath.IsAbs(sub) || strings.HasPrefix(filepath.Clean(sub), "..") {
		return "", fmt.Errorf("%q must be a relative path inside the volume", sub)
	}
	p, err := securejoin.SecureJoin(root, sub)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		if !create {
			return "", err
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "", err
		}
	}
	return p, nil
}

// removePodVolumes removes a removed pod's emptyDirs and files.
func (e *Executor) removePodVolumes(ctx context.Context, podID string) error {
	vols, err := e.rt.ListVolumes(ctx, e.opt.Node)
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range vols {
		if v.Kind == runtime.VolumeEmptyDir && v.PodID == podID {
			errs = append(errs, e.rt.RemoveVolume(ctx, v.Name))
		}
	}
	errs = append(errs, os.RemoveAll(e.podFilesDir(podID)))
	return errors.Join(errs...)
}

// sweepVolumes removes the emptyDirs and file directories of pods that no
// longer exist: those a daemon killed during a removal left behind. obs
// must be a fresh observation taken while no pod is being created.
func (e *Executor) sweepVolumes(ctx context.Context, obs *runtime.Observed) {
	live := map[string]bool{}
	for _, p := range obs.Pods {
		live[p.ID] = true
		live[short12(p.ID)] = true
	}
	vols, err := e.rt.ListVolumes(ctx, e.opt.Node)
	if err == nil {
		for _, v := range vols {
			if v.Kind == runtime.VolumeEmptyDir && !live[v.PodID] {
				if err := e.rt.RemoveVolume(ctx, v.Name); err != nil {
					e.log.Warn("removing a left-over emptyDir", "volume", v.Name, "err", err)
				}
			}
		}
	}
	entries, err := os.ReadDir(filepath.Join(e.opt.VolumeDir, e.opt.Node))
	if err != nil {
		return
	}
	for _, d := range entries {
		if !live[d.Name()] {
			os.RemoveAll(filepath.Join(e.opt.VolumeDir, e.opt.Node, d.Name()))
		}
	}
}
