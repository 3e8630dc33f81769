package guard

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/screen"
)

// Carer Check (screening.unknown: carer, screening.warned: carer): the guard answers the
// caller and records their name as announce-and-screen does, then rings the household's
// first guardian with a phone number as a fresh call on the trunk — a third leg of the
// same call, with its own port in the call's media session. The guardian hears who is
// calling and for which line, and presses 1 to put the caller through (the phones ring),
// 2 to refuse (the caller is released), or 3 to join: the phones ring and, once the
// resident answers, the relay mixes the three of them (media/mix.go) until the guardian
// presses # or hangs up, and the resident and the caller go on as a plain call. A guardian
// who does not answer within screening.carer_wait, or hangs up or does not choose, leaves
// the call to screening.carer_fallback: announced to the resident (screen) or rung through
// (ring). No call is lost for want of a guardian, and emergency calls never come here.

// Carer is a guardian the guard may ring: their name, and their number in E.164.
type Carer struct {
	Name   string
	Number string
}

// What a guardian chose, as the call record says it.
const (
	carerThrough = "through"
	carerRefused = "refused"
	carerJoined  = "joined"
	carerNone    = "none"
)

// carerLookup bounds the store's answer for the household's guardians; it runs while the
// caller says their name, so it delays nothing unless the store is slower than that.
const carerLookup = 2 * time.Second

// carerChecks says whether screening's verdict on a call sends it to a guardian first: a
// caller screening would announce (unknown or withheld) when the household has unknown
// callers checked by a carer, and a warned caller when it has those checked too.
func carerChecks(v screen.Verdict, c carerRules) bool {
	switch v.Action {
	case screen.Screen:
		return c.unknown == "carer"
	case screen.Warn:
		return c.warned == "carer"
	}
	return false
}

// carerCall runs Carer Check; the caller's INVITE is still unanswered.
func (b *bridge) carerCall(req *sip.Request, targets []target, ringFor time.Duration) {
	g := b.g
	offer, _ := media.ParseSDP(req.Body()) // checked in accept
	pt, ok := media.ChooseCodec(offer.Formats)
	if !ok || b.ms == nil || b.ms.AddGuardian() != nil {
		// The guard cannot speak to the caller or has no port for the guardian: the call
		// goes on as the household's fallback has it.
		g.log.Warn("carer check not possible; the call goes on without it", "call", b.c.ID, "g711", ok)
		if g.cfg.Screening.CarerFallback == "screen" {
			b.screenCall(req, targets, ringFor)
		} else {
			b.run(req, targets, ringFor)
		}
		return
	}
	defer g.remove(b)
	if err := b.in.RespondSDP(b.shapeFor(call.Trunk, media.AnswerLike(req.Body(), media.AnswerSDP(g.mediaIP(call.Trunk).String(), b.ms.Port(call.Trunk), pt, "sendrecv")))); err != nil {
		b.finish(call.Cancelled, call.ByCaller, call.Trunk, "the caller left before being asked their name")
		return
	}
	ctx, cancel := whileUp(g.ctx, b.in) // ends if the caller hangs up
	defer cancel()
	found := make(chan []Carer, 1)
	go func() { found <- g.findCarers(ctx, b.h) }() // while the caller speaks
	ask, _ := media.Prompt("screen_ask")
	if b.ms.Play(ctx, call.Trunk, append(ask, media.Tone(400*time.Millisecond)...), pt) == nil {
		g.metrics.Prompt("screen_ask")
	}
	name := b.ms.Record(ctx, call.Trunk, nameLength)
	recorded := time.Now()
	if pt == media.PCMA {
		name = g711.Alaw2Ulaw(name)
	}
	b.ms.Stop(call.Trunk) // the caller hears nothing of the household until put through
	if ctx.Err() != nil {
		b.end(call.ByCaller, call.Trunk, "the caller hung up while asked for their name")
		return
	}
	carers := <-found
	holding, held := context.WithCancel(ctx) // "please hold", cut short by the decision
	go func() {
		if hold, err := media.Prompt("ask_hold"); err == nil {
			b.ms.Play(holding, call.Trunk, hold, pt)
		}
	}()
	key, guardian, why := b.askCarer(ctx, carers, name, pt, recorded)
	held()
	if ctx.Err() != nil {
		b.releaseGuardian(guardian)
		b.end(call.ByCaller, call.Trunk, "the caller hung up while the guardian was deciding")
		return
	}
	switch key {
	case '1':
		b.setCarer(func(c *call.CarerCheck) { c.Choice = carerThrough })
		go b.sayGoodbye(guardian, "carer_through")
		b.ringThrough(ctx, req, targets, ringFor, false)
	case '2':
		b.setCarer(func(c *call.CarerCheck) { c.Choice = carerRefused })
		b.sayGoodbye(guardian, "carer_refused")
		b.endAs(call.Blocked, call.ByGuardian, 0, "the guardian refused the call after hearing who was calling")
	case '3':
		b.setCarer(func(c *call.CarerCheck) { c.Choice = carerJoined })
		b.joinCall(ctx, req, targets, ringFor, guardian)
	default:
		fallback := g.cfg.Screening.CarerFallback
		b.setCarer(func(c *call.CarerCheck) { c.Choice, c.Fallback, c.Why = carerNone, fallback, why })
		b.releaseGuardian(guardian)
		g.log.Info("carer check: no choice; the call goes on", "call", b.c.ID, "why", why, "fallback", fallback)
		if fallback == "screen" {
			b.offerName(ctx, req, targets, ringFor, name)
		} else {
			b.ringThrough(ctx, req, targets, ringFor, true)
		}
	}
}

// findCarers asks the store for the guardians to ring; a failure rings no one.
func (g *Guard) findCarers(ctx context.Context, h *household) []Carer {
	if g.carers == nil {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, carerLookup)
	defer cancel()
	cs, err := g.carers(lctx, h.id)
	if err != nil {
		g.log.Error("carer check: the household's guardians could not be read", "err", err)
		return nil
	}
	return cs
}

// askCarer rings the first guardian and returns the key they chose (1, 2 or 3) and their
// answered leg, or 0 and why there was no choice (their leg, if answered, is still up).
func (b *bridge) askCarer(ctx context.Context, carers []Carer, name []byte, pt int, recorded time.Time) (byte, *sipgo.DialogClientSession, string) {
	g := b.g
	b.mu.Lock()
	b.c.Carer = &call.CarerCheck{} // the record says why no guardian was rung, if none is
	b.mu.Unlock()
	if len(carers) == 0 {
		return 0, nil, "no guardian of the household has a phone number for Carer Check"
	}
	c := carers[0]
	b.setCarer(func(cc *call.CarerCheck) { cc.Guardian, cc.Number = c.Name, c.Number })
	wait := g.cfg.Screening.CarerWait.D()
	cs, err := b.ringCarer(ctx, c, wait, pt)
	g.log.Info("carer check: guardian rung", "call", b.c.ID, "guardian", c.Name, "after_name", b.carerRangAt().Sub(recorded).Round(time.Millisecond))
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, "the caller hung up"
		}
		g.log.Info("carer check: the guardian did not answer", "call", b.c.ID, "err", err)
		if time.Since(b.carerRangAt()) < wait-100*time.Millisecond {
			return 0, nil, "the guardian's phone did not take the call (busy, refused or unreachable)"
		}
		return 0, nil, fmt.Sprintf("the guardian did not answer within %s", wait)
	}
	b.setCarer(func(cc *call.CarerCheck) { cc.AnsweredAt = time.Now().UTC() })
	ans, _ := media.ParseSDP(cs.InviteResponse.Body()) // checked in ringCarer
	gpt, _ := media.ChooseCodec(ans.Formats)
	te := media.TelephoneEventType(cs.InviteResponse.Body())
	key := b.hearKey(ctx, cs, call.Guardian, te, b.carerPrompt(name), gpt, "123", "carer_offer")
	switch {
	case key != 0:
		return key, cs, ""
	case cs.Context().Err() != nil:
		return 0, nil, "the guardian hung up without choosing"
	}
	return 0, cs, "the guardian did not choose within " + decisionLimit.String()
}

// carerPrompt is what the guardian hears: who is calling, the line they are calling (the
// household's number, when it has one), the warning the call drew if any, and the keys.
func (b *bridge) carerPrompt(name []byte) []byte {
	var parts []byte
	add := func(prompt string) {
		if s, err := media.Prompt(prompt); err == nil {
			parts = append(parts, s...)
		}
	}
	add("carer_intro")
	parts = append(parts, name...)
	if did := b.h.did(); did != "" {
		add("carer_line")
		parts = append(parts, sayDigits(dialled(sip.Uri{User: did}))...)
	}
	if b.warning != "" {
		add(b.warning)
	}
	add("carer_choice")
	return parts
}

// ringCarer places the guardian's leg on the trunk and waits up to wait for an answer. The
// guardian sees the household's number calling; they are offered both G.711 laws and keys.
func (b *bridge) ringCarer(ctx context.Context, c Carer, wait time.Duration, pt int) (*sipgo.DialogClientSession, error) {
	g := b.g
	t := g.trunk.target(c.Number)
	body := carerOffer(g.mediaIP(call.Trunk).String(), b.ms.Port(call.Guardian), pt)
	if g.cfg.Trunk.SRTP { // a provider that requires SRTP
		if k, err := b.ms.OfferSecure(call.Guardian); err == nil {
			body = media.Secured(body, k)
		}
	}
	req := sip.NewRequest(sip.INVITE, t.uri)
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	from := &sip.FromHeader{DisplayName: "Call guard", Address: sip.Uri{Scheme: "sip", User: b.h.presentedID("clearline"), Host: g.trunk.host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: t.uri.User, Host: t.uri.Host}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Supported", "timer, 100rel"))
	req.SetTransport(sipTransport(t.transport))
	rctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	b.setCarer(func(cc *call.CarerCheck) { cc.RangAt = time.Now().UTC() })
	b.setPeer(call.Guardian, hostPort(t.uri))
	cs, err := g.uaFor(call.Trunk, t.transport).WriteInvite(rctx, req)
	if err == nil {
		acked := map[uint32]bool{}
		err = cs.WaitAnswer(rctx, sipgo.AnswerOptions{Username: t.username, Password: t.password,
			OnResponse: func(r *sip.Response) error { b.prack(rctx, cs, r, acked); return nil }})
	}
	if err != nil {
		b.setReleased(call.Guardian, time.Now()) // the INVITE cancelled or refused
		return nil, err
	}
	actx, acancel := context.WithTimeout(context.Background(), byeTimeout)
	defer acancel()
	g.track(cs.InviteRequest.CallID().Value(), &leg{b: b, side: call.Guardian, cli: cs})
	_ = cs.Ack(actx)
	ans, err := media.ParseSDP(cs.InviteResponse.Body())
	if err == nil {
		if _, ok := media.ChooseCodec(ans.Formats); !ok {
			err = fmt.Errorf("no G.711 in the guardian's answer")
		}
	}
	if err == nil {
		b.ms.SetRemoteOffer(call.Guardian, ans)
		_, _, err = b.ms.Secure(call.Guardian, ans)
	}
	if err != nil {
		b.releaseGuardian(cs)
		return nil, fmt.Errorf("guardian's answer: %w", err)
	}
	return cs, nil
}

// carerOffer is the guard's offer to a guardian's phone: the caller's G.711 law first, the
// other second, and RFC 4733 keys.
func carerOffer(ip string, port, pt int) []byte {
	formats := "0 8"
	if pt == media.PCMA {
		formats = "8 0"
	}
	return fmt.Appendf(nil, "v=0\r\no=clearline 1 1 IN IP4 %s\r\ns=clearline\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP %s 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n", ip, ip, port, formats)
}

func (b *bridge) carerRangAt() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c.Carer == nil {
		return time.Time{}
	}
	return b.c.Carer.RangAt
}

// setCarer changes the call's Carer Check record; snapshots already recorded keep theirs.
func (b *bridge) setCarer(f func(*call.CarerCheck)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c.Carer == nil {
		return
	}
	cc := *b.c.Carer
	f(&cc)
	b.c.Carer = &cc
}

// hearKey plays prompt to side sd and returns the first of keys pressed there (any key
// when keys is empty), by RFC 4733 events of type te or by SIP INFO: while it plays, or
// within decisionLimit after. It returns 0 when no such key comes, or d's dialog or ctx
// ends. A prompt played to the end is counted under metric.
func (b *bridge) hearKey(ctx context.Context, d dialog, sd call.Side, te int, prompt []byte, pt int, keys, metric string) byte {
	digits, stopDTMF := b.ms.WatchDTMF(sd, te)
	defer stopDTMF()
	b.mu.Lock()
	b.info, b.infoFrom = make(chan byte, 4), sd
	info := b.info
	b.mu.Unlock()
	playCtx, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	played := make(chan struct{})
	go func() {
		defer close(played)
		if b.ms.Play(playCtx, sd, prompt, pt) == nil {
			b.g.metrics.Prompt(metric)
		}
	}()
	var limit <-chan time.Time
	for {
		var k byte
		select {
		case k = <-digits:
		case k = <-info:
		case <-played:
			played, limit = nil, time.After(decisionLimit)
			continue
		case <-limit:
			return 0
		case <-d.Context().Done():
			return 0
		case <-ctx.Done():
			return 0
		}
		if keys == "" || strings.IndexByte(keys, k) >= 0 {
			return k
		}
	}
}

// sayGoodbye plays prompt to the guardian and hangs up their leg.
func (b *bridge) sayGoodbye(guardian *sipgo.DialogClientSession, prompt string) {
	if guardian == nil {
		return
	}
	ans, _ := media.ParseSDP(guardian.InviteResponse.Body())
	pt, _ := media.ChooseCodec(ans.Formats)
	ctx, cancel := whileUp(b.g.ctx, guardian)
	if s, err := media.Prompt(prompt); err == nil && b.ms.Play(ctx, call.Guardian, s, pt) == nil {
		b.g.metrics.Prompt(prompt)
	}
	cancel()
	b.releaseGuardian(guardian)
}

// releaseGuardian hangs up the guardian's leg, if it is up.
func (b *bridge) releaseGuardian(guardian *sipgo.DialogClientSession) {
	if guardian == nil {
		return
	}
	b.ms.Stop(call.Guardian)
	if guardian.Context().Err() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
		b.setReleased(call.Guardian, time.Now())
		if err := guardian.Bye(ctx); err != nil {
			b.g.log.Debug("bye to the guardian", "call", b.c.ID, "err", err)
		}
		cancel()
		return
	}
	at := time.Now()
	if bye := b.g.byeReceived(b, call.Guardian); !bye.IsZero() {
		at = bye
	}
	b.setReleased(call.Guardian, at)
}

// ringThrough rings the phones for a caller the guard has answered and connects whoever
// answers; warned plays the call's warning first, as on a call rung through unchecked.
func (b *bridge) ringThrough(ctx context.Context, req *sip.Request, targets []target, ringFor time.Duration, warned bool) {
	cs, housePT, fail := b.ringHousehold(ctx, req, targets, ringFor)
	if cs == nil {
		if ctx.Err() != nil {
			b.end(call.ByCaller, call.Trunk, "the caller hung up while the phones rang")
		} else {
			b.end(call.ByGuard, 0, fail)
		}
		return
	}
	if w, err := media.Prompt(b.warning); warned && err == nil {
		wctx, done := whileUp(ctx, cs)
		if b.ms.Play(wctx, call.Household, w, housePT) == nil {
			b.g.metrics.Prompt(b.warning)
		}
		done()
	}
	switch {
	case ctx.Err() != nil:
		b.end(call.ByCaller, call.Trunk, "the caller hung up before the resident was connected")
	case cs.Context().Err() != nil:
		b.end(call.ByHousehold, call.Household, "the resident hung up before being connected")
	default:
		b.connect(cs)
	}
}

// ringHousehold rings the phones for the answered caller and returns the phone that
// answered and its codec, or why none did.
func (b *bridge) ringHousehold(ctx context.Context, req *sip.Request, targets []target, ringFor time.Duration) (*sipgo.DialogClientSession, int, string) {
	body := b.shapeFor(call.Household, media.RewriteSDP(req.Body(), b.g.relay.IP(), b.ms.Port(call.Household)))
	cs, fail := b.ringAnswered(ctx, req, targets, ringFor, body, call.Household)
	if cs == nil {
		return nil, 0, fail
	}
	ans, _ := media.ParseSDP(cs.InviteResponse.Body())
	pt, _ := media.ChooseCodec(ans.Formats)
	return cs, pt, ""
}

// joinCall is the guardian's 3: the phones ring, and the resident, the caller and the
// guardian are mixed together until the guardian leaves (# or hanging up); the call then
// goes on between the resident and the caller.
func (b *bridge) joinCall(ctx context.Context, req *sip.Request, targets []target, ringFor time.Duration, guardian *sipgo.DialogClientSession) {
	g := b.g
	gans, _ := media.ParseSDP(guardian.InviteResponse.Body())
	gpt, _ := media.ChooseCodec(gans.Formats)
	te := media.TelephoneEventType(guardian.InviteResponse.Body())
	ringing, answered := whileUp(ctx, guardian) // what the guardian hears while the phones ring
	go func() {
		if s, err := media.Prompt("carer_joining"); err == nil && b.ms.Play(ringing, call.Guardian, s, gpt) == nil {
			g.metrics.Prompt("carer_joining")
		}
	}()
	cs, housePT, fail := b.ringHousehold(ctx, req, targets, ringFor)
	answered()
	if cs == nil {
		b.releaseGuardian(guardian)
		if ctx.Err() != nil {
			b.end(call.ByCaller, call.Trunk, "the caller hung up while the phones rang")
		} else {
			b.end(call.ByGuard, 0, fail)
		}
		return
	}
	offer, _ := media.ParseSDP(req.Body())
	callerPT, _ := media.ChooseCodec(offer.Formats)
	b.ms.Resume(call.Trunk)
	b.mu.Lock()
	b.c.AnsweredAt = time.Now().UTC()
	b.mu.Unlock()
	b.record(call.CallAnswered)
	b.listen(cs)
	var end *endRequest // another guardian ended the call from the dashboard meanwhile
	if guardian.Context().Err() == nil {
		if err := b.ms.Mix(map[call.Side]int{call.Trunk: callerPT, call.Household: housePT, call.Guardian: gpt}); err != nil {
			g.log.Error("carer check: three-way mix not started", "call", b.c.ID, "err", err)
		} else {
			g.log.Info("carer check: the guardian joined the call", "call", b.c.ID)
			end = b.inThree(cs, guardian, te)
		}
	}
	b.ms.StopMix()
	left := func() {
		b.setCarer(func(cc *call.CarerCheck) {
			if cc.LeftAt.IsZero() {
				cc.LeftAt = time.Now().UTC()
			}
		})
	}
	if end != nil {
		// The caller is released first, at once; the guardian's BYE goes meanwhile (a
		// phone answers it in a moment, long before the resident has heard why).
		b.ms.Stop(call.Guardian)
		left()
		released := make(chan struct{})
		go func() { defer close(released); b.releaseGuardian(guardian) }()
		b.endForFamily(*end, cs, call.Household)
		<-released
		return
	}
	b.releaseGuardian(guardian)
	left()
	b.hold(cs, call.Household)
}

// inThree holds the three-way call until the guardian leaves (# or hanging up) or the call
// itself ends (then hold, after it, ends it). A guardian may end the call from the
// dashboard meanwhile, as any connected call: inThree then returns the request, for its
// caller to carry out once the guardian's leg is released.
func (b *bridge) inThree(phone, guardian *sipgo.DialogClientSession, te int) *endRequest {
	digits, stopDTMF := b.ms.WatchDTMF(call.Guardian, te)
	defer stopDTMF()
	ends := b.openEnds()
	defer b.closeEnds()
	b.mu.Lock()
	b.info, b.infoFrom = make(chan byte, 4), call.Guardian
	info := b.info
	b.mu.Unlock()
	for {
		var k byte
		select {
		case k = <-digits:
		case k = <-info:
		case r := <-ends:
			b.g.log.Info("carer check: a guardian ended the three-way call from the dashboard", "call", b.c.ID, "by", r.who)
			return &r
		case <-guardian.Context().Done():
			b.g.log.Info("carer check: the guardian hung up and left the call", "call", b.c.ID)
			return nil
		case <-phone.Context().Done():
			return nil
		case <-b.in.Context().Done():
			return nil
		case <-b.g.ctx.Done():
			return nil
		}
		if k == '#' {
			b.g.log.Info("carer check: the guardian pressed # and left the call", "call", b.c.ID)
			return nil
		}
	}
}
