package guard

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/screen"
)

// What a household's calls teach the guard — an emergency call just now (whoever rings back
// rings through), a risky call (calls to the police or the bank are announced as fresh
// ones), numbers a scam caller gave, numbers its phones rang, the last caller (for the
// handset codes) — must hold on every guard of a service: the ambulance's call-back after a
// 999 call placed through one guard may come in through another. Each change goes to
// Options.Memory as a MemoryEvent; Remember applies one from another guard. Every kind keeps
// the latest time it was told, so events may arrive in any order, and twice.

// The kinds of MemoryEvent.
const (
	// MemoryEmergency: a phone rang an emergency number at At.
	MemoryEmergency = "emergency"
	// MemoryRisky: a call screening or listening judged risky came in at At.
	MemoryRisky = "risky"
	// MemoryDictated: a caller whose call sounded like a scam gave Number (canonical) at At.
	MemoryDictated = "dictated"
	// MemoryRang: the household's phones rang Number (canonical) at At.
	MemoryRang = "rang"
	// MemoryLast: the last inbound call, the one the handset codes act on, came in at At
	// from Number ("" when withheld); Call is its ID.
	MemoryLast = "last"
)

// MemoryEvent is one change of what a household's calls taught the guard.
type MemoryEvent struct {
	Household string    `json:"household"`
	Kind      string    `json:"kind"`
	Number    string    `json:"number,omitempty"`
	At        time.Time `json:"at"`
	// Call is the call's ID (MemoryLast), so that a report of it names the stored call.
	Call string `json:"call,omitempty"`
}

// Remember applies what another guard's call taught it about a household; it does not go
// to Options.Memory again. An event for a household this guard does not serve, of an
// unknown kind, or with a number that is not one, changes nothing.
func (g *Guard) Remember(ev MemoryEvent) {
	h, ok := g.homes.Load().byID[ev.Household]
	if !ok || ev.At.IsZero() {
		g.log.Debug("memory event not applied", "household", ev.Household, "kind", ev.Kind)
		return
	}
	switch ev.Kind {
	case MemoryEmergency:
		storeLatest(&h.lastEmergency, ev.At)
	case MemoryRisky:
		storeLatest(&h.lastRisky, ev.At)
	case MemoryDictated:
		if n, err := screen.Canonical(ev.Number); err == nil {
			storeLater(&h.dictated, n, ev.At)
		}
	case MemoryRang:
		if n, err := screen.Canonical(ev.Number); err == nil {
			storeLater(&h.rang, n, ev.At)
		}
	case MemoryLast:
		h.last.remember(h.id, ev)
	default:
		g.log.Warn("memory event of an unknown kind", "household", ev.Household, "kind", ev.Kind)
	}
}

// adopt makes h one of this guard's households: its phones see other guards' bindings and
// what its calls teach goes to Options.Memory.
func (g *Guard) adopt(h *household) *household {
	h.phones.mu.Lock()
	h.phones.remote = g.remote
	h.phones.mu.Unlock()
	h.memory = g.memory
	return h
}

// tell gives Options.Memory a change of h's.
func (h *household) tell(kind, number string, at time.Time) {
	if h.memory != nil {
		h.memory(MemoryEvent{Household: h.id, Kind: kind, Number: number, At: at})
	}
}

// noteEmergency remembers that a phone rang an emergency number at now.
func (h *household) noteEmergency(now time.Time) {
	storeLatest(&h.lastEmergency, now)
	h.tell(MemoryEmergency, "", now)
}

// storeLatest keeps the later of a's time (unix nanoseconds) and at.
func storeLatest(a *atomic.Int64, at time.Time) {
	n := at.UnixNano()
	for {
		old := a.Load()
		if old >= n || a.CompareAndSwap(old, n) {
			return
		}
	}
}

// storeLater keeps the later of m[k] and at, and says whether m had k before.
func storeLater(m *sync.Map, k string, at time.Time) (had bool) {
	for {
		old, loaded := m.LoadOrStore(k, at)
		if !loaded {
			return false
		}
		if !at.After(old.(time.Time)) || m.CompareAndSwap(k, old, at) {
			return true
		}
	}
}

// remember takes another guard's last inbound call, if it came in after this one's.
func (l *lastCaller) remember(household string, ev MemoryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.set && !ev.At.After(l.at) {
		return
	}
	l.caller = screen.Call{Number: ev.Number, Withheld: ev.Number == "", At: ev.At}
	l.call = call.Call{ID: ev.Call, Household: household, Direction: call.Inbound, StartedAt: ev.At}
	l.at, l.set, l.elsewhere = ev.At, true, true
}

// CallRecords reads a call's stored record. A Handset that is one lets the report code
// report the last call when another guard of the service took it.
type CallRecords interface {
	Call(ctx context.Context, id string) (call.Call, error)
}

// storedCall is the stored record of the last call, which another guard took.
func (g *Guard) storedCall(id string) (call.Call, bool) {
	cr, ok := g.handset.(CallRecords)
	if !ok || id == "" {
		return call.Call{}, false
	}
	ctx, cancel := context.WithTimeout(g.ctx, handsetTimeout)
	defer cancel()
	c, err := cr.Call(ctx, id)
	if err != nil {
		g.log.Error("handset code: the last call's record cannot be read", "call", id, "err", err)
		return call.Call{}, false
	}
	return c, true
}
