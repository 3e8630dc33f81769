package guard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
)

// trunk is the provider: where outbound calls go and whom inbound calls are taken from.
// Its host is an IP address or a DNS name; a name is looked up again from time to time,
// and the provider's calls are recognised by the addresses it had.
type trunk struct {
	host      string
	port      int
	addr      netip.AddrPort // when host is an IP address
	transport string
	from      []netip.Prefix
	cfg       config.Trunk
	resolved  *atomic.Pointer[[]netip.Addr] // host's addresses, when it is a name
}

func newTrunk(c config.Trunk) (trunk, error) {
	host, portStr, err := net.SplitHostPort(c.Address)
	if err != nil {
		return trunk{}, fmt.Errorf("guard: trunk.address: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return trunk{}, fmt.Errorf("guard: trunk.address: %w", err)
	}
	t := trunk{host: host, port: port, transport: c.Transport, cfg: c, resolved: &atomic.Pointer[[]netip.Addr]{}}
	if ip, err := netip.ParseAddr(host); err == nil {
		t.addr = netip.AddrPortFrom(ip, uint16(port))
	}
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
	ip := ap.Addr().Unmap()
	if ap.Port() == uint16(t.port) && slices.Contains(t.addrs(), ip) {
		return true
	}
	for _, p := range t.from {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// addrs are the trunk's addresses: its IP address, or what its name was last found at.
func (t trunk) addrs() []netip.Addr {
	if t.addr.IsValid() {
		return []netip.Addr{t.addr.Addr()}
	}
	if rs := t.resolved.Load(); rs != nil {
		return *rs
	}
	return nil
}

// target is where an outbound call to number goes.
func (t trunk) target(number string) target {
	u := sip.Uri{Scheme: "sip", User: number, Host: t.host, Port: t.port}
	if t.transport != "udp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", t.transport)
	}
	return target{uri: u, transport: t.transport, username: t.cfg.Username, password: t.cfg.Password}
}

// lookupTrunk keeps the addresses of a trunk named by DNS, every five minutes (every ten
// seconds while the name cannot be found). SIP requests to the trunk are sent by name.
func (g *Guard) lookupTrunk(ctx context.Context, lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)) {
	if g.trunk.addr.IsValid() {
		return
	}
	for {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := lookup(lctx, "ip", g.trunk.host)
		cancel()
		wait := 5 * time.Minute
		if err != nil {
			g.log.Error("the provider's address cannot be found", "trunk", g.trunk.host, "err", err)
			wait = 10 * time.Second
		} else {
			for i, a := range addrs {
				addrs[i] = a.Unmap()
			}
			g.trunk.resolved.Store(&addrs)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
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
		if ctx.Err() != nil {
			return
		}
		g.registration(err)
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
	recipient := sip.Uri{Scheme: "sip", User: t.Username, Host: g.trunk.host, Port: g.trunk.port}
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
