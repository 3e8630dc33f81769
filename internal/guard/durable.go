package guard

import (
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
)

// A hang-up is answered once the call's end is stored. When a party hangs up, the other
// leg is released at once, as always; but the 200 OK to their BYE waits until the call's
// call.ended event has been committed — at most durableWait after the BYE arrived — so a
// guard killed the moment after a caller saw their call end has not lost its record. Only
// the end of a call waits, never its setup: an emergency call is connected as fast as ever.
// Recorders that cannot tell when an event is stored (no RecordDurable) answer at once.

// durableRecorder is a Recorder that can say when an event is stored (store.Recorder).
type durableRecorder interface {
	RecordDurable(call.Event) <-chan error
}

// durableWait bounds how long a BYE's answer waits for the call's end to be stored.
const durableWait = 200 * time.Millisecond

// endedSignal tells when a bridge's call.ended event was recorded, and when it was stored.
type endedSignal struct {
	once     sync.Once
	recorded chan struct{} // closed once the end is recorded
	stored   <-chan error  // set before recorded closes; nil if the recorder cannot tell
}

func (e *endedSignal) done() chan struct{} {
	e.once.Do(func() { e.recorded = make(chan struct{}) })
	return e.recorded
}

// recordEnd records the call's end, watching for it to be stored when the recorder can.
func (b *bridge) recordEnd(ev call.Event) {
	if d, ok := b.g.rec.(durableRecorder); ok {
		b.ended.stored = d.RecordDurable(ev)
	} else {
		b.g.rec.Record(ev)
	}
	close(b.ended.done())
}

// heldAnswer is a BYE's server transaction whose 2xx answer is kept back, to be sent by
// send; any other answer goes at once.
type heldAnswer struct {
	sip.ServerTransaction
	res *sip.Response
}

func (h *heldAnswer) Respond(res *sip.Response) error {
	if res.StatusCode/100 == 2 && h.res == nil {
		h.res = res
		return nil
	}
	return h.ServerTransaction.Respond(res)
}

// holdByeAnswer says whether the answer to a BYE in l must wait for the call's end to be
// stored: only for a call's leg, with a recorder that can tell.
func (g *Guard) holdByeAnswer(l *leg) bool {
	if l.b == nil {
		return false
	}
	_, ok := g.rec.(durableRecorder)
	return ok
}

// answerWhenStored sends the held answer once b's end is stored, or durableWait after the
// BYE arrived at, whichever is first; a wait that ran out is counted.
func (g *Guard) answerWhenStored(b *bridge, h *heldAnswer, at time.Time) {
	if h.res == nil {
		return
	}
	t := time.NewTimer(time.Until(at.Add(durableWait)))
	defer t.Stop()
	timedOut := false
	select {
	case <-b.ended.done():
		if b.ended.stored == nil {
			break
		}
		select {
		case err := <-b.ended.stored:
			if err != nil { // counted by the recorder; no use waiting for a retry
				g.log.Debug("hang-up answered before the call's end was stored", "call", b.c.ID, "err", err)
			}
		case <-t.C:
			timedOut = true
		}
	case <-t.C:
		timedOut = true
	}
	if timedOut {
		g.log.Debug("hang-up answered before the call's end was stored", "call", b.c.ID, "waited", durableWait)
		if m, ok := g.metrics.(interface{ DurableTimeout() }); ok {
			m.DurableTimeout()
		}
	}
	_ = h.ServerTransaction.Respond(h.res)
}
