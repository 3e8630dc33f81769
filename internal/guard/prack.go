package guard

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Reliable provisional responses (RFC 3262). Toward the side the guard calls: its INVITEs
// say Supported: 100rel, and a 180 or 183 that the far end sends reliably (Require: 100rel,
// RSeq) is acknowledged with PRACK, so a provider that requires them neither resends its
// early media nor gives up on the call.

// reliable says whether a provisional response asks for PRACK, and its RSeq.
func reliable(r *sip.Response) (uint32, bool) {
	if r.StatusCode <= 100 || r.StatusCode >= 200 || !optionTag(r, "Require", "100rel") {
		return 0, false
	}
	h := r.GetHeader("RSeq")
	if h == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// prack acknowledges a reliable provisional response on the INVITE cs placed, once per
// RSeq (the far end resends until it has the PRACK).
func (b *bridge) prack(ctx context.Context, cs *sipgo.DialogClientSession, r *sip.Response, acked map[uint32]bool) {
	rseq, ok := reliable(r)
	if !ok || acked[rseq] {
		return
	}
	acked[rseq] = true
	inv := cs.InviteRequest
	target := inv.Recipient
	if c := r.Contact(); c != nil {
		target = c.Address
	}
	req := sip.NewRequest(sip.PRACK, target)
	req.SetTransport(inv.Transport())
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(r.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cs.NextCSEQ(), MethodName: sip.PRACK})
	req.AppendHeader(sip.NewHeader("RAck", strconv.FormatUint(uint64(rseq), 10)+" "+strconv.FormatUint(uint64(inv.CSeq().SeqNo), 10)+" INVITE"))
	for _, rr := range r.GetHeaders("Record-Route") { // the early dialog's route set (RFC 3261 §12.1.2)
		req.PrependHeader(sip.NewHeader("Route", rr.Value()))
	}
	req.SetBody(nil)
	go func() {
		pctx, cancel := context.WithTimeout(ctx, 8*time.Second)
		defer cancel()
		res, err := cs.UA.Client.Do(pctx, req)
		if err != nil || res.StatusCode >= 300 {
			b.g.log.Debug("PRACK not taken", "call", b.c.ID, "err", err, "response", res)
		}
	}()
}

// Toward a side whose INVITE requires reliable provisional responses (Require: 100rel),
// the guard's 180 or 183 is sent reliably: with RSeq, resent (every 500 ms, doubling, RFC
// 3262 §3) until the PRACK naming it comes or the call is answered. At most one is
// outstanding at a time; a later provisional response waits for nothing and is dropped
// meanwhile (the caller hears the state the first one gave).
type reliableOut struct {
	mu      sync.Mutex
	rseq    uint32
	pending chan struct{} // closed when the outstanding one is acknowledged
}

// progress sends a provisional response on the received INVITE, reliably if it asked.
func (b *bridge) progress(code int, reason string, body []byte, headers ...sip.Header) {
	if !optionTag(b.in.InviteRequest, "Require", "100rel") {
		_ = b.in.Respond(code, reason, body, headers...)
		return
	}
	r := &b.reliable
	r.mu.Lock()
	if r.pending != nil {
		select {
		case <-r.pending:
		default:
			r.mu.Unlock()
			return
		}
	}
	r.rseq++
	rseq, acked := r.rseq, make(chan struct{})
	r.pending = acked
	r.mu.Unlock()
	res := sip.NewResponseFromRequest(b.in.InviteRequest, code, reason, body)
	for _, h := range append(headers, sip.NewHeader("Require", "100rel"), sip.NewHeader("RSeq", strconv.FormatUint(uint64(rseq), 10))) {
		res.AppendHeader(h)
	}
	c := b.g.uaFor(b.inSide, b.in.InviteRequest.Transport()).ContactHDR
	res.AppendHeader(&c)
	if err := b.in.WriteResponse(res); err != nil {
		return
	}
	// Resent through the INVITE's transaction alone, which refuses once a final response
	// has gone: the dialog's own state is the final response's.
	go func() {
		for wait := 500 * time.Millisecond; wait <= 32*time.Second; wait *= 2 {
			select {
			case <-acked:
				return
			case <-b.in.Context().Done():
				return
			case <-time.After(wait):
			}
			if b.tx == nil || b.tx.Respond(res) != nil {
				return
			}
		}
	}()
}

// onPrack takes a PRACK for the guard's reliable provisional response (RFC 3262 §4).
func (g *Guard) onPrack(req *sip.Request, tx sip.ServerTransaction) {
	l := g.lookup(req)
	rack := req.GetHeader("RAck")
	if l == nil || l.b == nil || rack == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	f := strings.Fields(rack.Value())
	r := &l.b.reliable
	r.mu.Lock()
	ok := len(f) == 3 && r.pending != nil && f[0] == strconv.FormatUint(uint64(r.rseq), 10)
	if ok {
		select {
		case <-r.pending:
		default:
			close(r.pending)
		}
	}
	r.mu.Unlock()
	if !ok {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", warning("the RAck names no provisional response of the guard's"))
		return
	}
	respond(tx, req, sip.StatusOK, "OK")
}
