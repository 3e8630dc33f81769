package guard

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/screen"
)

// A flow is what the guard does with a new call; each has its own file.
type flow int

const (
	// flowRefuse answers the INVITE with an error and does nothing else.
	flowRefuse flow = iota
	// flowEmergency places a phone's call to 999 or 112 at once, before anything else.
	flowEmergency
	// flowBlock turns the caller away unheard (screening.go).
	flowBlock
	// flowNoPhones answers that no phone of the household can ring.
	flowNoPhones
	// flowRing rings the household's phones and bridges the first to answer (bridge.go).
	flowRing
	// flowScreen records the caller's name for the resident first (announce.go).
	flowScreen
	// flowAsk asks the caller who they are and checks it (ask.go).
	flowAsk
	// flowCarer has a guardian decide about the caller (carer.go).
	flowCarer
	// flowHandsetCode does what a phone's code asks: block or report the last caller (handset.go).
	flowHandsetCode
	// flowCallBack tells the resident the call is a fresh one, then places it (announce.go).
	flowCallBack
	// flowDictated refuses a number a scam caller gave, and says why (announce.go).
	flowDictated
	// flowOutbound places a phone's call on the trunk.
	flowOutbound
)

// A route is what to do with a new INVITE, decided as a value before anything is answered
// (decide), then carried out (onInvite).
type route struct {
	flow flow
	home *household
	// auth: the call is a phone's, which must authenticate before the route is carried out.
	auth bool

	number  string         // the number to place (outbound flows) or dialled (handset codes)
	code    string         // the handset code: "block" or "report"
	prompt  string         // what the resident hears before a call-back
	caller  screen.Call    // inbound: the caller, as screening saw them
	verdict screen.Verdict // inbound: screening's judgement
	targets []target       // inbound: the phones to ring

	status int // flowRefuse: the answer
	reason string
	why    string
}

// decide routes a new INVITE: emergency numbers first, then the trunk's calls inbound, then
// the phones' calls outbound. It reads the household and the guard's settings as they are at
// now, and changes nothing.
func (g *Guard) decide(req *sip.Request, now time.Time) route {
	number := dialled(req.Recipient)
	if src, _ := g.source(req); !g.trunk.isSource(src) {
		return g.decideOutbound(req, number, now)
	}
	h, ok := g.homes.Load().inbound(req)
	if !ok {
		return route{flow: flowRefuse, status: sip.StatusNotFound, reason: "Not Found", why: "no household has this number"}
	}
	r := route{home: h, caller: screeningCall(req, now)}
	r.caller.EmergencyAt = h.emergencyAt()
	r.verdict = h.rules.Load().chain.Verdict(r.caller)
	r.targets = h.phones.targets(now)
	v := r.verdict
	switch {
	case v.Action == screen.Block:
		r.flow = flowBlock
	case len(r.targets) == 0:
		r.flow = flowNoPhones
	case carerChecks(v, *h.carer.Load()): // the household chose a guardian's word over asking
		r.flow = flowCarer
	case g.grammar != nil && h.asks.Load().ask.ShouldAsk(claim.Caller{Verdict: v, Rang: h.rangLately(r.caller.Number, now)}):
		r.flow = flowAsk
	case v.Action == screen.Screen:
		r.flow = flowScreen
	default:
		r.flow = flowRing
	}
	return r
}

// decideOutbound routes a phone's call. Only an emergency call goes before the phone has
// authenticated.
func (g *Guard) decideOutbound(req *sip.Request, number string, now time.Time) route {
	h := g.homes.Load().ofPhone(req.From().Address.User)
	if g.emergency[number] {
		return route{flow: flowEmergency, home: h, number: number}
	}
	r := route{home: h, auth: true, number: number}
	if code := g.handsetCode(number); code != "" {
		r.flow, r.code = flowHandsetCode, code
		return r
	}
	if code, ok := featureCodes[number]; ok {
		target := code.number(h.directory())
		if target == "" {
			r.flow, r.status, r.reason, r.why = flowRefuse, sip.StatusNotFound, "Not Found", code.missing
			return r
		}
		r.flow, r.number, r.prompt = flowCallBack, dialled(sip.Uri{User: target}), code.prompt
		return r
	}
	prompt := h.callbackPrompt(number)
	switch {
	case h.wasDictated(number, now) && prompt == "":
		// A number a scam caller gave: the "ring me back on my direct line" trick.
		r.flow = flowDictated
	case prompt != "" && h.afterRiskyCall(now):
		r.flow, r.prompt = flowCallBack, prompt
	case number == "":
		r.flow, r.status, r.reason, r.why = flowRefuse, sip.StatusNotFound, "Not Found", "no number dialled"
	default:
		r.flow = flowOutbound
	}
	return r
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
