package guard

import (
	"context"
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
	if err := b.in.RespondSDP(media.AnswerSDP(g.host, b.ms.Port(call.Trunk), pt, "sendrecv")); err != nil {
		b.finish(call.Cancelled, call.ByCaller, call.Trunk, "the caller left before being asked their name")
		return
	}
	ctx, cancel := context.WithCancel(g.ctx)
	defer cancel()
	go func() {
		select {
		case <-b.in.Context().Done(): // the caller hung up
			cancel()
		case <-ctx.Done():
		}
	}()
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
	cs, fail := b.ringForScreening(ctx, req, targets, ringFor)
	if cs == nil {
		b.end(call.ByGuard, 0, fail)
		return
	}
	ans, _ := media.ParseSDP(cs.InviteResponse.Body())
	housePT, _ := media.ChooseCodec(ans.Formats)
	digits, stopDTMF := b.ms.WatchDTMF(call.Household, media.TelephoneEventType(cs.InviteResponse.Body()))
	defer stopDTMF()
	b.mu.Lock()
	b.info = make(chan byte, 4)
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
		b.refuseScreened(call.ByHousehold, call.Household, "the resident hung up after hearing who was calling")
	case digit == '1':
		b.ms.Resume(call.Trunk)
		b.mu.Lock()
		b.c.AnsweredAt = time.Now().UTC()
		b.mu.Unlock()
		b.record(call.CallAnswered)
		b.hold(cs, call.Household)
	case digit == 0:
		b.refuseScreened(call.ByGuard, 0, "the resident did not choose within "+decisionLimit.String())
	default:
		b.refuseScreened(call.ByHousehold, 0, "the resident refused the call after hearing who was calling")
	}
}

// refuseScreened ends a screened call the resident did not take.
func (b *bridge) refuseScreened(by call.EndedBy, gone call.Side, why string) {
	b.endAs(call.Blocked, by, gone, why)
}

// ringForScreening rings the phones for an already answered caller and returns the phone
// that answered, or why none did.
func (b *bridge) ringForScreening(ctx context.Context, req *sip.Request, targets []target, ringFor time.Duration) (*sipgo.DialogClientSession, string) {
	if len(targets) == 0 {
		return nil, "no phone is registered or configured"
	}
	body := media.RewriteSDP(req.Body(), b.g.relay.IP(), b.ms.Port(call.Household))
	rctx, cancel := context.WithTimeout(ctx, ringFor)
	defer cancel()
	results := make(chan forkResult, len(targets))
	ringing := make(chan struct{}, 1)
	for _, t := range targets {
		go b.fork(rctx, req, t, body, results, ringing)
	}
	for pending := len(targets); pending > 0; {
		select {
		case r := <-results:
			pending--
			if r.err != nil {
				continue
			}
			cancel()
			go drain(results, pending)
			b.setPeer(call.Household, hostPort(r.t.uri))
			b.g.track(r.cs.InviteRequest.CallID().Value(), &leg{b: b, side: call.Household, cli: r.cs})
			b.mu.Lock()
			b.out = r.cs
			b.mu.Unlock()
			if ans, err := media.ParseSDP(r.cs.InviteResponse.Body()); err == nil {
				b.ms.SetRemote(call.Household, ans.Addr)
			}
			actx, acancel := context.WithTimeout(context.Background(), byeTimeout)
			_ = r.cs.Ack(actx)
			acancel()
			return r.cs, ""
		case <-ringing:
		case <-rctx.Done():
			go drain(results, pending)
			return nil, "no one answered"
		}
	}
	return nil, "no phone took the call"
}

var infoSignal = regexp.MustCompile(`(?im)^Signal\s*=\s*([0-9*#])`)

// infoDigit reads a key press from a SIP INFO body (application/dtmf-relay).
func infoDigit(body []byte) byte {
	if m := infoSignal.FindSubmatch(body); m != nil {
		return m[1][0]
	}
	return 0
}
