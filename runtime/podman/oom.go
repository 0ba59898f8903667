package podman

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/pods"
	"golang.org/x/sys/unix"
)

// memoryCgroupRoot is where cgroup v1's memory controller is mounted.
const memoryCgroupRoot = "/sys/fs/cgroup/memory"

// OOMDir holds a marker file per container the OOM watch saw killed, so
// that the fact outlives the daemon and other clients on this host (the
// CLI, a restarted daemon) see it too. It is on /run: containers are gone
// after a reboot as well.
var OOMDir = "/run/reconciler/oom"

// With cgroup v1 and runc, Podman 4.3 does not notice that the kernel
// OOM-killed a container (State.OOMKilled stays false). The client
// watches instead, as containerd does on v1: before a container with a
// memory limit starts, it is initialised (its cgroup exists, its process
// does not run yet) and an eventfd is registered for the cgroup's OOM
// notifications. The kernel signals that eventfd on an OOM kill and once
// more when the cgroup is removed, so a count of two, or one while the
// cgroup still exists, is an OOM kill. The engine is local (a unix
// socket), so its cgroups are this host's.

// noteMemoryLimit remembers that a created container has a memory limit,
// so StartContainer watches it.
func (c *Client) noteMemoryLimit(id, podID string) {
	c.oomMu.Lock()
	defer c.oomMu.Unlock()
	if c.limited == nil {
		c.limited = map[string]string{}
	}
	c.limited[id] = podID
}

// prepareStart initialises a memory-limited container and starts watching
// its cgroup for OOM kills. Failures only lose the OOMKilled report.
func (c *Client) prepareStart(cc context.Context, id string) {
	c.oomMu.Lock()
	podID, ok := c.limited[id]
	delete(c.limited, id)
	c.oomMu.Unlock()
	if !ok {
		return
	}
	if err := containers.ContainerInit(cc, id, nil); err != nil {
		return
	}
	p, err := pods.Inspect(cc, podID, nil)
	if err != nil || p.CgroupPath == "" {
		return
	}
	dir := filepath.Join(memoryCgroupRoot, p.CgroupPath, "libpod-"+id)
	if err := c.watchOOM(id, dir); err != nil {
		return // cgroup v2 (conmon reports OOM kills there) or no access
	}
}

// watchOOM registers an eventfd for the OOM notifications of a memory
// cgroup and records the container as OOM-killed when one arrives.
func (c *Client) watchOOM(id, dir string) error {
	ctl, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		ctl.Close()
		return err
	}
	ev := os.NewFile(uintptr(efd), "oom-eventfd")
	reg := fmt.Sprintf("%d %d", efd, ctl.Fd())
	if err := os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(reg), 0); err != nil {
		ctl.Close()
		ev.Close()
		return err
	}
	go func() {
		defer ctl.Close()
		defer ev.Close()
		if oomSignalled(efd, dir) {
			if os.MkdirAll(OOMDir, 0o755) == nil {
				_ = os.WriteFile(filepath.Join(OOMDir, id), nil, 0o644)
			}
		}
	}()
	return nil
}

// oomSignalled waits for the first notification of an OOM eventfd and
// tells an OOM kill from the cgroup's removal. Two signals at once, or one
// while the cgroup still exists, are an OOM kill. One signal with the
// cgroup gone is its removal, unless the removal's own signal follows
// shortly (the kernel signals it when the cgroup goes offline, which may
// happen just after the directory disappears).
func oomSignalled(efd int, dir string) bool {
	n := readEventfd(efd)
	switch {
	case n >= 2:
		return true
	case n == 0:
		return false
	}
	if _, err := os.Stat(dir); err == nil {
		return true
	}
	fds := []unix.PollFd{{Fd: int32(efd), Events: unix.POLLIN}}
	if k, err := unix.Poll(fds, 2000); err != nil || k == 0 {
		return false
	}
	return readEventfd(efd) > 0
}

// readEventfd reads an eventfd's counter (0 on error).
func readEventfd(efd int) uint64 {
	var buf [8]byte
	for {
		k, err := unix.Read(efd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || k != 8 {
			return 0
		}
		return binary.LittleEndian.Uint64(buf[:])
	}
}

// oomKilled reports whether the OOM watch saw the container killed.
func oomKilled(id string) bool {
	_, err := os.Stat(filepath.Join(OOMDir, id))
	return err == nil
}

// forgetOOM drops the marker of a removed container.
func forgetOOM(id string) { _ = os.Remove(filepath.Join(OOMDir, id)) }
