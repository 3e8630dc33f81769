package guard

import (
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
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

// block refuses a call screening blocked: the phones never ring, the call is recorded with
// its reasons, and the caller is told "decline".
func (g *Guard) block(req *sip.Request, tx sip.ServerTransaction, v screen.Verdict) {
	now := time.Now().UTC()
	why := strings.Join(v.Reasons, "; ")
	c := call.Call{
		ID: newCallID(), Direction: call.Inbound,
		From: req.From().Address.String(), To: req.Recipient.String(),
		StartedAt: now, EndedAt: now, EndedBy: call.ByGuard, Outcome: call.Blocked, Reason: why,
		Verdict: v.Action.String(), Reasons: v.Reasons,
		Legs: []call.Leg{{Side: call.Trunk, Peer: req.Source(), ReleasedAt: now}},
	}
	g.metrics.CallStarted(call.Inbound)
	g.metrics.CallEnded(c)
	g.rec.Record(call.Event{CallID: c.ID, Kind: call.CallEnded, At: now, Call: c})
	g.log.Info("call blocked", "call", c.ID, "from", c.From, "rule", v.Rule, "why", why)
	respond(tx, req, 603, "Decline", warning(why))
}
