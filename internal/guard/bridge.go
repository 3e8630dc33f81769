package guard

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/media"
)

// byeTimeout bounds the wait for a peer's answer to the guard's BYE. The leg counts as
// released when the BYE is sent, whatever the peer does.
const byeTimeout = 2 * time.Second

// bridge is one call: the dialog the guard received, the dialog it placed, and the relay
// between them.
type bridge struct {
	g  *Guard
	h  *household // whose call it is
	in *sipgo.DialogServerSession
	tx sip.ServerTransaction // the received INVITE's, for resending reliable provisional responses
	// resident is set instead of in for a call the guard places for the resident from
	// within another call (they chose to have the police rung): their leg of that call.
	resident *sipgo.DialogClientSession
	inSide   call.Side
	ms       *media.Session // nil only for an emergency call that found no free ports
	// warning is the prompt the resident hears before being connected (warned calls).
	warning string
	// info carries key presses sent by SIP INFO while the resident decides on a screened call.
	info chan byte
	// handedOver says the media session went on with another call (an asked call's resident
	// chose a fresh call to the police): this call's end leaves it open.
	handedOver atomic.Bool
	// infoFrom is the side whose INFO key presses go to info.
	infoFrom call.Side
	// tap analyses what the party on the trunk side says, once the call is answered.
	tap *listen.Tap
	// offering is set while a new offer from one side is being passed to the other.
	offering atomic.Bool
	// early is set once the caller has been given the relay's address for early media.
	early atomic.Bool
	// reliable is the reliable provisional response outstanding on the received INVITE.
	reliable reliableOut

	mu  sync.Mutex
	c   call.Call
	out *sipgo.DialogClientSession
	// ends takes a guardian's request to end the call while it is connected (remote.go).
	ends chan endRequest
	// ended tells a hang-up waiting for its answer when the call's end is stored (durable.go).
	ended endedSignal

	sipIDs []string // the Call-IDs of this call's dialogs in g.legs; guarded by g.mu
}

// dialog is what a bridge needs of a leg's SIP dialog, whichever way it was placed.
type dialog interface {
	Context() context.Context
	Bye(context.Context) error
}

// first is the leg on inSide: the dialog the guard received, or the resident's.
func (b *bridge) first() dialog {
	if b.resident != nil {
		return b.resident
	}
	return b.in
}

func other(s call.Side) call.Side {
	if s == call.Trunk {
		return call.Household
	}
	return call.Trunk
}

// endedBy names who ended the call when the leg on side s went away.
func endedBy(s call.Side) call.EndedBy {
	if s == call.Trunk {
		return call.ByCaller
	}
	return call.ByHousehold
}

// run rings targets (all at once) and bridges the first to answer, then holds the call
// until one leg ends and releases the other.
func (b *bridge) run(req *sip.Request, targets []target, ringFor time.Duration) {
	g := b.g
	defer g.remove(b)
	outSide := other(b.inSide)
	body := req.Body()
	if b.ms != nil {
		body = b.shapeFor(outSide, media.RewriteSDP(body, g.mediaIP(outSide), b.ms.Port(outSide)))
		if outSide == call.Trunk && g.cfg.Trunk.SRTP { // a provider that requires SRTP
			if c, err := b.ms.OfferSecure(call.Trunk); err == nil {
				body = media.Secured(body, c)
			}
		}
	}
	ctx, cancel := whileUp(g.ctx, b.in) // ends if the caller hangs up
	defer cancel()
	rang := false
	winner, failures, err := b.ring(ctx, req, targets, body, outSide, ringFor, func() {
		if !rang && !b.early.Load() { // after early media the caller hears the far end's
			rang = true
			b.progress(sip.StatusRinging, "Ringing", nil) // reliably when asked (prack.go)
		}
	})
	switch {
	case err == nil:
	case errors.Is(err, errAllFailed):
		b.refuseAfter(failures)
		return
	case errors.Is(err, errNoAnswer):
		b.refuse(sip.StatusTemporarilyUnavailable, "No Answer", call.NoAnswer, call.ByGuard, "no one answered")
		return
	case b.in.Context().Err() != nil:
		b.finish(call.Cancelled, endedBy(b.inSide), b.inSide, "the caller hung up before anyone answered")
		return
	default:
		b.refuse(sip.StatusServiceUnavailable, "Service Unavailable", call.Failed, call.ByGuard, "the guard is shutting down")
		return
	}
	if !b.answer(winner, outSide) {
		return
	}
	b.listen(winner)
	go b.keepSession(winner, outSide)
	b.hold(winner, outSide)
}

// refuse answers the received INVITE with a final error and ends the call.
func (b *bridge) refuse(code int, reason string, outcome call.Outcome, by call.EndedBy, why string) {
	b.finish(outcome, by, 0, why)
	// Respond waits for the ACK; it must run before the handler returns, which ends the
	// transaction.
	if err := b.in.Respond(code, reason, nil, warning(why)); err != nil {
		b.g.log.Warn("final response not sent", "call", b.c.ID, "code", code, "err", err)
	}
}

// answer acknowledges the phone or trunk that answered and answers the received INVITE
// with the relay's address. It returns false if the call ended on the way.
func (b *bridge) answer(cs *sipgo.DialogClientSession, outSide call.Side) bool {
	g := b.g
	g.track(cs.InviteRequest.CallID().Value(), &leg{b: b, side: outSide, cli: cs})
	b.mu.Lock()
	b.out = cs
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(g.ctx, byeTimeout)
	defer cancel()
	ansBody := cs.InviteResponse.Body()
	ans, err := media.ParseSDP(ansBody)
	if err != nil {
		_ = cs.Ack(ctx)
		b.release(ctx, outSide)
		b.refuse(sip.StatusBadGateway, "Bad Gateway", call.Failed, call.ByGuard, "the "+outSide.String()+" answered with a bad offer: "+err.Error())
		return false
	}
	if b.ms != nil {
		b.ms.SetRemoteOffer(outSide, ans)
		if outSide == call.Trunk && g.cfg.SIP.BehindNAT() {
			b.ms.Punch(call.Trunk) // the router maps the call's ports (nat.go)
		}
		if _, _, err := b.ms.Secure(outSide, ans); err != nil { // its SRTP answer (srtp.go)
			_ = cs.Ack(ctx)
			b.release(ctx, outSide)
			b.refuse(sip.StatusBadGateway, "Bad Gateway", call.Failed, call.ByGuard, "the "+outSide.String()+" answered with SRTP keys the guard cannot use: "+err.Error())
			return false
		}
		ansBody = b.shapeFor(b.inSide, media.AnswerLike(b.in.InviteRequest.Body(), media.RewriteSDP(ansBody, g.mediaIP(b.inSide), b.ms.Port(b.inSide))))
	}
	if err := cs.Ack(ctx); err != nil {
		g.log.Warn("ack failed", "call", b.c.ID, "err", err)
	}
	if !b.warnResident(cs, ans) {
		return false
	}
	b.mu.Lock()
	b.c.AnsweredAt = time.Now().UTC()
	b.mu.Unlock()
	if err := b.in.Respond(sip.StatusOK, "OK", ansBody, append([]sip.Header{sip.NewHeader("Content-Type", "application/sdp")}, timerHeaders(b.in.InviteRequest)...)...); err != nil {
		// The caller went away (CANCEL crossing the answer, or no ACK): release the answered leg.
		b.end(endedBy(b.inSide), b.inSide, "the caller left as the call was answered: "+err.Error())
		return false
	}
	b.record(call.CallAnswered)
	return true
}

// warnResident plays the call's warning to the phone that answered, before the caller is
// connected; the caller hears only ringing meanwhile. It returns false if the call ended
// during the warning: the resident hung up, or the caller gave up.
func (b *bridge) warnResident(cs *sipgo.DialogClientSession, ans media.Offer) bool {
	if b.warning == "" || b.ms == nil {
		return true
	}
	samples, err := media.Prompt(b.warning)
	pt, ok := media.ChooseCodec(ans.Formats)
	if err != nil || !ok {
		return true // a warning that cannot be played must not stop the call
	}
	ctx, cancel := whileUp(b.g.ctx, cs, b.in)
	defer cancel()
	if err := b.ms.Play(ctx, other(b.inSide), samples, pt); err == nil {
		b.g.metrics.Prompt(b.warning)
	}
	switch {
	case b.in.Context().Err() != nil:
		b.end(endedBy(b.inSide), b.inSide, "the caller hung up during the warning")
		return false
	case cs.Context().Err() != nil:
		b.finish(call.Cancelled, call.ByHousehold, other(b.inSide), "the resident hung up after the warning")
		if err := b.in.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil, warning("the resident declined the call")); err != nil {
			b.g.log.Debug("final response", "call", b.c.ID, "err", err)
		}
		return false
	}
	return true
}

// hold waits for either leg to end, or for the media to fall silent, and tears down.
func (b *bridge) hold(cs *sipgo.DialogClientSession, outSide call.Side) {
	g := b.g
	var tick <-chan time.Time
	limit := g.cfg.Media.Timeout.D()
	if limit > 0 && b.ms != nil {
		t := time.NewTicker(min(limit/4, time.Second))
		defer t.Stop()
		tick = t.C
	}
	relayed, flowing := uint64(0), time.Now()
	ends := b.openEnds()
	defer b.closeEnds()
	for {
		select {
		case r := <-ends:
			b.endForFamily(r, cs, outSide)
			return
		case <-b.first().Context().Done():
			b.end(endedBy(b.inSide), b.inSide, "")
			return
		case <-cs.Context().Done():
			b.end(endedBy(outSide), outSide, "")
			return
		case now := <-tick:
			if n := b.ms.Relayed(); n != relayed {
				relayed, flowing = n, now
			} else if now.Sub(flowing) > limit {
				b.end(call.ByTimeout, 0, "no media for "+limit.String())
				return
			}
		case <-g.ctx.Done():
			b.end(call.ByGuard, 0, "the guard shut down")
			return
		}
	}
}

// end releases every leg still up, starting from the moment leg gone ended (gone is
// zero when the guard itself ends the call).
func (b *bridge) end(by call.EndedBy, gone call.Side, why string) {
	b.endAs(call.Completed, by, gone, why)
}

// endAs is end with the outcome to record.
func (b *bridge) endAs(outcome call.Outcome, by call.EndedBy, gone call.Side, why string) {
	g := b.g
	start := time.Now()
	if gone != 0 {
		if at := g.byeReceived(b, gone); !at.IsZero() {
			start = at
		}
		b.setReleased(gone, start)
	}
	if b.ms != nil {
		// Cut the media first: nothing more reaches or leaves either side.
		b.ms.Stop(call.Trunk)
		b.ms.Stop(call.Household)
	}
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range []call.Side{call.Trunk, call.Household} {
		if s == gone {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.release(ctx, s)
		}()
	}
	wg.Wait()
	if gone != 0 {
		b.mu.Lock()
		released := b.c.Leg(other(gone)).ReleasedAt
		b.mu.Unlock()
		if !released.IsZero() {
			g.metrics.Teardown(released.Sub(start))
		}
	}
	b.finish(outcome, by, 0, why)
}

// release sends BYE on the leg on side s. The leg counts as released when the BYE is
// issued: the wait for the peer's 200 OK holds nothing, since the media is already cut.
func (b *bridge) release(ctx context.Context, s call.Side) {
	b.mu.Lock()
	out := b.out
	b.mu.Unlock()
	b.setReleased(s, time.Now())
	var err error
	switch {
	case s == b.inSide:
		err = b.first().Bye(ctx)
	case out != nil:
		err = out.Bye(ctx)
	}
	if err != nil {
		b.g.log.Debug("bye", "call", b.c.ID, "side", s, "err", err)
	}
}

// finish stamps the outcome once, records the end and updates the metrics.
func (b *bridge) finish(outcome call.Outcome, by call.EndedBy, gone call.Side, why string) {
	b.mu.Lock()
	if !b.c.EndedAt.IsZero() {
		b.mu.Unlock()
		return
	}
	now := time.Now().UTC()
	if gone != 0 {
		b.setReleasedLocked(gone, now)
	}
	if b.c.AnsweredAt.IsZero() && outcome == call.Completed {
		outcome = call.Failed
	}
	b.c.EndedAt, b.c.EndedBy, b.c.Outcome, b.c.Reason = now, by, outcome, why
	tap := b.tap
	if tap != nil && tap.Heard() {
		b.c.Risk = tap.Risk() // the analysis as it stands, with why it stopped if it did
	}
	for i := range b.c.Legs {
		if b.c.Legs[i].ReleasedAt.IsZero() {
			b.c.Legs[i].ReleasedAt = now
		}
	}
	c := b.c
	b.mu.Unlock()
	if b.ms != nil && !b.handedOver.Load() {
		b.ms.Close()
	}
	if tap != nil {
		tap.Close()
	}
	b.h.noteLastEnded(c)
	b.g.metrics.CallEnded(c)
	b.recordEnd(call.Event{CallID: c.ID, Kind: call.CallEnded, At: now, Call: c})
}

func (b *bridge) record(kind call.EventKind) {
	b.mu.Lock()
	c := b.c
	c.Legs = append([]call.Leg(nil), b.c.Legs...)
	b.mu.Unlock()
	b.g.rec.Record(call.Event{CallID: c.ID, Kind: kind, At: time.Now().UTC(), Call: c})
}

func (b *bridge) setPeer(s call.Side, peer string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.c.Leg(s)
	l.Peer = peer
	b.c.SetLeg(l)
}

func (b *bridge) setReleased(s call.Side, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setReleasedLocked(s, at)
}

func (b *bridge) setReleasedLocked(s call.Side, at time.Time) {
	l := b.c.Leg(s)
	if l.ReleasedAt.IsZero() {
		l.ReleasedAt = at.UTC()
		b.c.SetLeg(l)
	}
}
