package guard

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/config"
)

// Behind a SIP load balancer (sip.load_balancers: Kamailio's dispatcher in front of several
// guards) every request comes from the balancer's address. The balancer says where each new
// request really came from in one X-Clearline-Source header (proto:ip:port, Kamailio's
// $proto:$si:$sp), after removing any a client sent; the guard believes the header from a
// balancer's address alone, and uses that address wherever it asks where a request came
// from: telling the trunk from a phone, a phone's registration, the password throttle,
// the call's legs and the logs.

// sourceHeader names the real source of a request that came through a load balancer.
const sourceHeader = "X-Clearline-Source"

// loadBalancers reads sip.load_balancers (checked by config).
func loadBalancers(list []string) []netip.Prefix {
	ps := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		if p, err := config.ParsePrefix(s); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// source is where req came from (host:port): the address in its X-Clearline-Source header
// when it came from a load balancer, else the address it came from. viaLB says whether it
// came from a load balancer.
func (g *Guard) source(req *sip.Request) (addr string, viaLB bool) {
	src := req.Source()
	if !g.fromLoadBalancer(src) {
		return src, false
	}
	hs := req.GetHeaders(sourceHeader)
	if len(hs) != 1 {
		return src, true // refused by checkSource unless it has none (in-dialog, keep-alives)
	}
	a, err := parseSource(hs[0].Value())
	if err != nil {
		return src, true
	}
	return a, true
}

// fromLoadBalancer says whether src (host:port) is one of sip.load_balancers.
func (g *Guard) fromLoadBalancer(src string) bool {
	if len(g.lbs) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range g.lbs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// checkSource refuses a request from a load balancer whose X-Clearline-Source cannot be
// believed: more than one (the balancer adds exactly one, after removing a client's), or
// one that is not proto:ip:port. From anywhere else the header is not read at all.
func (g *Guard) checkSource(req *sip.Request) *refusal {
	if !g.fromLoadBalancer(req.Source()) {
		return nil
	}
	hs := req.GetHeaders(sourceHeader)
	switch {
	case len(hs) > 1:
		return refuse(400, "Bad Request", fmt.Sprintf("%d %s headers from the load balancer; it must add exactly one", len(hs), sourceHeader))
	case len(hs) == 1:
		if _, err := parseSource(hs[0].Value()); err != nil {
			return refuse(400, "Bad Request", sourceHeader+": "+err.Error())
		}
	}
	return nil
}

// parseSource reads proto:ip:port (udp:192.0.2.7:5060, tcp:[2001:db8::7]:5060 or Kamailio's
// tcp:2001:db8::7:5060) as ip:port.
func parseSource(v string) (string, error) {
	v = strings.TrimSpace(v)
	proto, rest, ok := strings.Cut(v, ":")
	switch strings.ToLower(proto) {
	case "udp", "tcp", "tls", "sctp", "ws", "wss":
	default:
		ok = false
	}
	i := strings.LastIndexByte(rest, ':')
	if !ok || i < 0 {
		return "", fmt.Errorf("%q is not proto:ip:port", v)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(rest[:i], "["), "]")
	ip, err := netip.ParseAddr(host)
	port, perr := strconv.ParseUint(rest[i+1:], 10, 16)
	if err != nil || perr != nil || port == 0 || ip.Zone() != "" {
		return "", fmt.Errorf("%q is not proto:ip:port", v)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)).String(), nil
}

// sourceAddr is source's address alone.
func (g *Guard) sourceAddr(req *sip.Request) string {
	a, _ := g.source(req)
	return a
}
