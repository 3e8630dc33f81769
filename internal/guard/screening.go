package guard

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/screen"
)

// screeningCall reads what screening needs from an inbound INVITE. The trunk's
// P-Asserted-Identity, when present, is the number the network vouches for; Privacy: id
// (or an anonymous From) means the number is withheld from the household.
func screeningCall(req *sip.Request, at time.Time) screen.Call {
	c := screen.Call{At: at}
	if from := req.From(); from != nil {
		c.Number, c.DisplayName = from.Address.User, from.DisplayName
	}
	if h := req.GetHeader("P-Asserted-Identity"); h != nil {
		if name, number, ok := parseIdentity(h.Value()); ok {
			c.Number = number
			if name != "" {
				c.DisplayName = name
			}
		}
	}
	if h := req.GetHeader("Privacy"); h != nil {
		for _, p := range strings.Split(h.Value(), ";") {
			switch strings.ToLower(strings.TrimSpace(p)) {
			case "id", "user", "header":
				c.Withheld = true
			}
		}
	}
	if screen.IsWithheld(c.Number) {
		c.Withheld = true
	}
	if h := req.GetHeader("Identity"); h != nil {
		c.Identity = h.Value()
	}
	return c
}

// parseIdentity reads a name-addr with a sip: or tel: URI.
func parseIdentity(v string) (name, number string, ok bool) {
	v = strings.TrimSpace(strings.Split(v, ",")[0])
	if i := strings.Index(v, "tel:"); i >= 0 {
		rest := v[i+4:]
		if j := strings.IndexAny(rest, ";>"); j >= 0 {
			rest = rest[:j]
		}
		if k := strings.Index(v, "<"); k > 0 {
			name = strings.Trim(strings.TrimSpace(v[:k]), `"`)
		}
		return name, rest, rest != ""
	}
	var u sip.Uri
	params := sip.NewParams()
	name, err := sip.ParseAddressValue(v, &u, &params)
	if err != nil || u.User == "" {
		return "", "", false
	}
	return name, u.User, true
}

// block refuses a call screening blocked: the phones never ring, the caller hears a short
// announcement and is released, and the call is recorded with its reasons.
func (g *Guard) block(req *sip.Request, tx sip.ServerTransaction, h *household, v screen.Verdict) {
	start := time.Now().UTC()
	why := strings.Join(v.Reasons, "; ")
	g.metrics.CallStarted(call.Inbound)
	g.log.Info("call blocked", "from", req.From().Address.String(), "rule", v.Rule, "why", why)
	answered := g.announce(req, tx, "blocked", why)
	end := time.Now().UTC()
	c := call.Call{
		ID: newCallID(), Household: h.id, Direction: call.Inbound,
		From: req.From().Address.String(), To: req.Recipient.String(),
		StartedAt: start, EndedAt: end, EndedBy: call.ByGuard, Outcome: call.Blocked, Reason: why,
		Verdict: v.Action.String(), Rule: v.Rule, Reasons: v.Reasons,
		Legs: []call.Leg{{Side: call.Trunk, Peer: g.sourceAddr(req), ReleasedAt: end}},
	}
	if answered {
		c.AnsweredAt = start
	}
	g.metrics.CallEnded(c)
	g.rec.Record(call.Event{CallID: c.ID, Kind: call.CallEnded, At: end, Call: c})
}

// announce answers a call only to play a prompt to the caller, then hangs up. When the
// offer cannot carry the prompt (no G.711) or no ports are free, the call is declined with
// 603 and the reason instead. It reports whether the call was answered.
func (g *Guard) announce(req *sip.Request, tx sip.ServerTransaction, prompt, why string) bool {
	decline := func() bool {
		respond(tx, req, 603, "Decline", warning(why))
		return false
	}
	offer, err := media.ParseSDP(req.Body())
	if err != nil {
		return decline()
	}
	pt, ok := media.ChooseCodec(offer.Formats)
	samples, perr := media.Prompt(prompt)
	if !ok || perr != nil {
		return decline()
	}
	ms, err := g.relay.Open()
	if err != nil {
		return decline()
	}
	defer ms.Close()
	sess, err := g.uaFor(call.Trunk, req.Transport()).ReadInvite(req, tx)
	if err != nil {
		return decline()
	}
	ms.SetRemoteOffer(call.Trunk, offer)
	local, secure, err := ms.Secure(call.Trunk, offer)
	if err != nil {
		return decline()
	}
	id := req.CallID().Value()
	g.track(id, &leg{side: call.Trunk, srv: sess})
	defer g.untrack(id)
	answer := media.AnswerLike(req.Body(), media.AnswerSDP(g.mediaIP(call.Trunk).String(), ms.Port(call.Trunk), pt, "sendonly"))
	if secure {
		answer = media.Secured(answer, local)
	}
	if err := sess.RespondSDP(answer); err != nil {
		return false
	}
	ctx, cancel := whileUp(g.ctx, sess) // ends if the caller hangs up during the announcement
	defer cancel()
	if err := ms.Play(ctx, call.Trunk, samples, pt); err == nil {
		g.metrics.Prompt(prompt)
	}
	if sess.Context().Err() == nil {
		byeCtx, done := context.WithTimeout(context.Background(), byeTimeout)
		_ = sess.Bye(byeCtx)
		done()
	}
	return true
}
