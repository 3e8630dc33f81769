package guard

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

const (
	minExpiry     = 60 * time.Second
	maxExpiry     = time.Hour
	defaultExpiry = time.Hour
)

// onRegister is the registrar for the household's phones: digest authentication against
// the configured passwords, with repeated failures from one source throttled.
func (g *Guard) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	to := req.To()
	if to == nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Request", warning("REGISTER has no To header"))
		return
	}
	user := to.Address.User
	if !g.authorize(req, tx, user) {
		return
	}
	now := time.Now()
	src, viaLB := g.source(req)
	// Through a load balancer the Path it added is how to reach the phone (RFC 3327); from
	// anyone else a Path is not believed, and the phone is reached at its contact.
	var path []sip.Uri
	if viaLB {
		var err error
		if path, err = pathOf(req); err != nil {
			respond(tx, req, sip.StatusBadRequest, "Bad Request", warning(err.Error()))
			return
		}
	}
	contacts := req.GetHeaders("Contact")
	expires := defaultExpiry
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			respond(tx, req, sip.StatusBadRequest, "Bad Request", warning("Expires is not a number of seconds"))
			return
		}
		expires = time.Duration(n) * time.Second
	}
	for _, h := range contacts {
		v := strings.TrimSpace(h.Value())
		if v == "*" {
			if expires != 0 {
				respond(tx, req, sip.StatusBadRequest, "Bad Request", warning("Contact * needs Expires: 0"))
				return
			}
			g.homes.Load().ofPhone(user).phones.unbindAll(user)
			if g.location != nil {
				g.location.DropAll(user)
			}
			continue
		}
		var c sip.ContactHeader
		var u sip.Uri
		params := sip.NewParams()
		if _, err := sip.ParseAddressValue(v, &u, &params); err != nil {
			respond(tx, req, sip.StatusBadRequest, "Bad Request", warning("Contact is not a SIP address: "+err.Error()))
			return
		}
		c.Address, c.Params = u, params
		exp := expires
		if s, ok := params.Get("expires"); ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				respond(tx, req, sip.StatusBadRequest, "Bad Request", warning("Contact expires is not a number of seconds"))
				return
			}
			exp = time.Duration(n) * time.Second
		}
		if exp > 0 {
			exp = min(max(exp, minExpiry), maxExpiry)
		}
		flow := ""
		if t := req.Transport(); (t == "TCP" || t == "TLS") && !viaLB { // through a balancer the connection is the balancer's
			flow = req.Source()
		}
		g.homes.Load().ofPhone(user).phones.bind(user, c.Address, exp, now, flow, path)
		b := Binding{User: user, Contact: c.Address, Path: path, Flow: flow}
		if exp > 0 {
			b.Expires = now.Add(exp)
		}
		g.share(b)
		g.log.Info("phone registered", "user", user, "contact", c.Address.String(), "expires", exp, "source", src)
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if viaLB && supportsPath(req) {
		for _, p := range path { // RFC 3327 §5.3: the Path stored, as the phone may want to know it
			res.AppendHeader(sip.NewHeader("Path", "<"+p.String()+">"))
		}
	}
	for _, h := range g.homes.Load().ofPhone(user).phones.current(user, now) {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// authorize checks a request's digest credentials for user. It answers the request itself
// (challenge, refusal, throttling) and returns false when the request must go no further.
func (g *Guard) authorize(req *sip.Request, tx sip.ServerTransaction, user string) bool {
	src := sourceIP(g.sourceAddr(req))
	if retry, blocked := g.throttle.refused(src, user, time.Now()); blocked {
		respond(tx, req, sip.StatusForbidden, "Too Many Failed Attempts",
			sip.NewHeader("Retry-After", strconv.Itoa(int(retry.Seconds())+1)),
			warning("too many wrong passwords from this address; wait and try again"))
		return false
	}
	req = withDigestOnly(req)
	password, known := g.homes.Load().ofPhone(user).phones.password(user)
	if !known {
		// Challenge anyway, so that an unknown name looks like a wrong password.
		password = "\x00unknown"
	}
	res, err := g.digest.AuthorizeRequest(req, diago.DigestAuth{Username: user, Password: password, Realm: g.cfg.SIP.Realm, Expire: 30 * time.Second})
	if res.StatusCode == sip.StatusOK && known {
		g.throttle.succeeded(src, user, time.Now())
		return true
	}
	if errors.Is(err, diago.ErrDigestAuthNoChallenge) {
		// A stale or foreign nonce: challenge afresh rather than refuse.
		fresh := req.Clone()
		fresh.RemoveHeader("Authorization")
		res, err = g.digest.AuthorizeRequest(fresh, diago.DigestAuth{Username: user, Password: password, Realm: g.cfg.SIP.Realm, Expire: 30 * time.Second})
	}
	if errors.Is(err, diago.ErrDigestAuthBadCreds) {
		g.metrics.AuthFailed()
		g.throttle.failed(src, time.Now())
		g.log.Warn("wrong password", "user", user, "source", g.sourceAddr(req), "method", req.Method.String())
		res = sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
		res.AppendHeader(warning("wrong user name or password"))
	}
	_ = tx.Respond(res)
	return false
}

// withDigestOnly drops credentials in schemes other than Digest, which the guard cannot
// check: such a request is challenged like one without credentials (RFC 4475 §3.3.7).
func withDigestOnly(req *sip.Request) *sip.Request {
	hs := req.GetHeaders("Authorization")
	keep := 0
	for _, h := range hs {
		if scheme, _, _ := strings.Cut(strings.TrimSpace(h.Value()), " "); strings.EqualFold(scheme, "Digest") {
			keep++
		}
	}
	if keep == len(hs) {
		return req
	}
	out := req.Clone()
	out.RemoveHeader("Authorization")
	for _, h := range hs {
		if scheme, _, _ := strings.Cut(strings.TrimSpace(h.Value()), " "); strings.EqualFold(scheme, "Digest") {
			out.AppendHeader(h)
		}
	}
	return out
}

// sourceIP is the host of a request's source address (host:port).
func sourceIP(src string) string {
	host, _, err := sip.ParseAddr(src)
	if err != nil {
		return src
	}
	return host
}
