package guard

import (
	"context"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// udpRequestLimit is RFC 3261 §18.1.1's bound: a request larger than 1,300 bytes (the path
// MTU being unknown) must go over a congestion-controlled transport such as TCP. sipgo adds
// its Via, Contact and Max-Forwards when it sends, about udpHeadroom bytes.
const (
	udpRequestLimit = 1300
	udpHeadroom     = 200
)

// overUDPLimit says whether req, sent over UDP, would be larger than RFC 3261 allows.
func overUDPLimit(req *sip.Request) bool {
	return len(req.String())+udpHeadroom > udpRequestLimit
}

// writeInvite sends the INVITE for one target of a call. A target reached over UDP gets a
// request too big for UDP over TCP instead, on the same address and port, as RFC 3261
// §18.1.1 asks (every SIP element must take TCP); if it takes no TCP, the request goes
// over UDP all the same, fragmented, rather than the call failing.
func (b *bridge) writeInvite(ctx context.Context, orig *sip.Request, t target, body []byte) (*sipgo.DialogClientSession, error) {
	req := b.newInvite(orig, t, body)
	req.AppendHeader(sip.NewHeader("Supported", "timer, 100rel")) // timer.go, prack.go
	if t.flow != "" {
		req.SetDestination(t.flow) // over the phone's own connection
	}
	side := other(b.inSide)
	if t.transport != "udp" || !overUDPLimit(req) {
		return b.g.uaFor(side, t.transport).WriteInvite(ctx, req)
	}
	stream := t
	stream.transport = "tcp"
	big := b.newInvite(orig, stream, body)
	big.AppendHeader(sip.NewHeader("Supported", "timer, 100rel"))
	cs, err := b.g.uaFor(side, "tcp").WriteInvite(ctx, big)
	if err == nil {
		return cs, nil
	}
	b.g.log.Debug("big INVITE: no TCP at the target, sending over UDP", "target", t.uri.String(), "size", len(req.String()), "err", err)
	return b.g.uaFor(side, "udp").WriteInvite(ctx, req)
}
