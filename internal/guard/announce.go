package guard

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
)

// Announce-and-screen: the guard answers the caller itself, asks for their name and records
// it, rings the household, plays the name to whoever answers and connects the caller only if
// they press 1 (RFC 4733 events or SIP INFO). The caller never reaches the household
// unannounced.
const (
	nameLength    = 3 * time.Second
	decisionLimit = 20 * time.Second
)

// screenCall runs announce-and-screen; the caller's INVITE is still unanswered.
func (b *bridge) screenCall(req *sip.Request, targets []target, ringFor time.Duration) {
	g := b.g
	offer, _ := media.ParseSDP(req.Body()) // checked in accept
	pt, ok := media.ChooseCodec(offer.Formats)
	if !ok || b.ms == nil {
		// Without G.711 the guard cannot speak to the caller: ring through, as before screening.
		b.run(req, targets, ringFor)
		return
	}
	defer g.remove(b)
	if err := b.in.RespondSDP(b.shapeFor(call.Trunk, media.AnswerLike(req.Body(), media.AnswerSDP(g.mediaIP(call.Trunk).String(), b.ms.Port(call.Trunk), pt, "sendrecv")))); err != nil {
		b.finish(call.Cancelled, call.ByCaller, call.Trunk, "the caller left before being asked their name")
		return
	}
	ctx, cancel := whileUp(g.ctx, b.in) // ends if the caller hangs up
	defer cancel()
	ask, _ := media.Prompt("screen_ask")
	if b.ms.Play(ctx, call.Trunk, append(ask, media.Tone(400*time.Millisecond)...), pt) == nil {
		g.metrics.Prompt("screen_ask")
	}
	name := b.ms.Record(ctx, call.Trunk, nameLength)
	if pt == media.PCMA {
		name = g711.Alaw2Ulaw(name)
	}
	b.ms.Stop(call.Trunk) // the caller hears nothing of the household until accepted
	if ctx.Err() != nil {
		b.end(call.ByCaller, call.Trunk, "the caller hung up while asked for their name")
		return
	}
	b.offerName(ctx, req, targets, ringFor, name)
}

// offerName rings the household for a caller the guard has answered and whose name it
// recorded (mu-law), plays the name to whoever answers and connects the caller on 1.
func (b *bridge) offerName(ctx context.Context, req *sip.Request, targets []target, ringFor time.Duration, name []byte) {
	g := b.g
	// The resident answers with keys: offered telephone events whatever the caller offered.
	body := media.WithTelephoneEvent(b.shapeFor(call.Household, media.RewriteSDP(req.Body(), g.relay.IP(), b.ms.Port(call.Household))))
	cs, fail := b.ringAnswered(ctx, req, targets, ringFor, body, call.Household)
	if cs == nil {
		b.end(call.ByGuard, 0, fail)
		return
	}
	ans, _ := media.ParseSDP(cs.InviteResponse.Body())
	housePT, _ := media.ChooseCodec(ans.Formats)
	digits, stopDTMF := b.ms.WatchDTMF(call.Household, media.TelephoneEventType(cs.InviteResponse.Body()))
	defer stopDTMF()
	b.mu.Lock()
	b.info, b.infoFrom = make(chan byte, 4), call.Household
	info := b.info
	b.mu.Unlock()

	offerCtx, stopOffer := context.WithCancel(ctx)
	go func() {
		intro, _ := media.Prompt("screen_intro")
		choice, _ := media.Prompt("screen_choice")
		if b.ms.Play(offerCtx, call.Household, append(append(intro, name...), choice...), housePT) == nil {
			g.metrics.Prompt("screen_offer")
		}
	}()
	var digit byte
	select {
	case digit = <-digits:
	case digit = <-info:
	case <-cs.Context().Done():
	case <-ctx.Done():
	case <-time.After(decisionLimit):
	}
	stopOffer()
	switch {
	case ctx.Err() != nil:
		b.end(call.ByCaller, call.Trunk, "the caller hung up while the resident was deciding")
	case cs.Context().Err() != nil:
		b.endAs(call.Blocked, call.ByHousehold, call.Household, "the resident hung up after hearing who was calling")
	case digit == '1':
		b.connect(cs) // listened to like any other caller
	case digit == 0:
		b.endAs(call.Blocked, call.ByGuard, 0, "the resident did not choose within "+decisionLimit.String())
	default:
		b.endAs(call.Blocked, call.ByHousehold, 0, "the resident refused the call after hearing who was calling")
	}
}

// ringAnswered places the other leg for a caller the guard has already answered, offering
// body, and returns the dialog that answered on side outSide, or why none did.
func (b *bridge) ringAnswered(ctx context.Context, req *sip.Request, targets []target, ringFor time.Duration, body []byte, outSide call.Side) (*sipgo.DialogClientSession, string) {
	if len(targets) == 0 {
		return nil, "no phone is registered or configured"
	}
	cs, _, err := b.ring(ctx, req, targets, body, outSide, ringFor, nil)
	switch {
	case errors.Is(err, errAllFailed):
		return nil, "the call was not taken"
	case err != nil:
		return nil, "no one answered"
	}
	b.g.track(cs.InviteRequest.CallID().Value(), &leg{b: b, side: outSide, cli: cs})
	b.mu.Lock()
	b.out = cs
	b.mu.Unlock()
	if ans, err := media.ParseSDP(cs.InviteResponse.Body()); err == nil {
		b.ms.SetRemoteOffer(outSide, ans)
	}
	actx, acancel := context.WithTimeout(context.Background(), byeTimeout)
	_ = cs.Ack(actx)
	acancel()
	return cs, ""
}

// callBack is the safe call-back: the guard answers the resident's phone itself, tells them
// this is a new call to prompt's party and not the previous caller, then places the call on
// the trunk and connects it when answered.
func (b *bridge) callBack(req *sip.Request, t target, prompt string) {
	g := b.g
	offer, _ := media.ParseSDP(req.Body()) // checked in accept
	pt, ok := media.ChooseCodec(offer.Formats)
	if !ok || b.ms == nil {
		b.run(req, []target{t}, outboundRingLimit)
		return
	}
	defer g.remove(b)
	ctx, cancel, ok := b.tellResident(prompt, pt)
	if !ok {
		b.finish(call.Cancelled, call.ByHousehold, call.Household, "the resident hung up before the call-back started")
		return
	}
	defer cancel()
	if ctx.Err() != nil {
		b.end(call.ByHousehold, call.Household, "the resident hung up during the call-back announcement")
		return
	}
	body := media.AnswerSDP(g.mediaIP(call.Trunk).String(), b.ms.Port(call.Trunk), pt, "sendrecv")
	cs, fail := b.ringAnswered(ctx, req, []target{t}, outboundRingLimit, body, call.Trunk)
	if cs == nil {
		if ctx.Err() != nil {
			b.end(call.ByHousehold, call.Household, "the resident hung up before the call was answered")
		} else {
			b.end(call.ByCaller, 0, "the call-back was not answered: "+fail)
		}
		return
	}
	b.mu.Lock()
	b.c.AnsweredAt = time.Now().UTC()
	b.mu.Unlock()
	b.record(call.CallAnswered)
	b.hold(cs, call.Trunk)
}

// tellResident answers the resident's call with the relay's household port and plays
// prompt to them. The context ends when the resident hangs up (cancel it when done); ok is
// false when they left before the answer.
func (b *bridge) tellResident(prompt string, pt int) (ctx context.Context, cancel context.CancelFunc, ok bool) {
	g := b.g
	if err := b.in.RespondSDP(b.shapeFor(call.Household, media.AnswerLike(b.in.InviteRequest.Body(), media.AnswerSDP(g.host, b.ms.Port(call.Household), pt, "sendrecv")))); err != nil {
		return nil, nil, false
	}
	ctx, cancel = whileUp(g.ctx, b.in)
	if samples, err := media.Prompt(prompt); err == nil && b.ms.Play(ctx, call.Household, samples, pt) == nil {
		g.metrics.Prompt(prompt)
	}
	return ctx, cancel, true
}

// stopDialled answers the resident's call only to say why it will not be placed, then
// hangs up; the call is recorded as blocked with why.
func (b *bridge) stopDialled(req *sip.Request, prompt, why string) {
	g := b.g
	defer g.remove(b)
	b.mu.Lock()
	b.c.Verdict, b.c.Reasons = "block", []string{why}
	b.mu.Unlock()
	g.log.Info("call not placed", "to", b.c.To, "why", why)
	offer, _ := media.ParseSDP(req.Body()) // checked in accept
	pt, ok := media.ChooseCodec(offer.Formats)
	if !ok || b.ms == nil {
		b.refuse(sip.StatusForbidden, "Forbidden", call.Blocked, call.ByGuard, why)
		return
	}
	ctx, cancel, answered := b.tellResident(prompt, pt)
	if !answered {
		b.finish(call.Cancelled, call.ByHousehold, call.Household, "the resident hung up before hearing why the call was not placed")
		return
	}
	defer cancel()
	if ctx.Err() != nil {
		b.endAs(call.Blocked, call.ByHousehold, call.Household, why)
		return
	}
	b.endAs(call.Blocked, call.ByGuard, 0, why)
}

var infoSignal = regexp.MustCompile(`(?im)^Signal\s*=\s*([0-9*#])`)

// infoDigit reads a key press from a SIP INFO body (application/dtmf-relay).
func infoDigit(body []byte) byte {
	if m := infoSignal.FindSubmatch(body); m != nil {
		return m[1][0]
	}
	return 0
}
