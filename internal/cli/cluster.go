package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/store/sqlite"
)

// service makes one guard instance one of several behind a SIP load balancer, all on one
// PostgreSQL database: the registrations this instance takes go to the database and the
// others' come from it; a change any instance or admin makes to households, phones or
// settings is put in force here within moments; the household's call memory (the 999
// ring-back above all) is shared; and the work that must happen once for the whole service
// — closing a dead instance's calls, sweeping stale registrations, the hub's reports and
// community alerts — runs on one instance at a time, the leader.
//
// Everything goes through PostgreSQL LISTEN/NOTIFY on one channel: a notification is sent
// in the transaction that makes the change, so it arrives only once the change is there to
// read. A call never waits for any of it: the guard works from its own memory, and with the
// database away it still serves what it knew.
type service struct {
	db     *sqlite.Store
	id     string
	ln     *line
	keeper *rulesKeeper
	log    *slog.Logger

	regs chan regChange
	mem  chan guard.MemoryEvent

	endMu  sync.Mutex
	ending map[string]chan string // calls whose end this guard asked another for
}

// regChange is a binding this instance took, refreshed or removed, or every binding of a
// user removed (all).
type regChange struct {
	b   guard.Binding
	all bool
}

const (
	heartbeatEvery = 2 * time.Second
	// deadAfter is how long an instance may go unseen before the leader closes its calls.
	deadAfter   = 10 * time.Second
	sweepEvery  = 5 * time.Second
	debounce    = 50 * time.Millisecond
	memoryBatch = 20 * time.Millisecond
	// notifyLimit keeps a NOTIFY payload under PostgreSQL's 8,000 bytes.
	notifyLimit = 7800
)

// instanceID names this run of the guard in the service: its SIP address (which the load
// balancer knows it by) and a random part, new at every start, so that a restarted guard's
// earlier calls are seen as a dead instance's.
func instanceID(sipAddr string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return sipAddr + "#" + hex.EncodeToString(b)
}

func newService(db *sqlite.Store, sipAddr string, log *slog.Logger) *service {
	s := &service{db: db, id: instanceID(sipAddr), log: log.With("part", "service"),
		regs: make(chan regChange, 4096), mem: make(chan guard.MemoryEvent, 4096)}
	db.SetInstance(s.id)
	return s
}

// options wires the guard's sharing hooks.
func (s *service) options(o *guard.Options) {
	o.Location = location{s}
	o.Memory = func(ev guard.MemoryEvent) {
		select {
		case s.mem <- ev:
		default:
			s.log.Warn("household memory not shared: queue full", "household", ev.Household, "kind", ev.Kind)
		}
	}
}

// location is the guard's view of the shared location service.
type location struct{ s *service }

func (l location) Put(b guard.Binding) {
	select {
	case l.s.regs <- regChange{b: b}:
	default:
		l.s.log.Warn("registration not shared: queue full", "user", b.User)
	}
}

func (l location) DropAll(user string) {
	select {
	case l.s.regs <- regChange{b: guard.Binding{User: user}, all: true}:
	default:
		l.s.log.Warn("registration removal not shared: queue full", "user", user)
	}
}

// run works until ctx ends.
func (s *service) run(ctx context.Context, leader func(ctx context.Context)) {
	s.log.Info("one of a service's guards", "instance", s.id)
	go s.heartbeat(ctx)
	go s.writeRegistrations(ctx)
	go s.shareMemory(ctx)
	go s.db.RunAsLeader(ctx, "service", func(ctx context.Context) {
		s.log.Info("this instance leads the service", "instance", s.id)
		go leader(ctx)
		s.lead(ctx)
	})
	s.follow(ctx)
}

func (s *service) heartbeat(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	sipAddr, _, _ := strings.Cut(s.id, "#")
	for {
		beat, cancel := context.WithTimeout(ctx, heartbeatEvery)
		err := s.db.Heartbeat(beat, s.id, sipAddr, time.Now())
		cancel()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("heartbeat not recorded", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lead does the service's once-only upkeep while this instance is the leader.
func (s *service) lead(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if n, err := s.db.CloseCallsOf(ctx, now.Add(-deadAfter)); err != nil {
			s.log.Warn("dead instances' calls not closed", "err", err)
		} else if n > 0 {
			s.log.Warn("closed the calls of a guard that stopped", "calls", n)
		}
		if _, err := s.db.SweepRegistrations(ctx, now); err != nil {
			s.log.Warn("expired registrations not swept", "err", err)
		}
	}
}

// writeRegistrations writes this instance's bindings through to the database.
func (s *service) writeRegistrations(ctx context.Context) {
	for {
		var c regChange
		select {
		case <-ctx.Done():
			return
		case c = <-s.regs:
		}
		var err error
		if c.all {
			err = s.db.DropRegistrations(ctx, c.b.User, s.id)
		} else {
			err = s.db.PutRegistration(ctx, sqlite.Registration{User: c.b.User, Contact: c.b.Contact.String(),
				Path: joinURIs(c.b.Path), Flow: c.b.Flow, Instance: s.id, Expires: c.b.Expires})
		}
		if err != nil && ctx.Err() == nil {
			s.log.Warn("registration not shared", "user", c.b.User, "err", err)
		}
	}
}

// shareMemory sends the household memory's changes to the other instances, a batch at a time.
func (s *service) shareMemory(ctx context.Context) {
	for {
		var batch []guard.MemoryEvent
		select {
		case <-ctx.Done():
			return
		case ev := <-s.mem:
			batch = append(batch, ev)
		}
		timer := time.After(memoryBatch)
	gather:
		for {
			select {
			case ev := <-s.mem:
				batch = append(batch, ev)
			case <-timer:
				break gather
			case <-ctx.Done():
				return
			}
		}
		for _, payload := range memoryPayloads(batch) {
			if err := s.db.Notify(ctx, payload); err != nil && ctx.Err() == nil {
				s.log.Warn("household memory not shared", "err", err)
			}
		}
	}
}

// memoryPayloads are NOTIFY payloads ("memory:" and a JSON array) carrying evs, each under
// PostgreSQL's limit.
func memoryPayloads(evs []guard.MemoryEvent) []string {
	var out []string
	for len(evs) > 0 {
		n := len(evs)
		for {
			b, _ := json.Marshal(evs[:n])
			if len(b)+len("memory:") <= notifyLimit || n == 1 {
				out = append(out, "memory:"+string(b))
				break
			}
			n /= 2
		}
		evs = evs[n:]
	}
	return out
}

// follow applies what the others change, until ctx ends.
func (s *service) follow(ctx context.Context) {
	var notes <-chan string
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		var err error
		if notes, err = s.db.Listen(ctx); err == nil && notes != nil {
			break
		}
		s.log.Error("not listening for the service's changes yet; this instance serves what it last read", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	var reload <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			reload = nil
			if err := s.keeper.lines(ctx); err != nil {
				s.log.Error("households not put in force; the guard serves them as before", "err", err)
			}
		case n, ok := <-notes:
			if !ok {
				return
			}
			kind, arg, _ := strings.Cut(n, ":")
			switch kind {
			case "resync":
				s.bindingsAll(ctx, s.ln.current().g, false)
				reload = time.After(0)
			case "lines", "household":
				if reload == nil {
					reload = time.After(debounce) // a bulk change comes as many notes: read once
				}
			case "binding":
				s.bindings(ctx, arg)
			case "end":
				var n endNote
				if err := json.Unmarshal([]byte(arg), &n); err == nil {
					go s.endHere(ctx, n)
				}
			case "ended":
				var a endedNote
				if err := json.Unmarshal([]byte(arg), &a); err == nil {
					s.tellEnded(a)
				}
			case "memory":
				var evs []guard.MemoryEvent
				if err := json.Unmarshal([]byte(arg), &evs); err != nil {
					s.log.Warn("household memory note unreadable", "err", err)
					continue
				}
				g := s.ln.current().g
				for _, ev := range evs {
					g.Remember(ev)
				}
			}
		}
	}
}

// bindings puts user's bindings taken by the other instances in force.
func (s *service) bindings(ctx context.Context, user string) {
	rs, err := s.db.Registrations(ctx, user)
	if err != nil {
		s.log.Warn("registrations not read", "user", user, "err", err)
		return
	}
	s.ln.current().g.SetRemoteBindings(user, s.remote(rs, s.id)[user])
}

// bindingsAll puts every binding the other instances took in force on g; with own, those
// this instance took too (a rebuilt guard starts with none of its own).
func (s *service) bindingsAll(ctx context.Context, g *guard.Guard, own bool) {
	rs, err := s.db.Registrations(ctx, "")
	if err != nil {
		s.log.Warn("registrations not read", "err", err)
		return
	}
	skip := s.id
	if own {
		skip = ""
	}
	g.ReplaceRemoteBindings(s.remote(rs, skip))
}

// remote is the registrations among rs not taken by instance skip ("" skips none), as the
// guard's bindings, by user.
func (s *service) remote(rs []sqlite.Registration, skip string) map[string][]guard.Binding {
	out := map[string][]guard.Binding{}
	for _, r := range rs {
		if skip != "" && r.Instance == skip {
			continue
		}
		var contact sip.Uri
		if err := sip.ParseUri(r.Contact, &contact); err != nil {
			s.log.Warn("a shared registration's contact is unreadable", "user", r.User, "contact", r.Contact, "err", err)
			continue
		}
		b := guard.Binding{User: r.User, Contact: contact, Flow: r.Flow, Expires: r.Expires}
		for _, p := range splitURIs(r.Path) {
			var u sip.Uri
			if err := sip.ParseUri(p, &u); err != nil {
				s.log.Warn("a shared registration's path is unreadable", "user", r.User, "path", r.Path, "err", err)
				b.Path = nil
				break
			}
			b.Path = append(b.Path, u)
		}
		out[r.User] = append(out[r.User], b)
	}
	return out
}

func joinURIs(us []sip.Uri) string {
	parts := make([]string, len(us))
	for i, u := range us {
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

func splitURIs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// serviceLive is the dashboard's calls now on one of a service's guards: this guard's own,
// and those in progress on the others as the shared database has them. A guardian's "End
// this call" for a call another guard holds is passed to that guard (an end: note) and
// answered once that guard says the caller was released (an ended: note).
type serviceLive struct {
	liveView
	s *service

	mu     sync.Mutex
	read   time.Time
	others []call.Call
}

// othersFresh bounds how stale the others' calls may be: the live pages look twice a second.
const othersFresh = 400 * time.Millisecond

// remoteEndWait bounds how long an end for another guard's call waits for its answer.
const remoteEndWait = 3 * time.Second

func (v *serviceLive) elsewhere() []call.Call {
	v.mu.Lock()
	defer v.mu.Unlock()
	if time.Since(v.read) < othersFresh {
		return v.others
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cs, err := v.s.db.OpenCallsElsewhere(ctx, v.s.id, time.Now().Add(-deadAfter))
	if err != nil {
		v.s.log.Warn("the other guards' calls in progress not read", "err", err)
	}
	v.read, v.others = time.Now(), cs
	return cs
}

func (v *serviceLive) Live() []call.Call {
	return append(v.liveView.Live(), v.elsewhere()...)
}

func (v *serviceLive) Call(id string) (call.Call, bool) {
	if c, ok := v.liveView.Call(id); ok {
		return c, true
	}
	for _, c := range v.elsewhere() {
		if c.ID == id {
			return c, true
		}
	}
	return call.Call{}, false
}

// endNote asks the guard holding Call to end it for Who.
type endNote struct {
	Call string `json:"call"`
	Who  string `json:"who"`
}

func (v *serviceLive) End(ctx context.Context, id, who string) (call.Call, error) {
	c, err := v.liveView.End(ctx, id, who)
	if !errors.Is(err, guard.ErrNoCall) {
		return c, err
	}
	var held call.Call
	found := false
	for _, o := range v.elsewhere() {
		if o.ID == id {
			held, found = o, true
		}
	}
	switch {
	case !found:
		return c, err
	case held.Emergency:
		return held, guard.ErrEmergency
	case held.AnsweredAt.IsZero():
		return held, guard.ErrNotConnected
	}
	done := v.s.awaitEnded(id)
	defer v.s.forgetEnded(id)
	note, _ := json.Marshal(endNote{Call: id, Who: who})
	if err := v.s.db.Notify(ctx, "end:"+string(note)); err != nil {
		return held, fmt.Errorf("the guard holding the call was not asked: %w", err)
	}
	select {
	case res := <-done:
		if res != "" {
			return held, endError(res)
		}
		held.EndedBy, held.EndedByUser = call.ByGuardian, who
		return held, nil
	case <-time.After(remoteEndWait):
		return held, errors.New("the guard holding the call did not answer; try again")
	case <-ctx.Done():
		return held, ctx.Err()
	}
}

// endCodes carry the guard's refusals of an end from one guard to another.
var endCodes = map[string]error{"ended": guard.ErrEnded, "emergency": guard.ErrEmergency, "not_connected": guard.ErrNotConnected}

// endCode is err as an ended: note carries it.
func endCode(err error) string {
	for code, e := range endCodes {
		if errors.Is(err, e) {
			return code
		}
	}
	return err.Error()
}

// endError is the error an ended: note's code stands for.
func endError(code string) error {
	if e, ok := endCodes[code]; ok {
		return e
	}
	return errors.New(code)
}

// endedNote is a guard's answer to an end: note: Err is empty when the caller was released.
type endedNote struct {
	Call string `json:"call"`
	Err  string `json:"err,omitempty"`
}

func (s *service) awaitEnded(id string) <-chan string {
	s.endMu.Lock()
	defer s.endMu.Unlock()
	if s.ending == nil {
		s.ending = map[string]chan string{}
	}
	ch := make(chan string, 1)
	s.ending[id] = ch
	return ch
}

func (s *service) forgetEnded(id string) {
	s.endMu.Lock()
	defer s.endMu.Unlock()
	delete(s.ending, id)
}

// endHere ends a call this guard holds for another guard's dashboard and says so.
func (s *service) endHere(ctx context.Context, n endNote) {
	_, err := s.ln.current().g.End(ctx, n.Call, n.Who)
	if errors.Is(err, guard.ErrNoCall) {
		return // another guard's, or gone: the guard holding it answers
	}
	a := endedNote{Call: n.Call}
	if err != nil {
		a.Err = endCode(err)
	} else {
		s.log.Info("call ended by a guardian on another guard's dashboard", "call", n.Call, "guardian", n.Who)
	}
	b, _ := json.Marshal(a)
	if err := s.db.Notify(ctx, "ended:"+string(b)); err != nil {
		s.log.Warn("a remote end's answer not sent", "call", n.Call, "err", err)
	}
}

func (s *service) tellEnded(a endedNote) {
	s.endMu.Lock()
	defer s.endMu.Unlock()
	if ch, ok := s.ending[a.Call]; ok {
		select {
		case ch <- a.Err:
		default:
		}
	}
}
