package guard

import (
	"errors"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/screen"
)

// outboundRingLimit bounds how long an outbound call may ring at the far end.
const outboundRingLimit = 3 * time.Minute

// onInvite routes a new INVITE (route.go) and carries the route out.
func (g *Guard) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		g.onOffer(req, tx) // a new offer in a call: hold, resume, a refresh (reinvite.go)
		return
	}
	if req.Contact() == nil {
		// An RFC 2543 INVITE may have no Contact: the caller is reached at its From address.
		req.AppendHeader(&sip.ContactHeader{Address: req.From().Address})
	}
	now := time.Now()
	r := g.decide(req, now)
	if r.auth && !g.authorize(req, tx, req.From().Address.User) {
		return
	}
	h := r.home
	switch r.flow {
	case flowRefuse:
		respond(tx, req, r.status, r.reason, warning(r.why))
	case flowEmergency:
		g.outbound(req, tx, h, r.number, true)
	case flowOutbound:
		g.outbound(req, tx, h, r.number, false)
	case flowHandsetCode:
		g.onHandsetCode(req, tx, h, r.code) // handset.go: block or report the last caller
	case flowDictated:
		// Not placed; the resident hears why.
		if b, ok := g.accept(req, tx, h, call.Outbound, false, nil); ok {
			b.stopDialled(req, "dictated_number", "not placed: "+r.number+" was given by a caller whose call had signs of a scam; ring a number you trust instead")
		}
	case flowCallBack:
		g.log.Info("safe call-back", "dialled", dialled(req.Recipient), "to", r.number)
		if b, ok := g.accept(req, tx, h, call.Outbound, false, nil); ok {
			b.callBack(req, g.trunk.target(r.number), r.prompt)
		}
	default:
		g.inbound(req, tx, r, now)
	}
}

// inbound carries out a trunk call's route.
func (g *Guard) inbound(req *sip.Request, tx sip.ServerTransaction, r route, now time.Time) {
	h, v := r.home, r.verdict
	if v.Risky() {
		h.noteRisky(now)
	}
	if r.flow == flowBlock {
		g.block(req, tx, h, v)
		return
	}
	b, ok := g.accept(req, tx, h, call.Inbound, false, &v)
	if !ok {
		return
	}
	g.noteInbound(b, r.caller) // the call the handset codes act on
	ringFor := g.cfg.SIP.RingTimeout.D()
	switch r.flow {
	case flowNoPhones:
		defer g.remove(b)
		b.refuse(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", call.Failed, call.ByGuard, "no phone is registered or configured")
	case flowCarer:
		b.carerCall(req, r.targets, ringFor)
	case flowAsk:
		b.askCall(req, r.targets, ringFor, v.Action == screen.Screen)
	case flowScreen:
		b.screenCall(req, r.targets, ringFor)
	default:
		b.run(req, r.targets, ringFor)
	}
}

// outbound places a phone's call on the trunk.
func (g *Guard) outbound(req *sip.Request, tx sip.ServerTransaction, h *household, number string, emergency bool) {
	if emergency {
		h.noteEmergency(time.Now()) // whoever rings back soon rings through (screen.EmergencyRingBack)
	} else {
		h.noteRang(number, time.Now())
	}
	b, ok := g.accept(req, tx, h, call.Outbound, emergency, nil)
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
func (g *Guard) accept(req *sip.Request, tx sip.ServerTransaction, h *household, dir call.Direction, emergency bool, v *screen.Verdict) (*bridge, bool) {
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
	b := &bridge{g: g, h: h, in: in, tx: tx, inSide: inSide, ms: ms}
	b.c = call.Call{
		ID:        newCallID(),
		Household: h.id,
		Direction: dir,
		From:      req.From().Address.String(),
		To:        req.Recipient.String(),
		Emergency: emergency,
		StartedAt: time.Now().UTC(),
		Legs:      []call.Leg{{Side: inSide, Peer: g.sourceAddr(req)}},
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
	if v.Claimed == screen.ClaimsPolice {
		return "warn_police"
	}
	return "warn"
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
		from.Address.User = b.h.presentedID(orig.From().Address.User)
		from.Address.Host = g.trunk.host
	}
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: t.uri.User, Host: t.uri.Host}, Params: sip.NewParams()})
	req.SetTransport(sipTransport(t.transport))
	t.addRoute(req) // a phone registered through a load balancer is rung through it
	return req
}
