package guard

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/media"
)

// Asking the caller who they are (screening.ask), as the police advise everyone to: the
// guard answers the caller itself and asks which organisation they are calling from, and —
// for the police, a bank or the government — their ID number. It hears the answers against
// grammars (internal/claim) and records them, then rings the household. Whoever answers
// hears, on their leg only, who the caller says they are, the caller's own words, the ID
// number, the advice for such callers, and chooses: 1 talk to them, 2 have the guard ring
// the police (or the bank) on a fresh line, the caller released, 3 refuse.

// askTone is the beep after each question.
const askTone = 250 * time.Millisecond

// digitGap is the silence between the digits of an ID number read out to the resident.
const digitGap = 150 * time.Millisecond

// askCall runs the questions and the resident's choice; the caller's INVITE is unanswered.
func (b *bridge) askCall(req *sip.Request, targets []target, ringFor time.Duration, screened bool) {
	g := b.g
	offer, _ := media.ParseSDP(req.Body()) // checked in accept
	pt, ok := media.ChooseCodec(offer.Formats)
	if !ok || b.ms == nil {
		// Without G.711 the guard cannot speak to the caller: the call goes as it would have.
		if screened {
			b.screenCall(req, targets, ringFor)
		} else {
			b.run(req, targets, ringFor)
		}
		return
	}
	defer g.remove(b)
	if w, ok := g.grammar.(interface{ Warm() }); ok {
		w.Warm() // a grammar loaded on demand loads while the question plays
	}
	te := media.TelephoneEventType(req.Body()) // the caller may key their ID number in
	answer := media.AnswerSDPKeys(g.mediaIP(call.Trunk).String(), b.ms.Port(call.Trunk), pt, te, "sendrecv")
	if err := b.in.RespondSDP(b.shapeFor(call.Trunk, media.AnswerLike(req.Body(), answer))); err != nil {
		b.finish(call.Cancelled, call.ByCaller, call.Trunk, "the caller left before being asked who they are")
		return
	}
	ctx, cancel := whileUp(g.ctx, b.in) // ends if the caller hangs up
	defer cancel()
	// The phones are offered telephone events whatever the caller offered: the resident
	// answers with a key.
	body := media.WithTelephoneEvent(b.shapeFor(call.Household, media.RewriteSDP(req.Body(), g.relay.IP(), b.ms.Port(call.Household))))
	asked := time.Now()
	asking, doneAsking := context.WithCancel(ctx)
	var ringing chan rung
	idAsked := func() { // the phones ring while the caller gives their ID number
		ringing = make(chan rung, 1)
		go func() { ringing <- b.ringWhileAsked(asking, ctx, req, targets, ringFor, body) }()
	}
	cl, said := b.ask(ctx, pt, te, idAsked)
	doneAsking()
	b.ms.Stop(call.Trunk) // the caller hears nothing of the household until let through
	b.setClaim(cl, len(said) > 0)
	if ctx.Err() != nil {
		if ringing != nil {
			<-ringing // ends as the caller's leg does; a phone that answered is released below
		}
		b.end(call.ByCaller, call.Trunk, "the caller hung up while asked who they are")
		return
	}
	g.log.Info("caller asked", "call", b.c.ID, "claim", cl.Kind, "organisation", cl.Organisation, "id", cl.IDNumber,
		"answered", cl.Answered, "words", cl.Words, "took", time.Since(asked).Round(10*time.Millisecond))
	go func() { // while the phones ring
		if hold, err := media.Prompt("ask_hold"); err == nil {
			b.ms.Play(ctx, call.Trunk, hold, pt)
		}
	}()
	var cs *sipgo.DialogClientSession
	var fail string
	if ringing != nil {
		r := <-ringing
		cs, fail = r.cs, r.fail
	} else {
		cs, fail = b.ringAnswered(ctx, req, targets, ringFor, body, call.Household)
	}
	if cs == nil {
		if ctx.Err() != nil {
			b.end(call.ByCaller, call.Trunk, "the caller hung up while the phones rang")
		} else {
			b.end(call.ByGuard, 0, fail)
		}
		return
	}
	ans, _ := media.ParseSDP(cs.InviteResponse.Body())
	housePT, _ := media.ChooseCodec(ans.Formats)
	if cl.RingThrough(b.h.asks.Load().unknownScreened || screened) {
		// A caller who would not answer, where the household lets unknown callers ring
		// and screening would not have announced this one (a withheld number): connected
		// as if not asked, after the call's warning if it has one.
		if w, err := media.Prompt(b.warning); err == nil {
			wctx, done := whileUp(ctx, cs)
			if b.ms.Play(wctx, call.Household, w, housePT) == nil {
				g.metrics.Prompt(b.warning)
			}
			done()
		}
		switch {
		case ctx.Err() != nil:
			b.end(call.ByCaller, call.Trunk, "the caller hung up during the warning")
		case cs.Context().Err() != nil:
			b.endAs(call.Blocked, call.ByHousehold, call.Household, "the resident hung up after the warning")
		default:
			b.connect(cs)
		}
		return
	}
	haveBank := b.h.directory().Bank != ""
	choice := cl.Choose(b.offer(ctx, cs, tell(cl.Telling(haveBank), said), housePT), haveBank)
	b.mu.Lock()
	chosen := *b.c.Claim // snapshots already recorded keep theirs
	chosen.Choice = choice.String()
	b.c.Claim = &chosen
	b.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		b.end(call.ByCaller, call.Trunk, "the caller hung up while the resident was deciding")
	case cs.Context().Err() != nil:
		b.endAs(call.Blocked, call.ByHousehold, call.Household, "the resident hung up after hearing who was calling")
	case choice == claim.Talk:
		b.connect(cs)
	case choice == claim.RingPolice:
		b.ringFresh(cs, cmp.Or(b.h.directory().Police, "101"), "callback_police", housePT, "the police") // 101 everywhere in the UK
	case choice == claim.RingBank:
		b.ringFresh(cs, b.h.directory().Bank, "callback_bank", housePT, "the bank")
	case choice == claim.NoChoice:
		b.endAs(call.Blocked, call.ByGuard, 0, "the resident did not choose within "+decisionLimit.String())
	default:
		b.endAs(call.Blocked, call.ByHousehold, 0, "the resident refused the call after hearing who was calling")
	}
}

// rung is how ringing the phones ended: the phone that answered, or why none did.
type rung struct {
	cs   *sipgo.DialogClientSession
	fail string
}

// ringWhileAsked rings the phones while the caller is still asked for their ID number, so
// that the question does not keep the resident waiting: a resident who answers before the
// caller has given it hears ask_wait until asking ends. ctx is the caller's leg.
func (b *bridge) ringWhileAsked(asking, ctx context.Context, req *sip.Request, targets []target, ringFor time.Duration, body []byte) rung {
	cs, fail := b.ringAnswered(ctx, req, targets, ringFor, body, call.Household)
	if cs != nil && asking.Err() == nil {
		if w, err := media.Prompt("ask_wait"); err == nil {
			ans, _ := media.ParseSDP(cs.InviteResponse.Body())
			housePT, _ := media.ChooseCodec(ans.Formats)
			wait, done := whileUp(asking, cs)
			if b.ms.Play(wait, call.Household, w, housePT) == nil {
				b.g.metrics.Prompt("ask_wait")
			}
			<-wait.Done() // until asking ends, or the resident hangs up
			done()
		}
	}
	return rung{cs, fail}
}

// ask puts the questions to the caller and returns what they claimed and their answers as
// recorded (mu-law). When the recogniser fails, the answer is still recorded for the
// resident, who hears that the guard could not tell who is calling. idAsked, if not nil,
// is called as the caller is asked for their ID number.
func (b *bridge) ask(ctx context.Context, pt, te int, idAsked func()) (claim.Claim, []byte) {
	g := b.g
	frames := make(chan claim.Frame, 100) // 2 s: the relay never waits for the recogniser
	b.ms.Tap(call.Trunk, func(pkt []byte) {
		if fpt, payload, ok := media.RTPPayload(pkt); ok {
			select {
			case frames <- claim.Frame{PT: fpt, Payload: append([]byte(nil), payload...)}:
			default:
			}
		}
	})
	defer b.ms.Tap(call.Trunk, nil)
	var said []byte
	question := func(prompt, grammar string, keys <-chan byte) (claim.Heard, error) {
		if q, err := media.Prompt(prompt); err == nil && b.ms.Play(ctx, call.Trunk, append(q, media.Tone(askTone)...), pt) == nil {
			g.metrics.Prompt(prompt)
		}
		for len(frames) > 0 { // what the caller said over the question is not the answer
			<-frames
		}
		lim := claim.DefaultLimits
		answered, stop := context.WithCancel(ctx)
		recorded := make(chan []byte, 1)
		go func() { recorded <- b.ms.Record(answered, call.Trunk, lim.Start+lim.Longest) }()
		h, err := claim.Hear(answered, g.grammar, grammar, frames, keys, lim)
		if err != nil {
			// Hear the answer out as announce-and-screen would, for the resident.
			g.log.Warn("caller's answer not recognised; the resident hears it as recorded", "call", b.c.ID, "err", err)
			select {
			case <-answered.Done():
			case <-time.After(nameLength):
			}
		}
		stop()
		rec := <-recorded
		if pt == media.PCMA {
			rec = g711.Alaw2Ulaw(rec)
		}
		said = append(said, rec...)
		return h, err
	}
	h, err := question("ask_who", claim.WhoGrammar, nil)
	if err != nil {
		return claim.Claim{Answered: true}, said
	}
	cl := g.claims.Read(h.Heard)
	cl.Answered = h.Answered()
	if cl.Answered && cl.Kind.Authority() && ctx.Err() == nil {
		// The number may be said or keyed in: RFC 4733 events or SIP INFO from the caller.
		keys, stopKeys := b.ms.WatchDTMF(call.Trunk, te)
		b.mu.Lock()
		b.info, b.infoFrom = make(chan byte, 16), call.Trunk
		info := b.info
		b.mu.Unlock()
		pressed := make(chan byte, 16)
		done := make(chan struct{})
		go func() {
			for {
				var k byte
				select {
				case k = <-keys:
				case k = <-info:
				case <-done:
					return
				}
				select {
				case pressed <- k:
				default:
				}
			}
		}()
		if idAsked != nil {
			idAsked()
		}
		h, err := question("ask_id", claim.IDGrammar, pressed)
		close(done)
		stopKeys()
		if err == nil {
			cl = g.claims.ReadID(cl, h)
		}
	}
	return cl, said
}

// setClaim puts the claim on the call's record.
func (b *bridge) setClaim(cl claim.Claim, recorded bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.c.Claim = &call.Claim{Kind: cl.Kind.String(), Organisation: cl.Organisation, IDNumber: cl.IDNumber,
		NameAudio: recorded, Answered: cl.Answered, Words: cl.Words}
}

// tell puts together what the resident hears, as mu-law.
func tell(parts []claim.Part, said []byte) []byte {
	var out []byte
	for _, p := range parts {
		switch {
		case p.Said:
			out = append(out, said...)
		case p.Digits != "":
			out = append(out, sayDigits(p.Digits)...)
		default:
			if s, err := media.Prompt(p.Prompt); err == nil {
				out = append(out, s...)
			}
		}
	}
	return out
}

// sayDigits reads digits out one by one, with digitGap after each; anything else in them
// is left unsaid.
func sayDigits(digits string) []byte {
	var out []byte
	for _, d := range digits {
		if d < '0' || d > '9' {
			continue
		}
		if s, err := media.Prompt("digit_" + string(d)); err == nil {
			out = append(out, s...)
			out = append(out, silence(digitGap)...)
		}
	}
	return out
}

// silence is d of mu-law silence.
func silence(d time.Duration) []byte {
	return []byte(strings.Repeat("\xff", int(d.Seconds()*8000)))
}

// offer plays what the resident hears and returns the key they press (0 for none): a key
// may be pressed while it plays, and the resident has decisionLimit after it ends.
func (b *bridge) offer(ctx context.Context, cs *sipgo.DialogClientSession, prompt []byte, pt int) byte {
	return b.hearKey(ctx, cs, call.Household, media.TelephoneEventType(cs.InviteResponse.Body()), prompt, pt, "", "ask_offer")
}

// connect lets the caller through to the resident who answered, and listens to the call.
func (b *bridge) connect(cs *sipgo.DialogClientSession) {
	b.ms.Resume(call.Trunk)
	b.mu.Lock()
	b.c.AnsweredAt = time.Now().UTC()
	b.mu.Unlock()
	b.record(call.CallAnswered)
	b.listen(cs) // a caller the resident let through is listened to like any other
	b.hold(cs, call.Household)
}

// known is what the call's detector starts with: who the caller said they were, heard
// against the grammar before anyone spoke to them.
func known(c *call.Claim) []detect.Finding {
	if c == nil {
		return nil
	}
	var k claim.Kind
	if k.UnmarshalText([]byte(c.Kind)) != nil {
		return nil
	}
	var ind detect.Indicator
	switch {
	case k.Authority():
		ind = detect.AuthorityClaim
	case k == claim.Company:
		ind = detect.CompanyClaim
	case k == claim.Family:
		ind = detect.RelativeClaim
	default:
		return nil
	}
	evidence := strings.ToLower(c.Organisation)
	if evidence == "" {
		evidence = k.String()
	}
	return []detect.Finding{{Kind: ind, Evidence: evidence, T: 0}}
}

// ringFresh is the resident's choice to check with the police (or their bank): the caller is
// released at once, and the resident's leg goes on as a new call the guard places to the
// number from the household's directory, told first that it is a new call — the safe
// call-back. The asked call is recorded as refused.
func (b *bridge) ringFresh(phone *sipgo.DialogClientSession, number, prompt string, pt int, who string) {
	g := b.g
	ms := b.ms
	ms.Stop(call.Trunk)
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	b.release(ctx, call.Trunk)
	cancel()
	nb := &bridge{g: g, h: b.h, resident: phone, inSide: call.Household, ms: ms}
	to := g.trunk.target(number).uri
	nb.c = call.Call{
		ID:        newCallID(),
		Household: b.h.id,
		Direction: call.Outbound,
		From:      phone.InviteRequest.Recipient.String(),
		To:        to.String(),
		StartedAt: time.Now().UTC(),
		Legs:      []call.Leg{{Side: call.Household, Peer: b.c.Leg(call.Household).Peer}},
	}
	if !g.add(nb) {
		b.endAs(call.Blocked, call.ByGuard, 0, "the guard is shutting down")
		return
	}
	defer g.remove(nb)
	g.handOver(phone.InviteRequest.CallID().Value(), b, nb)
	b.handedOver.Store(true) // the media session goes on with the new call
	b.finish(call.Blocked, call.ByHousehold, 0, "the resident had the guard ring "+who+" on a fresh line; the caller was released")
	g.log.Info("safe call-back from an asked call", "call", nb.c.ID, "to", number)
	g.metrics.CallStarted(call.Outbound)
	nb.record(call.CallStarted)
	nb.placeFor(phone, number, prompt, pt)
}

// placeFor tells the resident this is a new call, then places it on the trunk and connects
// it when answered.
func (b *bridge) placeFor(phone *sipgo.DialogClientSession, number, prompt string, pt int) {
	g := b.g
	ctx, cancel := whileUp(g.ctx, phone)
	defer cancel()
	if samples, err := media.Prompt(prompt); err == nil && b.ms.Play(ctx, call.Household, samples, pt) == nil {
		g.metrics.Prompt(prompt)
	}
	if ctx.Err() != nil {
		b.end(call.ByHousehold, call.Household, "the resident hung up during the call-back announcement")
		return
	}
	// The trunk sees the household's number, as on any call the resident places.
	from := sip.NewRequest(sip.INVITE, phone.InviteRequest.Recipient)
	from.AppendHeader(&sip.FromHeader{Address: phone.InviteRequest.Recipient, Params: sip.NewParams()})
	body := media.AnswerSDP(g.mediaIP(call.Trunk).String(), b.ms.Port(call.Trunk), pt, "sendrecv")
	cs, fail := b.ringAnswered(ctx, from, []target{g.trunk.target(number)}, outboundRingLimit, body, call.Trunk)
	if cs == nil {
		if ctx.Err() != nil {
			b.end(call.ByHousehold, call.Household, "the resident hung up before the call was answered")
		} else {
			b.end(call.ByCaller, 0, "the call-back was not answered: "+fail)
		}
		return
	}
	b.ms.Resume(call.Trunk)
	b.mu.Lock()
	b.c.AnsweredAt = time.Now().UTC()
	b.mu.Unlock()
	b.record(call.CallAnswered)
	b.hold(cs, call.Trunk)
}
