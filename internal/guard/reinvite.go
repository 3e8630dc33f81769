package guard

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
)

// A new offer inside a call — hold, resume, a codec change, a session refresh (RFC 4028) —
// sent by either side, as a re-INVITE or an UPDATE (RFC 3311), is passed to the other side
// as a re-INVITE, and the other side's answer is passed back (RFC 3264 §8): so a hold from
// the phone (a=sendonly) reaches the provider, whose answer (a=recvonly) comes back, and
// each side knows where the call stands. The relay keeps its ports and follows both sides'
// new addresses. When the other side cannot be asked (the call is not bridged yet, or it
// does not answer), the guard answers itself, as RFC 3264 §6.1 has it.

// reofferTimeout bounds the wait for the other side's answer to a passed-on offer.
const reofferTimeout = 8 * time.Second

// onOffer answers a re-INVITE or an UPDATE inside a call.
func (g *Guard) onOffer(req *sip.Request, tx sip.ServerTransaction) {
	l := g.lookup(req)
	if l == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	body := req.Body()
	if len(body) == 0 {
		// A session refresh without an offer (RFC 4028 §9 allows it for UPDATE; a re-INVITE
		// without one asks for the guard's offer, which is the one it last answered with).
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		for _, h := range timerHeaders(req) {
			res.AppendHeader(h)
		}
		g.contact(res, req, l.side)
		_ = tx.Respond(res)
		return
	}
	offer, err := media.ParseSDP(body)
	if err != nil {
		respond(tx, req, 488, "Not Acceptable Here", warning(err.Error()))
		return
	}
	b := l.b
	if b == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if !b.offering.CompareAndSwap(false, true) {
		// RFC 3261 §14.2: an offer while another is being settled.
		respond(tx, req, 491, "Request Pending")
		return
	}
	defer b.offering.Store(false)
	if req.IsInvite() {
		respond(tx, req, sip.StatusTrying, "Trying")
	}
	code, reason, answer := b.reoffer(l.side, body, offer)
	res := sip.NewResponseFromRequest(req, code, reason, answer)
	if answer != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if code < 300 {
		for _, h := range timerHeaders(req) { // a refresh is answered like the INVITE was
			res.AppendHeader(h)
		}
	}
	g.contact(res, req, l.side)
	_ = tx.Respond(res)
}

// contact adds the guard's Contact to a response inside a dialog.
func (g *Guard) contact(res *sip.Response, req *sip.Request, sd call.Side) {
	c := g.uaFor(sd, req.Transport()).ContactHDR
	res.AppendHeader(&c)
}

// reoffer takes an offer from side from, passes it to the other side and returns the
// answer for from: the status to send, and the answer's body.
func (b *bridge) reoffer(from call.Side, body []byte, offer media.Offer) (int, string, []byte) {
	g := b.g
	if b.ms != nil {
		b.ms.SetRemoteOffer(from, offer)
		if _, _, err := b.ms.Secure(from, offer); err != nil {
			return 488, "Not Acceptable Here", nil
		}
	}
	if from == call.Guardian {
		// A guardian's leg is the guard's own (Carer Check): its new offer is answered here,
		// never passed to the caller or the resident.
		return b.answerOffer(from, body, offer)
	}
	to := other(from)
	fwd := body
	if b.ms != nil {
		fwd = b.shapeFor(to, media.RewriteSDP(body, g.mediaIP(to), b.ms.Port(to)))
	}
	ctx, cancel := context.WithTimeout(g.ctx, reofferTimeout)
	defer cancel()
	res, err := b.sendOffer(ctx, to, fwd)
	switch {
	case err == nil && res.StatusCode < 300:
		ans, perr := media.ParseSDP(res.Body())
		if perr != nil {
			break
		}
		answer := res.Body()
		if b.ms == nil {
			return sip.StatusOK, "OK", media.AnswerLike(body, answer)
		}
		b.ms.SetRemoteOffer(to, ans)
		if _, _, err := b.ms.Secure(to, ans); err != nil {
			break
		}
		answer = media.RewriteSDP(answer, g.mediaIP(from), b.ms.Port(from))
		return sip.StatusOK, "OK", b.shapeFor(from, media.AnswerLike(body, answer))
	case err == nil && (res.StatusCode == 488 || res.StatusCode == 491 || res.StatusCode == 606):
		// The other side refused the new session: so does the guard, and the call goes on
		// as it was (RFC 3261 §14.2).
		return res.StatusCode, res.Reason, nil
	case err != nil && !errors.Is(err, errNoOtherLeg):
		g.log.Debug("offer not passed on", "call", b.c.ID, "to", to, "err", err)
	}
	return b.answerOffer(from, body, offer)
}

// answerOffer is the guard's own answer to side from's offer: the relay's port, G.711, and
// the direction that complements the offer's (sendonly is answered recvonly: RFC 3264 §6.1).
func (b *bridge) answerOffer(from call.Side, body []byte, offer media.Offer) (int, string, []byte) {
	pt, ok := media.ChooseCodec(offer.Formats)
	if !ok {
		return 488, "Not Acceptable Here", nil
	}
	port, ip := offer.Addr.Port(), b.g.mediaIP(from).String()
	if b.ms != nil {
		port = uint16(b.ms.Port(from))
	}
	return sip.StatusOK, "OK", b.shapeFor(from, media.AnswerLike(body, media.AnswerSDP(ip, int(port), pt, media.Answering(media.Direction(body)))))
}

// shapeFor fits a description the guard sends to side sd to that side's media: SRTP with
// the guard's key for a side on SRTP, plain RTP for any other.
func (b *bridge) shapeFor(sd call.Side, body []byte) []byte {
	if b.ms == nil {
		return body
	}
	if c, ok := b.ms.Local(sd); ok {
		return media.Secured(body, c)
	}
	return media.Plain(body)
}

var errNoOtherLeg = errors.New("the call has no other leg yet")

// sendOffer sends a re-INVITE with body on the leg on side to, acknowledges its answer and
// returns the final response.
func (b *bridge) sendOffer(ctx context.Context, to call.Side, body []byte, headers ...sip.Header) (*sip.Response, error) {
	b.mu.Lock()
	out, answered := b.out, !b.c.AnsweredAt.IsZero()
	b.mu.Unlock()
	if !answered {
		return nil, errNoOtherLeg
	}
	type dialog interface {
		Do(context.Context, *sip.Request) (*sip.Response, error)
		WriteRequest(*sip.Request) error
	}
	var d dialog
	var target sip.Uri
	switch {
	case to == b.inSide && b.in != nil:
		d, target = b.in, b.in.InviteRequest.Contact().Address
	case to == b.inSide && b.resident != nil && b.resident.InviteResponse != nil && b.resident.InviteResponse.Contact() != nil:
		d, target = b.resident, b.resident.InviteResponse.Contact().Address
	case out != nil && out.InviteResponse != nil && out.InviteResponse.Contact() != nil:
		d, target = out, out.InviteResponse.Contact().Address
	default:
		return nil, errNoOtherLeg
	}
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	for _, h := range headers {
		req.AppendHeader(h)
	}
	res, err := d.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode < 300 {
		if err := d.WriteRequest(sip.NewRequest(sip.ACK, target)); err != nil {
			return nil, err
		}
	}
	return res, nil
}
