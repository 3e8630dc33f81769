package guard

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/screen"
)

// Handset codes (config codes): the resident dials one to block the last caller, or to
// report the last call to the regional hub as a scam, as a carer would on the dashboard.
// The guard answers the code itself, does it, says what it did and hangs up. A code call is
// not one of the household's calls and is not recorded as one (the block shows on the
// dashboard's block-list; the report goes through the outbox to the hub).

// Handset is what the handset codes change beyond the guard: the household's saved
// settings. It is nil when the store is unavailable; then nothing can be blocked or
// reported, and the resident is told so.
type Handset interface {
	// Block puts number on the household's block-list the way the dashboard's Block button
	// does, in force for the next call; a number already there is left as it is.
	Block(ctx context.Context, household, number, name string) error
}

// handsetTimeout bounds the saving of a block before the resident is told it failed.
const handsetTimeout = 3 * time.Second

// lastCaller is the household's last inbound call that screening let ring (or asked, or
// screened): the one the codes act on, as 1471 tells a BT customer theirs.
type lastCaller struct {
	mu     sync.Mutex
	caller screen.Call // as screening saw it: the number it judges, or withheld
	call   call.Call   // the call's record, final once it has ended
	set    bool
	at     time.Time // when it came in
	// elsewhere: another guard of the service took it (memory.go); call is then its ID
	// and little more, and the stored record is read for a report.
	elsewhere bool
}

// noteInbound makes b's call the last inbound call.
func (g *Guard) noteInbound(b *bridge, sc screen.Call) {
	b.mu.Lock()
	c := b.c
	b.mu.Unlock()
	l := &b.h.last
	l.mu.Lock()
	l.caller, l.call, l.set, l.at, l.elsewhere = sc, c, true, sc.At, false
	l.mu.Unlock()
	number := sc.Number
	if sc.Withheld {
		number = ""
	}
	if m := b.h.memory; m != nil {
		m(MemoryEvent{Household: b.h.id, Kind: MemoryLast, Number: number, At: sc.At, Call: c.ID})
	}
}

// noteLastEnded keeps the final record of the last inbound call, for its report.
func (h *household) noteLastEnded(c call.Call) {
	if c.Direction != call.Inbound {
		return
	}
	l := &h.last
	l.mu.Lock()
	if l.set && l.call.ID == c.ID && !l.elsewhere {
		l.call = c
	}
	l.mu.Unlock()
}

func (h *household) lastInbound() (screen.Call, call.Call, bool) {
	sc, c, _, ok := h.lastInboundWhere()
	return sc, c, ok
}

// lastInboundWhere is lastInbound, and whether another guard of the service took the call.
func (h *household) lastInboundWhere() (screen.Call, call.Call, bool, bool) {
	l := &h.last
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.call
	c.Legs = append([]call.Leg(nil), c.Legs...)
	return l.caller, c, l.elsewhere, l.set
}

// handsetCode is the code a phone dialled, if number is one: "block", "report" or "".
func (g *Guard) handsetCode(number string) string {
	number = strings.ReplaceAll(number, "%23", "#")
	switch {
	case number == "":
		return ""
	case number == g.cfg.Codes.BlockLast:
		return "block"
	case number == g.cfg.Codes.ReportLast:
		return "report"
	}
	return ""
}

// onHandsetCode answers an authenticated phone's code call: it checks the offer, does what
// the code asks, then answers, says what it did and hangs up. An offer the guard cannot
// speak to is refused and nothing is done.
func (g *Guard) onHandsetCode(req *sip.Request, tx sip.ServerTransaction, h *household, code string) {
	if r := checkOffer(req); r != nil {
		g.refuse(tx, req, r)
		return
	}
	offer, err := media.ParseSDP(req.Body())
	if err != nil {
		status, reason := sip.StatusBadRequest, "Bad Request"
		if errors.Is(err, media.ErrNoSDP) {
			status, reason = 488, "Not Acceptable Here"
			err = errors.New("an INVITE without an SDP offer is not supported")
		}
		g.metrics.Malformed()
		respond(tx, req, status, reason, warning(err.Error()))
		return
	}
	pt, ok := media.ChooseCodec(offer.Formats)
	if !ok {
		respond(tx, req, 488, "Not Acceptable Here", warning("the guard answers the code in G.711 (PCMU or PCMA), which the offer lacks; nothing was done"))
		return
	}
	ms, err := g.relay.Open()
	if err != nil {
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", warning("the guard has no free media ports; nothing was done"))
		return
	}
	defer ms.Close()
	ms.SetRemoteOffer(call.Household, offer)
	local, secure, err := ms.Secure(call.Household, offer)
	if err != nil {
		respond(tx, req, 488, "Not Acceptable Here", warning(err.Error()))
		return
	}
	ds, err := g.uaFor(call.Household, req.Transport()).ReadInvite(req, tx)
	if err != nil {
		g.metrics.Malformed()
		respond(tx, req, sip.StatusBadRequest, "Bad Request", warning(err.Error()))
		return
	}
	_ = ds.Respond(sip.StatusTrying, "Trying", nil)
	sipID := req.CallID().Value()
	g.track(sipID, &leg{side: call.Household, srv: ds})
	defer g.untrack(sipID)

	var name string
	var samples []byte
	switch code {
	case "block":
		name, samples = g.blockLast(h, req.From().Address.User)
	default:
		name, samples = g.reportLast(h, req.From().Address.User)
	}

	body := media.AnswerLike(req.Body(), media.AnswerSDP(g.host, ms.Port(call.Household), pt, "sendrecv"))
	if secure {
		body = media.Secured(body, local)
	} else {
		body = media.Plain(body)
	}
	if err := ds.RespondSDP(body); err != nil {
		return // the resident hung up first; what the code did stands
	}
	ctx, cancel := whileUp(g.ctx, ds)
	defer cancel()
	if ms.Play(ctx, call.Household, samples, pt) == nil && ctx.Err() == nil {
		g.metrics.Prompt(name)
	}
	bctx, bcancel := context.WithTimeout(context.Background(), byeTimeout)
	defer bcancel()
	if ds.Context().Err() == nil {
		_ = ds.Bye(bctx)
	}
}

// blockLast puts the last caller on the household's block-list and returns what to say.
func (g *Guard) blockLast(h *household, phone string) (string, []byte) {
	sc, c, ok := h.lastInbound()
	if !ok {
		g.log.Info("handset code: no call to block", "phone", phone)
		return "handset_no_call_block", prompts("handset_no_call_block")
	}
	number, err := screen.Canonical(sc.Number)
	if sc.Withheld || err != nil {
		g.log.Info("handset code: the last caller cannot be blocked by number", "phone", phone, "call", c.ID, "from", sc.Number)
		return "handset_withheld", prompts("handset_withheld")
	}
	if g.handset == nil {
		g.log.Error("handset code: nothing blocked: the store is unavailable", "phone", phone, "number", number)
		return "handset_failed", prompts("handset_failed")
	}
	ctx, cancel := context.WithTimeout(g.ctx, handsetTimeout)
	defer cancel()
	if err := g.handset.Block(ctx, h.id, number, "blocked from the "+phone+" phone"); err != nil {
		g.log.Error("handset code: nothing blocked", "phone", phone, "number", number, "err", err)
		return "handset_failed", prompts("handset_failed")
	}
	g.log.Info("handset code: last caller blocked", "phone", phone, "number", number, "call", c.ID)
	return "handset_blocked", prompts(append(append([]string{"handset_blocked"}, lastDigits(number)...), "handset_blocked_end")...)
}

// reportLast sends the last call to the hub as a scam, through the outbox (the hub link
// turns a call.reported event into a report), and returns what to say.
func (g *Guard) reportLast(h *household, phone string) (string, []byte) {
	sc, c, elsewhere, ok := h.lastInboundWhere()
	if !ok {
		g.log.Info("handset code: no call to report", "phone", phone)
		return "handset_no_call_report", prompts("handset_no_call_report")
	}
	if hub := g.cfg.Hub; !hub.Enabled() || !hub.Report || h.district() == "" || g.handset == nil {
		g.log.Warn("handset code: the call was not reported: this guard sends no reports (hub, hub.report, household.district and the store are all needed)", "phone", phone, "call", c.ID)
		return "handset_report_off", prompts("handset_report_off")
	}
	if elsewhere {
		// Another guard took the call: report its stored record, never the little this guard
		// knows of it (the store keeps the record an event carries).
		stored, ok := g.storedCall(c.ID)
		if !ok {
			g.log.Error("handset code: the call was not reported: another guard took it and its record cannot be read", "phone", phone, "call", c.ID)
			return "handset_report_failed", prompts("handset_report_failed")
		}
		c = stored
	}
	g.rec.Record(call.Event{CallID: c.ID, Kind: call.CallReported, At: time.Now().UTC(), Call: c})
	g.log.Info("handset code: last call reported as a scam", "phone", phone, "call", c.ID)
	number, err := screen.Canonical(sc.Number)
	if sc.Withheld || err != nil {
		return "handset_reported", prompts("handset_reported_withheld")
	}
	return "handset_reported", prompts(append(append([]string{"handset_reported"}, lastDigits(number)...), "handset_reported_end")...)
}

// lastDigits names the prompts that say a number's last three digits.
func lastDigits(number string) []string {
	digits := strings.TrimPrefix(number, "+")
	digits = digits[max(0, len(digits)-3):]
	names := make([]string, 0, len(digits))
	for _, d := range digits {
		names = append(names, "digit_"+string(d))
	}
	return names
}

// prompts joins named prompts into one stretch of speech; a missing prompt is left out
// (they are embedded, and a test checks every one the codes name).
func prompts(names ...string) []byte {
	var out []byte
	for _, n := range names {
		if s, err := media.Prompt(n); err == nil {
			out = append(out, s...)
			out = append(out, silence(150*time.Millisecond)...)
		}
	}
	return out
}
