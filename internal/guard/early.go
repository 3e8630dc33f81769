package guard

import (
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
)

// onProvisional handles a provisional response from the called side. Early media — a 183
// (or 180) with a session description, such as the provider's "the number you have called
// is not available" — on a phone's outbound call is relayed to the phone before the call
// is answered: the phone gets a 183 with the relay's address and the audio flows through
// the relay. Inbound calls ring several phones at once and may be warned before the
// caller hears anything, so their early media is not relayed; nor is it on a call the guard
// placed for the resident from within an asked call (b.in is nil: the phone's leg is the
// guard's own dialog, already answered).
func (b *bridge) onProvisional(r *sip.Response) {
	if b.inSide != call.Household || b.in == nil || b.ms == nil || len(r.Body()) == 0 {
		return
	}
	if r.StatusCode != sip.StatusSessionInProgress && r.StatusCode != sip.StatusRinging {
		return
	}
	ans, err := media.ParseSDP(r.Body())
	if err != nil {
		return
	}
	b.ms.SetRemoteOffer(call.Trunk, ans)
	if !b.early.CompareAndSwap(false, true) {
		return // the phone has the relay's address already; the audio follows the new one
	}
	sdp := b.shapeFor(call.Household, media.AnswerLike(b.in.InviteRequest.Body(), media.RewriteSDP(r.Body(), b.g.relay.IP(), b.ms.Port(call.Household))))
	b.progress(sip.StatusSessionInProgress, "Session Progress", sdp, sip.NewHeader("Content-Type", "application/sdp"))
}
