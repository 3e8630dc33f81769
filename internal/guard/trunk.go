package guard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
)

// trunk is the provider: where outbound calls go and whom inbound calls are taken from.
type trunk struct {
	addr      netip.AddrPort
	transport string
	from      []netip.Prefix
	cfg       config.Trunk
}

func newTrunk(c config.Trunk) (trunk, error) {
	ap, err := netip.ParseAddrPort(c.Address)
	if err != nil {
		return trunk{}, fmt.Errorf("guard: trunk.address: %w", err)
	}
	t := trunk{addr: ap, transport: c.Transport, cfg: c}
	for _, s := range c.InboundFrom {
		p, err := config.ParsePrefix(s)
		if err != nil {
			return trunk{}, fmt.Errorf("guard: trunk.inbound_from: %w", err)
		}
		t.from = append(t.from, p)
	}
	return t, nil
}

// isSource says whether a request from src (host:port) came from the trunk: its own
// address and port, or an address listed in inbound_from.
func (t trunk) isSource(src string) bool {
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		return false
	}
	if ap.Addr().Unmap() == t.addr.Addr() && ap.Port() == t.addr.Port() {
		return true
	}
	for _, p := range t.from {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// target is where an outbound call to number goes.
func (t trunk) target(number string) target {
	u := sip.Uri{Scheme: "sip", User: number, Host: t.addr.Addr().String(), Port: int(t.addr.Port())}
	if t.transport != "udp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", t.transport)
	}
	return target{uri: u, transport: t.transport, username: t.cfg.Username, password: t.cfg.Password}
}

// registerTrunk keeps the guard registered to the trunk, as a home ATA would, refreshing
// before the registration lapses and retrying with backoff when the trunk refuses.
func (g *Guard) registerTrunk(ctx context.Context) {
	// The UDP listener joins sipgo's connection pool just after Serve starts; a REGISTER
	// sent before that would try to bind the listening port a second time.
	select {
	case <-ctx.Done():
		return
	case <-time.After(100 * time.Millisecond):
	}
	retry := time.Second
	for {
		expiry, err := g.registerOnce(ctx)
		wait := retry
		if err != nil {
			g.log.Error("trunk registration failed", "trunk", g.cfg.Trunk.Address, "err", err, "retry_in", retry)
			retry = min(retry*2, 5*time.Minute)
		} else {
			g.log.Info("registered to trunk", "trunk", g.cfg.Trunk.Address, "expires", expiry)
			retry = time.Second
			wait = max(expiry/2, 10*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (g *Guard) registerOnce(ctx context.Context) (time.Duration, error) {
	t := g.cfg.Trunk
	recipient := sip.Uri{Scheme: "sip", User: t.Username, Host: g.trunk.addr.Addr().String(), Port: int(g.trunk.addr.Port())}
	req := sip.NewRequest(sip.REGISTER, recipient)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: t.Username, Host: recipient.Host}}
	from := &sip.FromHeader{Address: to.Address, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(to)
	ua := g.uaFor(call.Trunk, g.trunk.transport)
	contact := ua.ContactHDR.Clone()
	contact.Address.User = t.Username
	req.AppendHeader(contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(t.RegisterExpiry.D().Seconds()))))
	req.SetTransport(sipTransport(g.trunk.transport))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := ua.Client.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		res, err = ua.Client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: t.Username, Password: t.Password})
		if err != nil {
			return 0, err
		}
	}
	if res.StatusCode != sip.StatusOK {
		return 0, fmt.Errorf("trunk answered %d %s", res.StatusCode, res.Reason)
	}
	expiry := t.RegisterExpiry.D()
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil && n > 0 {
			expiry = time.Duration(n) * time.Second
		}
	}
	return expiry, nil
}

// hostPort is a peer's address for the call record.
func hostPort(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}
