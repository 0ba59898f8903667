package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/serf"

	"github.com/reconciler/reconciler/internal/backoff"
)

// ErrRunning is returned by Run on a Fleet that runs or has run: a Fleet
// runs once.
var ErrRunning = errors.New("fleet: Run called twice")

// ErrGossipStopped is returned by Run when gossip stopped without being
// asked to: serf shuts down a node that loses a name conflict (another node
// gossips under the same name).
var ErrGossipStopped = errors.New("fleet: gossip stopped unexpectedly")

// Run gossips until ctx ends, then leaves the fleet gracefully (the other
// members see this node Left, not failed) and returns nil. It first joins
// the nodes in Options.Join, retrying with back-off until one answers or
// ctx ends (JoinError tells why the last attempt failed); with no Join it
// is a fleet of one that others may join. Every goroutine it starts has
// ended when it returns. A Fleet runs once.
func (f *Fleet) Run(ctx context.Context) error {
	events := make(chan serf.Event, 256)
	s, err := f.start(events)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); drain(events, s.ShutdownCh(), f.wake) }()
	go func() { defer wg.Done(); f.refresh(s.ShutdownCh()) }()

	if len(f.opt.Join) > 0 {
		f.join(ctx, s)
	}
	select {
	case <-ctx.Done():
	case <-s.ShutdownCh():
		err = ErrGossipStopped
	}
	f.stop(s)
	wg.Wait()
	poke(f.changes)
	return err
}

// start creates serf: from here on this node listens and gossips.
func (f *Fleet) start(events chan serf.Event) (*serf.Serf, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return nil, ErrRunning
	}
	f.started = true
	conf, err := f.serfConfig(events)
	if err != nil {
		return nil, err
	}
	s, err := serf.Create(conf)
	if err != nil {
		return nil, fmt.Errorf("fleet: start gossip on %s: %w", f.opt.Bind, err)
	}
	local := s.Memberlist().LocalNode()
	f.addr = net.JoinHostPort(local.Addr.String(), strconv.Itoa(int(local.Port)))
	f.serf = s
	f.log.Info("gossip started", "addr", f.addr, "join", strings.Join(f.opt.Join, ","))
	return s, nil
}

// serfConfig builds serf's and memberlist's configuration from the options.
func (f *Fleet) serfConfig(events chan serf.Event) (*serf.Config, error) {
	o, t := &f.opt, f.opt.Timing
	logger := serfLogger(f.log)
	conf := serf.DefaultConfig()
	conf.NodeName = o.Node
	conf.Tags = f.id.encode()
	conf.EventCh = events
	conf.Logger, conf.LogOutput = logger, nil
	conf.DisableCoordinates = true
	conf.LeavePropagateDelay = t.LeaveDelay

	ml := conf.MemberlistConfig
	ml.Logger, ml.LogOutput = logger, nil
	ml.BindAddr, ml.BindPort, _ = splitHostPort(o.Bind)
	if o.Advertise != "" {
		ml.AdvertiseAddr, ml.AdvertisePort, _ = splitHostPort(o.Advertise)
	}
	keyring, err := memberlist.NewKeyring(nil, o.Key)
	if err != nil {
		return nil, fmt.Errorf("fleet: key: %w", err)
	}
	ml.Keyring = keyring
	ml.GossipVerifyIncoming, ml.GossipVerifyOutgoing = true, true
	ml.ProbeInterval, ml.ProbeTimeout, ml.SuspicionMult = t.ProbeInterval, t.ProbeTimeout, t.SuspicionMult
	ml.GossipInterval, ml.PushPullInterval, ml.TCPTimeout = t.GossipInterval, t.PushPullInterval, t.TCPTimeout
	return conf, nil
}

// join tries the join addresses until one answers, ctx ends or gossip
// stops.
func (f *Fleet) join(ctx context.Context, s *serf.Serf) {
	b := backoff.New(f.opt.Timing.JoinRetry, f.opt.Timing.JoinRetryMax)
	for {
		n, err := s.Join(f.opt.Join, true)
		if n > 0 {
			f.setJoinErr(nil)
			f.mu.Lock()
			f.joined = true
			f.mu.Unlock()
			f.log.Info("joined fleet", "contacted", n, "members", s.NumNodes())
			return
		}
		err = joinError(f.opt.Join, err)
		f.setJoinErr(err)
		delay := b.Next()
		f.log.Warn("fleet join failed", "err", err, "retry_in", delay)
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-s.ShutdownCh():
		case <-timer.C:
			continue
		}
		timer.Stop()
		return
	}
}

// joinError explains a failed join in one line (memberlist names each
// address), with a hint when the cause is most likely a different gossip
// key.
func joinError(addrs []string, err error) error {
	errs := []error{err}
	if m, ok := err.(interface{ WrappedErrors() []error }); ok { // go-multierror
		errs = m.WrappedErrors()
	}
	if err == nil || len(errs) == 0 {
		errs = []error{fmt.Errorf("no node answered at %s", strings.Join(addrs, ", "))}
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	msg := strings.Join(msgs, "; ")
	switch {
	case strings.Contains(msg, "no installed keys could decrypt"):
		msg += " (the peer uses another fleet key)"
	case strings.Contains(msg, "EOF") || strings.Contains(msg, "reset by peer"):
		msg += " (the peer closed the connection: does it use the same fleet key?)"
	}
	return &joinFailure{msg: "fleet: join: " + msg, errs: errs}
}

// joinFailure is a failed join: one message, and every address's error.
type joinFailure struct {
	msg  string
	errs []error
}

func (e *joinFailure) Error() string   { return e.msg }
func (e *joinFailure) Unwrap() []error { return e.errs }

func (f *Fleet) setJoinErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joinErr = err
}

// stop leaves the fleet, if gossip still runs, and shuts serf down.
func (f *Fleet) stop(s *serf.Serf) {
	if s.State() == serf.SerfAlive {
		if err := s.Leave(); err != nil {
			f.log.Warn("fleet leave failed", "err", err)
		}
	}
	if err := s.Shutdown(); err != nil {
		f.log.Warn("gossip shutdown failed", "err", err)
	}
	f.mu.Lock()
	f.serf, f.stopped, f.joinErr = nil, true, nil
	f.mu.Unlock()
	f.log.Info("left fleet")
}

// drain reads serf's events, which must never back up, and wakes the
// refresher; the events themselves are not needed, Members reads the state.
func drain(events <-chan serf.Event, done <-chan struct{}, wake chan struct{}) {
	for {
		select {
		case <-events:
			poke(wake)
		case <-done:
			return
		}
	}
}

// refresh re-reads the member list when serf reports an event, when tags
// change and every Timing.Refresh (which turns failed members NotReady on
// time), and notifies Changes when it differs.
func (f *Fleet) refresh(done <-chan struct{}) {
	tick := time.NewTicker(f.opt.Timing.Refresh)
	defer tick.Stop()
	last := f.Members()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		case <-f.wake:
		}
		if cur := f.Members(); !sameMembers(cur, last) {
			last = cur
			poke(f.changes)
		}
	}
}
