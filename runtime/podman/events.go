package podman

import (
	"context"
	"time"

	"github.com/containers/podman/v4/pkg/bindings/system"
	"github.com/containers/podman/v4/pkg/domain/entities"

	"github.com/reconciler/reconciler/runtime"
)

func forward(ctx context.Context, out chan<- runtime.Event, e entities.Event) {
	ev := runtime.Event{
		Type:      string(e.Type),
		Action:    string(e.Action),
		ID:        e.Actor.ID,
		Namespace: e.Actor.Attributes[runtime.LabelNamespace],
		Pod:       e.Actor.Attributes[runtime.LabelPod],
		Time:      time.Unix(0, e.TimeNano),
	}
	select {
	case out <- ev:
	case <-ctx.Done():
	}
}

// Events streams the node's container and pod events to out until ctx ends
// or the stream breaks (the engine went away); it returns why it ended.
func (c *Client) Events(ctx context.Context, node string, out chan<- runtime.Event) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	raw := make(chan entities.Event, 64)
	cancel := make(chan bool)
	done := make(chan error, 1)
	go func() {
		done <- system.Events(cc, raw, cancel, new(system.EventsOptions).
			WithStream(true).WithFilters(scopeFilters(node)))
	}()
	stop := context.AfterFunc(ctx, func() { close(cancel) })
	defer stop()
	// system.Events closes raw only after a stream was opened; when the
	// request itself fails it returns at once, so wait on both.
	for {
		select {
		case e, ok := <-raw:
			if !ok {
				raw = nil
				continue
			}
			forward(ctx, out, e)
			continue
		case err = <-done:
		}
		break
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		return wrap(errStreamEnded, "events")
	}
	return wrap(err, "events")
}
