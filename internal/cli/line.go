package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/guard"
)

// line runs the guard and, when the first-run setup saves a new configuration, rebuilds it
// from that configuration in this process: the store, the dashboard, the hub and the
// alerts go on, and the new guard binds its SIP sockets as soon as the old one has let them
// go. A guard is replaced only while no call is up, so no call — an emergency call least
// of all — is cut by it.
type line struct {
	parent context.Context
	opts   guard.Options // all but the screening chain, which comes from each configuration
	log    *slog.Logger

	mu     sync.Mutex
	cur    *guardRun
	keeper *rulesKeeper
	// rebuilt, when set, is told of each new guard once its households are in force (the
	// household memory from the record, the service's shared registrations).
	rebuilt func(*guard.Guard)
}

// guardRun is one guard serving until its context ends.
type guardRun struct {
	cfg    *config.Config
	g      *guard.Guard
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// errCallsUp is Replace's answer while a call is in progress.
var errCallsUp = errors.New("a call is in progress: save again once it has ended")

func (l *line) start(cfg *config.Config) (*guardRun, error) {
	chain, err := cfg.Screening.Chain()
	if err != nil {
		return nil, err
	}
	o := l.opts
	o.Screening = chain
	g, err := guard.New(cfg, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(l.parent)
	r := &guardRun{cfg: cfg, g: g, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = g.Serve(ctx)
		close(r.done)
	}()
	return r, nil
}

// current is the guard serving now.
func (l *line) current() *guardRun {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// wait returns when the guard stops other than by being replaced.
func (l *line) wait() error {
	for {
		r := l.current()
		<-r.done
		if l.current() == r {
			return r.err
		}
	}
}

// replace puts cfg into force: save is called first (it writes what was chosen), then the
// guard is rebuilt. Nothing changes when a call is up, when the new SIP address cannot be
// bound, or when save fails.
func (l *line) replace(cfg *config.Config, save func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.cur
	if old.g.Active() > 0 {
		return errCallsUp
	}
	if cfg.SIP.Listen != old.cfg.SIP.Listen {
		if err := canBind(cfg.SIP.Listen); err != nil {
			return &config.Error{Problems: []config.Problem{{Key: "sip.listen", Msg: err.Error()}}}
		}
	}
	if err := save(); err != nil {
		return err
	}
	old.cancel()
	<-old.done
	r, err := l.start(cfg)
	if err != nil {
		// The saved configuration passed every check; should the guard still not build,
		// the old one comes back rather than leave the line without a guard.
		l.log.Error("the new configuration did not start; the previous one runs again", "err", err)
		if r, err2 := l.start(old.cfg); err2 == nil {
			l.cur = r
		}
		return err
	}
	l.cur = r
	l.log.Info("guard rebuilt from the saved setup", "sip", cfg.SIP.Listen, "trunk", cfg.Trunk.Address, "phones", len(cfg.Phones))
	err = l.keeper.replace(cfg, r.g)
	if l.rebuilt != nil {
		l.rebuilt(r.g) // its households are in force now
	}
	return err
}

// canBind says whether the guard could listen for SIP at addr (UDP and TCP).
func canBind(addr string) error {
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("this box cannot listen on %s: %v (is it one of the box's own addresses?)", addr, errors.Unwrap(err))
	}
	defer u.Close()
	t, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("this box cannot listen on %s: %v", addr, errors.Unwrap(err))
	}
	return t.Close()
}
