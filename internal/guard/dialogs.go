package guard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
)

// leg is one dialog of a live call, found by its SIP Call-ID when a request arrives in it.
type leg struct {
	b    *bridge
	side call.Side
	srv  *sipgo.DialogServerSession // the dialog the guard received
	cli  *sipgo.DialogClientSession // the dialog the guard placed
	bye  atomic.Int64               // unix nanoseconds the peer's BYE arrived
}

func newCallID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// add registers a new call unless the guard is stopping.
func (g *Guard) add(b *bridge) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx.Err() != nil {
		return false
	}
	g.calls[b.c.ID] = b
	g.wg.Add(1)
	return true
}

func (g *Guard) track(sipCallID string, l *leg) {
	g.mu.Lock()
	g.legs[sipCallID] = l
	if l.b != nil {
		l.b.sipIDs = append(l.b.sipIDs, sipCallID)
	}
	g.mu.Unlock()
}

func (g *Guard) untrack(sipCallID string) {
	g.mu.Lock()
	delete(g.legs, sipCallID)
	g.mu.Unlock()
}

// handOver moves the dialog with this Call-ID from one call to another (the resident's leg,
// when they choose to have the guard ring the police from within an asked call).
func (g *Guard) handOver(sipCallID string, from, to *bridge) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, id := range from.sipIDs {
		if id == sipCallID {
			from.sipIDs = append(from.sipIDs[:i], from.sipIDs[i+1:]...)
			break
		}
	}
	if l := g.legs[sipCallID]; l != nil {
		g.legs[sipCallID] = &leg{b: to, side: l.side, srv: l.srv, cli: l.cli}
		to.sipIDs = append(to.sipIDs, sipCallID)
	}
}

// remove forgets a finished call and its dialogs.
func (g *Guard) remove(b *bridge) {
	g.noteEnded(b)
	g.mu.Lock()
	for _, id := range b.sipIDs {
		delete(g.legs, id)
	}
	delete(g.calls, b.c.ID)
	g.mu.Unlock()
	g.wg.Done()
}

func (g *Guard) lookup(req *sip.Request) *leg {
	id := req.CallID()
	if id == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.legs[id.Value()]
}

// whileUp returns a context that ends with parent or as soon as any of the dialogs ends (a
// hang-up or a CANCEL): prompts and waits stop when a party leaves.
func whileUp(parent context.Context, dialogs ...interface{ Context() context.Context }) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	stops := make([]func() bool, len(dialogs))
	for i, d := range dialogs {
		stops[i] = context.AfterFunc(d.Context(), cancel)
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// byeReceived is when the peer on side s sent BYE, or zero.
func (g *Guard) byeReceived(b *bridge, s call.Side) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range b.sipIDs {
		if l := g.legs[id]; l != nil && l.side == s {
			if ns := l.bye.Load(); ns != 0 {
				return time.Unix(0, ns)
			}
		}
	}
	return time.Time{}
}

func (g *Guard) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if l := g.lookup(req); l != nil && l.srv != nil {
		_ = l.srv.ReadAck(req, tx)
	}
}

// onBye ends the dialog it arrives in; the call's bridge then releases the other leg.
func (g *Guard) onBye(req *sip.Request, tx sip.ServerTransaction) {
	at := time.Now()
	l := g.lookup(req)
	if l == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	l.bye.CompareAndSwap(0, at.UnixNano())
	// The dialog ends now (and the call's other leg is released), but the 200 OK waits for
	// the call's end to be stored, a moment at most (durable.go).
	var held *heldAnswer
	rtx := tx
	if g.holdByeAnswer(l) {
		held = &heldAnswer{ServerTransaction: tx}
		rtx = held
	}
	var err error
	if l.srv != nil {
		err = l.srv.ReadBye(req, rtx)
	} else {
		err = l.cli.ReadBye(req, rtx)
	}
	if err != nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", warning(err.Error()))
		return
	}
	if held != nil {
		g.answerWhenStored(l.b, held, at)
	}
}

// onCancel answers a CANCEL that matched no INVITE (matching ones are handled by the
// transaction layer, which ends the dialog and so the call).
func (g *Guard) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
}

// onInfo accepts INFO inside a live call and refuses it outside. Key presses sent this way
// (application/dtmf-relay) answer a screened call's question.
func (g *Guard) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	l := g.lookup(req)
	if l == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if l.b != nil {
		l.b.mu.Lock()
		info := l.b.info
		if l.b.infoFrom != l.side {
			info = nil // keys from the other leg: the caller cannot answer the resident's question
		}
		l.b.mu.Unlock()
		if d := infoDigit(req.Body()); d != 0 && info != nil {
			select {
			case info <- d:
			default:
			}
		}
	}
	respond(tx, req, sip.StatusOK, "OK")
}
