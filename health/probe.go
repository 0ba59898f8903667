package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reconciler/reconciler/runtime"
)

// Execer runs a command in a running container and waits for it; it must
// return soon after ctx ends. runtime.Runtime satisfies it.
type Execer interface {
	Exec(ctx context.Context, id string, cmd []string) (runtime.ExecResult, error)
}

var _ Execer = runtime.Runtime(nil)

// maxOutput bounds how much of an exec probe's output goes into a message.
const maxOutput = 256

// prober carries out single probe attempts. It is safe for concurrent use.
type prober struct {
	exec   Execer
	client *http.Client
	dialer net.Dialer
}

// newProber returns a prober that runs exec probes through exec (which may
// be nil: exec probes then error).
func newProber(exec Execer) *prober {
	return &prober{exec: exec, client: newHTTPClient()}
}

// probe runs p once against t, bounded by timeout.
func (pr *prober) probe(ctx context.Context, t *Target, p *corev1.Probe, timeout time.Duration) outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := &p.ProbeHandler
	switch {
	case h.Exec != nil:
		return pr.execCommand(ctx, t.ContainerID, h.Exec.Command, timeout)
	case h.HTTPGet != nil:
		addr, err := hostAddr(t, h.HTTPGet.Port)
		if err != nil {
			return outcome{failed, err.Error()}
		}
		return pr.httpGet(ctx, addr, h.HTTPGet)
	case h.TCPSocket != nil:
		addr, err := hostAddr(t, h.TCPSocket.Port)
		if err != nil {
			return outcome{failed, err.Error()}
		}
		return pr.tcpConnect(ctx, addr)
	case h.GRPC != nil:
		return outcome{errored, "gRPC probes are not supported"}
	}
	return outcome{errored, "probe has no handler"}
}

// hostAddr resolves a probe's port (a number or the name of one of the
// container's ports) to the host address it is published on.
func hostAddr(t *Target, port intstr.IntOrString) (string, error) {
	n := port.IntVal
	if port.Type == intstr.String {
		var ok bool
		if n, ok = namedPort(&t.Spec, port.StrVal); !ok {
			return "", fmt.Errorf("port %q is not a port of container %q", port.StrVal, t.Container)
		}
	}
	addr, ok := t.Ports[n]
	if !ok {
		return "", fmt.Errorf("port %d is not published on the host", n)
	}
	return addr, nil
}

// namedPort finds the container port called name.
func namedPort(c *corev1.Container, name string) (int32, bool) {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// tcpConnect passes when a TCP connection to addr opens; it closes it at
// once.
func (pr *prober) tcpConnect(ctx context.Context, addr string) outcome {
	conn, err := pr.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return outcome{failed, err.Error()}
	}
	_ = conn.Close() // the connect was the probe; a close error changes nothing
	return outcome{verdict: passed}
}

// execCommand runs cmd in the container: exit code 0 passes, another code
// or the timeout fails, and any other error (the engine could not run it)
// errors, as in the kubelet.
func (pr *prober) execCommand(ctx context.Context, id string, cmd []string, timeout time.Duration) outcome {
	if pr.exec == nil {
		return outcome{errored, "no runtime to exec in"}
	}
	res, err := pr.exec.Exec(ctx, id, cmd)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return outcome{failed, fmt.Sprintf("command %q timed out after %s", cmd, timeout)}
	case err != nil:
		return outcome{errored, fmt.Sprintf("exec %q: %v", cmd, err)}
	case res.ExitCode != 0:
		msg := fmt.Sprintf("command %q exited with code %d", cmd, res.ExitCode)
		if out := output(res); out != "" {
			msg += ": " + out
		}
		return outcome{failed, msg}
	}
	return outcome{verdict: passed}
}

// output is the start of a command's output, for a message.
func output(res runtime.ExecResult) string {
	out := strings.TrimSpace(string(res.Stdout) + string(res.Stderr))
	if len(out) > maxOutput {
		out = strings.ToValidUTF8(out[:maxOutput], "") + "…"
	}
	return out
}
