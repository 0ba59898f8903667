package podman

import (
	"context"
	"fmt"
	"io"

	"github.com/containers/podman/v4/pkg/bindings/images"

	"github.com/reconciler/reconciler/runtime"
)

// ImageExists reports whether the image is in local storage.
func (c *Client) ImageExists(ctx context.Context, ref string) (bool, error) {
	cc, err := c.connected(ctx)
	if err != nil {
		return false, err
	}
	ok, err := images.Exists(cc, ref, nil)
	return ok, wrap(err, "image exists %q", ref)
}

// PullImage pulls ref; any failure wraps runtime.ErrImagePull.
func (c *Client) PullImage(ctx context.Context, ref string) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	opts := new(images.PullOptions).WithQuiet(true).WithProgressWriter(io.Discard)
	if _, err := images.Pull(cc, ref, opts); err != nil {
		return fmt.Errorf("podman: pull %q: %w: %w", ref, runtime.ErrImagePull, err)
	}
	return nil
}
