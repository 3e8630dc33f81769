package guard

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
)

// Session timers (RFC 4028): a provider that uses them ends a call whose session is not
// refreshed in time. Toward a side that asks for a timer and will refresh (Supported:
// timer), the guard's 2xx agrees and leaves the refreshing to it (refresher=uac), and its
// refreshes pass through like any new offer (reinvite.go). Toward the side the guard calls,
// its INVITE says Supported: timer, and when the 2xx makes the guard the refresher, it
// sends a re-INVITE with the same offer every half interval.

// headers is what requests and responses have in common here.
type headers interface {
	GetHeader(name string) sip.Header
	GetHeaders(name string) []sip.Header
}

// sessionExpires reads a message's Session-Expires (or its compact form x): the interval
// and who refreshes.
func sessionExpires(m headers) (time.Duration, string, bool) {
	h := m.GetHeader("Session-Expires")
	if h == nil {
		h = m.GetHeader("x")
	}
	if h == nil {
		return 0, "", false
	}
	v, params, _ := strings.Cut(h.Value(), ";")
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs <= 0 {
		return 0, "", false
	}
	refresher := ""
	for _, p := range strings.Split(params, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return time.Duration(secs) * time.Second, refresher, true
}

// optionTag says whether one of a message's headers named name lists tag.
func optionTag(m headers, name, tag string) bool {
	for _, h := range m.GetHeaders(name) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), tag) {
				return true
			}
		}
	}
	return false
}

// timerHeaders are the headers of the guard's 2xx to req: the interval it asked for, with
// req's sender refreshing, if it can (RFC 4028 §9).
func timerHeaders(req *sip.Request) []sip.Header {
	se, _, ok := sessionExpires(req)
	if !ok || !(optionTag(req, "Supported", "timer") || optionTag(req, "Require", "timer")) {
		return nil
	}
	return []sip.Header{
		sip.NewHeader("Session-Expires", strconv.Itoa(int(se.Seconds()))+";refresher=uac"),
		sip.NewHeader("Require", "timer"),
	}
}

// keepSession refreshes the session on the leg the guard placed (side), while the call
// lasts, if the 2xx made the guard the refresher.
func (b *bridge) keepSession(cs *sipgo.DialogClientSession, side call.Side) {
	se, refresher, ok := sessionExpires(cs.InviteResponse)
	if !ok || refresher != "uac" {
		return
	}
	ctx, cancel := whileUp(b.g.ctx, cs, b.in)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(se / 2):
		}
		rctx, rcancel := context.WithTimeout(ctx, reofferTimeout)
		res, err := b.sendOffer(rctx, side, cs.InviteRequest.Body(),
			sip.NewHeader("Session-Expires", strconv.Itoa(int(se.Seconds()))+";refresher=uac"),
			sip.NewHeader("Supported", "timer"))
		rcancel()
		switch {
		case err == nil && res.StatusCode < 300:
			if next, _, ok := sessionExpires(res); ok {
				se = next
			}
		case err == nil && (res.StatusCode == sip.StatusCallTransactionDoesNotExists || res.StatusCode == sip.StatusRequestTimeout):
			// RFC 4028 §10: the session is gone at the far end.
			b.end(call.ByGuard, 0, "the "+side.String()+" ended the session: its refresh got "+res.StartLine())
			return
		default:
			b.g.log.Warn("session refresh failed", "call", b.c.ID, "side", side, "err", err)
		}
	}
}
