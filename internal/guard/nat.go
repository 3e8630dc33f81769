package guard

import (
	"context"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/stun/v3"

	"github.com/clearline/clearline/internal/call"
)

// Behind a home router. The guard's requests carry rport (RFC 3581), so the provider
// answers the router's mapping rather than the guard's private address. Toward the trunk —
// and only there — the guard's Contact and its session descriptions carry the router's
// public address (sip.external_address, or what a STUN server, sip.stun, says it is: RFC
// 5389), and every sip.keepalive it refreshes the router's mapping: OPTIONS over UDP, a
// blank line over TCP and TLS (RFC 5626 §3.5.1). The relay latches onto the address the
// provider's media really comes from (symmetric RTP), when it is the provider's.

// publicIP is the router's public address, if the guard knows one.
func (g *Guard) publicIP() (netip.Addr, bool) {
	if p := g.public.Load(); p != nil {
		return *p, true
	}
	return netip.Addr{}, false
}

// mediaIP is the address the guard gives side sd for its media.
func (g *Guard) mediaIP(sd call.Side) netip.Addr {
	if ip, ok := g.publicIP(); ok && sd == call.Trunk {
		return ip
	}
	return g.relay.IP()
}

// uaFor is the dialog agent for a dialog on side sd: toward the trunk its Contact names
// the public address.
func (g *Guard) uaFor(sd call.Side, transport string) *sipgo.DialogUA {
	ua := g.dialogUA(transport)
	ip, ok := g.publicIP()
	if !ok || sd != call.Trunk {
		return ua
	}
	out := *ua
	out.ContactHDR = *ua.ContactHDR.Clone()
	out.ContactHDR.Address.Host = ip.String()
	return &out
}

// discoverPublic asks the STUN server for the guard's public address now, and again every
// interval while ctx lasts.
func (g *Guard) discoverPublic(ctx context.Context, server string, interval time.Duration) {
	for {
		if ip, err := stunAddress(server); err != nil {
			g.log.Warn("STUN: public address not found", "server", server, "err", err)
		} else if old, ok := g.publicIP(); !ok || old != ip {
			g.public.Store(&ip)
			g.log.Info("public address", "address", ip, "from", server)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// stunAddress is the address a STUN server sees a request come from (a Binding request,
// RFC 5389 §7, answered with XOR-MAPPED-ADDRESS).
func stunAddress(server string) (netip.Addr, error) {
	c, err := stun.Dial("udp4", server)
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	var got netip.Addr
	var derr error
	err = c.Do(stun.MustBuild(stun.TransactionID, stun.BindingRequest), func(e stun.Event) {
		if e.Error != nil {
			derr = e.Error
			return
		}
		var xor stun.XORMappedAddress
		if derr = xor.GetFrom(e.Message); derr == nil {
			got, _ = netip.AddrFromSlice(xor.IP)
			got = got.Unmap()
		}
	})
	if err == nil {
		err = derr
	}
	return got, err
}

// keepAlive refreshes the router's mapping toward the trunk every interval.
func (g *Guard) keepAlive(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if g.trunk.transport == "udp" {
			g.optionsPing(ctx)
			continue
		}
		network := map[string]string{"tcp": "tcp", "tls": "tls"}[g.trunk.transport]
		for _, a := range g.trunk.addrs() {
			ap := netip.AddrPortFrom(a, uint16(g.trunk.port)).String()
			if c, err := g.ua.TransportLayer().GetConnection(network, ap); err == nil && c != nil {
				if w, ok := c.(io.Writer); ok {
					_, _ = w.Write([]byte("\r\n\r\n"))
				}
			}
		}
	}
}

// optionsPing sends the trunk an OPTIONS; any answer means the mapping is alive.
func (g *Guard) optionsPing(ctx context.Context) {
	u := sip.Uri{Scheme: "sip", Host: g.trunk.host, Port: g.trunk.port}
	req := sip.NewRequest(sip.OPTIONS, u)
	from := &sip.FromHeader{Address: g.uaFor(call.Trunk, "udp").ContactHDR.Address, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: u})
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if res, err := g.udp.Client.Do(ctx, req); err != nil {
		g.log.Debug("keep-alive OPTIONS unanswered", "trunk", g.trunk.host, "err", err)
	} else {
		g.log.Debug("keep-alive", "trunk", g.trunk.host, "answer", strconv.Itoa(res.StatusCode))
	}
}

// providerAddr says whether ip is one of the provider's addresses, which the relay may
// latch onto.
func (t trunk) providerAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if slices.Contains(t.addrs(), ip) {
		return true
	}
	for _, p := range t.from {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
