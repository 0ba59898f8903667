package podman

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	dockerTypes "github.com/docker/docker/api/types"

	"github.com/containers/podman/v4/pkg/api/handlers"
	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/bindings/containers"

	"github.com/reconciler/reconciler/runtime"
)

// Logs copies a container's output to w until it ends (or ctx ends when
// following).
func (c *Client) Logs(ctx context.Context, id string, o runtime.LogOptions, w io.Writer) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	opts := new(containers.LogOptions).WithStdout(true).WithStderr(true).WithFollow(o.Follow)
	if o.Tail >= 0 {
		opts = opts.WithTail(strconv.Itoa(o.Tail))
	}
	if !o.Since.IsZero() {
		opts = opts.WithSince(strconv.FormatInt(o.Since.Unix(), 10))
	}
	lines := make(chan string)
	done := make(chan struct{})
	go func() { // the bindings send both streams on channels; merge them
		defer close(done)
		for l := range lines {
			_, _ = io.WriteString(w, l)
		}
	}()
	err = containers.Logs(cc, id, opts, lines, lines)
	close(lines)
	<-done
	return wrap(err, "logs %s", short(id))
}

// Exec runs cmd in a running container and returns its exit code and output.
// The output stream is read from the exec start response on the shared
// connection: the bindings' ExecStartAndAttach swaps the connection's
// transport and leaves two goroutines and a socket behind per call, which
// periodic exec probes would pile up.
func (c *Client) Exec(ctx context.Context, id string, cmd []string) (runtime.ExecResult, error) {
	var res runtime.ExecResult
	cc, err := c.connected(ctx)
	if err != nil {
		return res, err
	}
	sid, err := containers.ExecCreate(cc, id, &handlers.ExecCreateConfig{
		ExecConfig: dockerTypes.ExecConfig{Cmd: cmd, AttachStdout: true, AttachStderr: true},
	})
	if err != nil {
		return res, wrap(err, "exec create in %s", short(id))
	}
	defer func() { _ = containers.ExecRemove(cc, sid, new(containers.ExecRemoveOptions).WithForce(true)) }()
	conn, err := bindings.GetClient(cc)
	if err != nil {
		return res, err
	}
	hdr := http.Header{"Content-Type": []string{"application/json"}}
	resp, err := conn.DoRequest(cc, strings.NewReader(`{"Detach":false,"Tty":false}`), http.MethodPost, "/exec/%s/start", nil, hdr, sid)
	if err != nil {
		return res, wrap(err, "exec in %s", short(id))
	}
	defer resp.Body.Close()
	if !resp.IsSuccess() {
		return res, wrap(resp.Process(nil), "exec in %s", short(id))
	}
	var stdout, stderr bytes.Buffer
	if err := demux(resp.Body, &stdout, &stderr); err != nil {
		return res, wrap(err, "exec output of %s", short(id))
	}
	insp, err := containers.ExecInspect(cc, sid, nil)
	if err != nil {
		return res, wrap(err, "exec inspect in %s", short(id))
	}
	res.ExitCode = insp.ExitCode
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	return res, nil
}

// demux splits the engine's multiplexed stdout/stderr stream.
func demux(r io.Reader, stdout, stderr io.Writer) error {
	buf := make([]byte, 1024)
	for {
		fd, n, err := containers.DemuxHeader(r, buf)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
		frame, err := containers.DemuxFrame(r, buf, n)
		if err != nil {
			return err
		}
		w := stdout
		if fd == 2 {
			w = stderr
		}
		if _, err := w.Write(frame[:n]); err != nil {
			return err
		}
	}
}
