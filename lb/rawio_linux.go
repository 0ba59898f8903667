package lb

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a socket the way the net package does (try, and
// on EAGAIN wait for the poller), but with raw system calls: the socket is
// non-blocking, so read and write return at once, and skipping the
// runtime's syscall bookkeeping spares the proxy the hand-offs of its
// processor to another thread that a loopback write long enough to span a
// sysmon tick otherwise causes.
type rawIO struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool // r.read or r.write, bound once
	p     []byte
	n     int
	errno syscall.Errno
}

// newRawIO returns c's reader and writer: a rawIO, or c itself when it has
// no file descriptor.
func newRawIO(c net.Conn) (io.Reader, io.Writer) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c, c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c, c
	}
	// One for each direction, so that a read and a write may run at once.
	r, w := &rawIO{rc: rc}, &rawIO{rc: rc}
	r.fn, w.fn = r.read, w.write
	return r, w
}

func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.errno = p, 0, 0
	err := r.rc.Read(r.fn)
	n, errno := r.n, r.errno
	r.p = nil
	switch {
	case err != nil:
		return 0, err // closed, or past the deadline
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (r *rawIO) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch e {
		case 0:
			r.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		r.errno = e
		return true
	}
}

func (r *rawIO) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.errno = p, 0, 0
	err := r.rc.Write(r.fn)
	n, errno := r.n, r.errno
	r.p = nil
	switch {
	case err != nil:
		return n, err
	case errno != 0:
		return n, os.NewSyscallError("write", errno)
	}
	return n, nil
}

// write writes all of r.p, waiting for the poller when the socket buffer
// is full.
func (r *rawIO) write(fd uintptr) bool {
	for r.n < len(r.p) {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.p[r.n])), uintptr(len(r.p)-r.n))
		switch e {
		case 0:
			r.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.errno = e
			return true
		}
	}
	return true
}
