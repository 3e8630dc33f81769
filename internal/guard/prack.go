package guard

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Reliable provisional responses (RFC 3262), toward the side the guard calls: its INVITEs
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
