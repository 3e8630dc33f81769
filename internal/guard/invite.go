package guard

import (
	"errors"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/screen"
)

// outboundRingLimit bounds how long an outbound call may ring at the far end.
const outboundRingLimit = 3 * time.Minute

// onInvite routes a new INVITE: emergency numbers first, then the trunk's calls inbound,
// then the phones' calls outbound once they have authenticated.
func (g *Guard) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		g.onOffer(req, tx) // a new offer in a call: hold, resume, a refresh (reinvite.go)
		return
	}
	if req.Contact() == nil {
		// An RFC 2543 INVITE may have no Contact: the caller is reached at its From address.
		req.AppendHeader(&sip.ContactHeader{Address: req.From().Address})
	}
	fromTrunk := g.trunk.isSource(req.Source())
	number := dialled(req.Recipient)
	if !fromTrunk && g.emergency[number] {
		g.outbound(req, tx, number, true)
		return
	}
	if fromTrunk {
		g.inbound(req, tx)
		return
	}
	if !g.authorize(req, tx, req.From().Address.User) {
		return
	}
	if code := g.handsetCode(number); code != "" {
		g.onHandsetCode(req, tx, code) // handset.go: block or report the last caller
		return
	}
	prompt := ""
	if code, ok := featureCodes[number]; ok {
		target := code.number(g.rules().callback)
		if target == "" {
			respond(tx, req, sip.StatusNotFound, "Not Found", warning(code.missing))
			return
		}
		g.log.Info("safe call-back", "code", number, "to", target)
		number, prompt = dialled(sip.Uri{User: target}), code.prompt
	} else if g.wasDictated(number) && g.callbackPrompt(number) == "" {
		// A number a scam caller gave: the "ring me back on my direct line" trick. It is
		// not placed; the resident hears why.
		b, ok := g.accept(req, tx, call.Outbound, false, nil)
		if ok {
			b.stopDialled(req, "dictated_number", "not placed: "+number+" was given by a caller whose call had signs of a scam; ring a number you trust instead")
		}
		return
	} else if g.afterRiskyCall() {
		prompt = g.callbackPrompt(number)
	}
	if prompt != "" {
		b, ok := g.accept(req, tx, call.Outbound, false, nil)
		if ok {
			b.callBack(req, g.trunk.target(number), prompt)
		}
		return
	}
	g.outbound(req, tx, number, false)
}

// riskyWindow is how long after a warned, screened or blocked call the household's calls to
// the police or its bank are announced as safe call-backs.
const riskyWindow = 30 * time.Minute

// afterRiskyCall says whether a risky call came in within riskyWindow.
func (g *Guard) afterRiskyCall() bool {
	at := g.lastRisky.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < riskyWindow
}

// dictatedFor is how long a number a scam caller gave stays refused.
const dictatedFor = 24 * time.Hour

// noteDictated remembers the numbers the caller gave in a call that sounds like a scam.
func (g *Guard) noteDictated(r *call.Risk) {
	if r == nil || (r.Verdict != "suspicious" && r.Verdict != "scam") {
		return
	}
	for _, n := range r.Dictated {
		if _, had := g.dictated.Swap(n, time.Now()); !had {
			g.log.Info("caller gave a number to ring back on; the household's calls to it will not be placed", "number", n, "for", dictatedFor)
		}
	}
}

// wasDictated says whether number was given by a scam caller within dictatedFor.
func (g *Guard) wasDictated(number string) bool {
	n, err := screen.Canonical(number)
	if err != nil {
		return false
	}
	at, ok := g.dictated.Load(n)
	if ok && time.Since(at.(time.Time)) > dictatedFor {
		g.dictated.Delete(n)
		return false
	}
	return ok
}

// callbackPrompt is the call-back announcement for a number in the household's directory.
func (g *Guard) callbackPrompt(number string) string {
	switch {
	case screen.Same(number, g.rules().callback.Police):
		return "callback_police"
	case screen.Same(number, g.rules().callback.Bank):
		return "callback_bank"
	case g.rules().chain.Trusted(number):
		return "callback_trusted"
	}
	return ""
}

// featureCodes ring a number from the household's directory as a fresh call: "*88" is
// "check with the police on a line I know is clear".
var featureCodes = map[string]struct {
	number  func(config.Callback) string
	missing string
	prompt  string
}{
	"*88": {func(c config.Callback) string { return c.Police }, "no police number in the household's directory", "callback_police"},
	"*89": {func(c config.Callback) string { return c.Bank }, "no bank number in the household's directory (callback.bank)", "callback_bank"},
}

// inbound rings every phone of the household.
func (g *Guard) inbound(req *sip.Request, tx sip.ServerTransaction) {
	if !g.forHousehold(req.Recipient.User) {
		respond(tx, req, sip.StatusNotFound, "Not Found", warning("no such user in this household"))
		return
	}
	sc := screeningCall(req, time.Now())
	if at := g.lastEmergency.Load(); at != 0 {
		sc.EmergencyAt = time.Unix(0, at)
	}
	v := g.rules().chain.Verdict(sc)
	if v.Action != screen.Allow {
		g.lastRisky.Store(time.Now().UnixNano())
	}
	if v.Action == screen.Block {
		g.block(req, tx, v)
		return
	}
	targets := g.phones.targets(time.Now())
	b, ok := g.accept(req, tx, call.Inbound, false, &v)
	if !ok {
		return
	}
	g.noteInbound(b, sc) // the call the handset codes act on
	if len(targets) == 0 {
		defer g.remove(b)
		b.refuse(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", call.Failed, call.ByGuard, "no phone is registered or configured")
		return
	}
	if carerChecks(v, *g.carer.Load()) { // the household chose a guardian's word over asking
		b.carerCall(req, targets, g.cfg.SIP.RingTimeout.D())
		return
	}
	if g.grammar != nil && g.asking().ask.ShouldAsk(claim.Caller{Verdict: v, Rang: g.rangLately(sc.Number)}) {
		b.askCall(req, targets, g.cfg.SIP.RingTimeout.D(), v.Action == screen.Screen)
		return
	}
	if v.Action == screen.Screen {
		b.screenCall(req, targets, g.cfg.SIP.RingTimeout.D())
		return
	}
	b.run(req, targets, g.cfg.SIP.RingTimeout.D())
}

// rangFor is how long a number the household rang counts as one it knows (screening.ask:
// unknown does not ask it).
const rangFor = 30 * 24 * time.Hour

// noteRang remembers a number the household's phones rang.
func (g *Guard) noteRang(number string) {
	if n, err := screen.Canonical(number); err == nil {
		g.rang.Store(n, time.Now())
	}
}

// rangLately says whether the household rang number within rangFor.
func (g *Guard) rangLately(number string) bool {
	n, err := screen.Canonical(number)
	if err != nil {
		return false
	}
	at, ok := g.rang.Load(n)
	return ok && time.Since(at.(time.Time)) < rangFor
}

// outbound places a phone's call on the trunk.
func (g *Guard) outbound(req *sip.Request, tx sip.ServerTransaction, number string, emergency bool) {
	if number == "" {
		respond(tx, req, sip.StatusNotFound, "Not Found", warning("no number dialled"))
		return
	}
	if emergency {
		g.lastEmergency.Store(time.Now().UnixNano()) // whoever rings back soon rings through (screen.EmergencyRingBack)
	} else {
		g.noteRang(number)
	}
	b, ok := g.accept(req, tx, call.Outbound, emergency, nil)
	if !ok {
		return
	}
	limit := outboundRingLimit
	if emergency {
		limit = 0
	}
	b.run(req, []target{g.trunk.target(number)}, limit)
}

// accept checks the offer, anchors its media and starts the call's record. It answers
// the request itself when it cannot go on.
func (g *Guard) accept(req *sip.Request, tx sip.ServerTransaction, dir call.Direction, emergency bool, v *screen.Verdict) (*bridge, bool) {
	if r := checkOffer(req); r != nil && !emergency { // an emergency call is taken as it comes
		g.refuse(tx, req, r)
		return nil, false
	}
	offer, err := media.ParseSDP(req.Body())
	if err != nil {
		g.metrics.Malformed()
		code, reason := sip.StatusBadRequest, "Bad Request"
		if errors.Is(err, media.ErrNoSDP) {
			code, reason = 488, "Not Acceptable Here"
			err = errors.New("an INVITE without an SDP offer is not supported")
		}
		respond(tx, req, code, reason, warning(err.Error()))
		return nil, false
	}
	inSide := call.Trunk
	if dir == call.Outbound {
		inSide = call.Household
	}
	in, err := g.uaFor(inSide, req.Transport()).ReadInvite(req, tx)
	if err != nil {
		g.metrics.Malformed()
		respond(tx, req, sip.StatusBadRequest, "Bad Request", warning(err.Error()))
		return nil, false
	}
	ms, err := g.relay.Open()
	if err != nil && !emergency {
		g.log.Error("no media ports", "err", err)
		_ = in.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil, warning("the guard has no free media ports"))
		return nil, false
	}
	// An emergency call without relay ports still goes through, with media end to end.
	if ms != nil {
		ms.SetRemoteOffer(inSide, offer)
		ms.Latch(call.Trunk, g.trunk.providerAddr) // symmetric RTP from the provider (nat.go)
		if inSide == call.Trunk && g.cfg.SIP.BehindNAT() {
			ms.Punch(call.Trunk) // the router maps the call's ports before the provider's audio comes
		}
		if _, _, err := ms.Secure(inSide, offer); err != nil { // SRTP (srtp.go in media)
			if !emergency {
				ms.Close()
				_ = in.Respond(488, "Not Acceptable Here", nil, warning(err.Error()))
				return nil, false
			}
			ms.Close() // an emergency call the relay cannot decrypt keeps its media end to end
			ms = nil
		}
	}
	_ = in.Respond(sip.StatusTrying, "Trying", nil)
	b := &bridge{g: g, in: in, tx: tx, inSide: inSide, ms: ms}
	b.c = call.Call{
		ID:        newCallID(),
		Household: g.cfg.Household.ID,
		Direction: dir,
		From:      req.From().Address.String(),
		To:        req.Recipient.String(),
		Emergency: emergency,
		StartedAt: time.Now().UTC(),
		Legs:      []call.Leg{{Side: inSide, Peer: req.Source()}},
	}
	if v != nil {
		b.c.Verdict, b.c.Rule, b.c.Reasons = v.Action.String(), v.Rule, v.Reasons
		if v.Action == screen.Warn {
			b.warning = warningPrompt(*v)
		}
	}
	if !g.add(b) {
		if ms != nil {
			ms.Close()
		}
		_ = in.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil, warning("the guard is shutting down"))
		return nil, false
	}
	g.track(req.CallID().Value(), &leg{b: b, side: inSide, srv: in})
	g.metrics.CallStarted(dir)
	b.record(call.CallStarted)
	return b, true
}

// warningPrompt picks the spoken warning for a warned call.
func warningPrompt(v screen.Verdict) string {
	if strings.Contains(strings.Join(v.Reasons, " "), "the police") {
		return "warn_police"
	}
	return "warn"
}

// forHousehold says whether an inbound call's user part names the household: one of its
// phones, its DID or its trunk user name. Without a DID configured, any name does.
func (g *Guard) forHousehold(user string) bool {
	t := g.cfg.Trunk
	if t.DID == "" {
		return true
	}
	if _, ok := g.phones.password(user); ok {
		return true
	}
	return user == t.DID || user == t.Username || dialled(sip.Uri{User: user}) == dialled(sip.Uri{User: t.DID})
}

// dialled is the number in a request URI without visual separators.
func dialled(u sip.Uri) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, u.User)
}

// newInvite builds the INVITE for one target of a call.
func (b *bridge) newInvite(orig *sip.Request, t target, body []byte) *sip.Request {
	g := b.g
	req := sip.NewRequest(sip.INVITE, t.uri)
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", Host: g.host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	if b.inSide == call.Trunk {
		// Phones show the caller's number and name as the trunk presented them.
		of := orig.From()
		from.DisplayName, from.Address.User = of.DisplayName, of.Address.User
	} else {
		from.Address.User = g.presentedID(orig.From().Address.User)
		from.Address.Host = g.trunk.host
	}
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: t.uri.User, Host: t.uri.Host}, Params: sip.NewParams()})
	req.SetTransport(sipTransport(t.transport))
	return req
}

// presentedID is the caller ID the household shows the trunk: its DID, else the trunk
// account, else the phone's own name.
func (g *Guard) presentedID(phoneUser string) string {
	if g.cfg.Trunk.DID != "" {
		return g.cfg.Trunk.DID
	}
	if g.cfg.Trunk.Username != "" {
		return g.cfg.Trunk.Username
	}
	return phoneUser
}
