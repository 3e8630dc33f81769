package guard

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/config"
)

// sharedLocation is a Location that remembers what it was told.
type sharedLocation struct {
	mu      sync.Mutex
	put     []Binding
	dropped []string
}

func (l *sharedLocation) Put(b Binding) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.put = append(l.put, b)
}

func (l *sharedLocation) DropAll(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropped = append(l.dropped, user)
}

func (l *sharedLocation) puts() []Binding {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Binding(nil), l.put...)
}

func mustURI(t testing.TB, s string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// register sends user's REGISTER from p, answers the challenge with password, and returns
// the final answer. extra are more header lines.
func register(t *testing.T, p *peer, guardAddr, user, password, contact string, expires int, extra ...string) *sip.Response {
	t.Helper()
	msg := func(cseq int, auth string) []byte {
		hs := strings.Join(extra, "\r\n")
		if hs != "" {
			hs += "\r\n"
		}
		if auth != "" {
			hs += "Authorization: " + auth + "\r\n"
		}
		return fmt.Appendf(nil, "REGISTER sip:%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-reg-%[3]s-%[4]d-%[7]d\r\n"+
			"From: <sip:%[3]s@%[1]s>;tag=reg-%[3]s\r\nTo: <sip:%[3]s@%[1]s>\r\nCall-ID: reg-%[3]s-%[7]d@test\r\nCSeq: %[4]d REGISTER\r\n"+
			"Contact: <%[5]s>\r\nExpires: %[6]d\r\nMax-Forwards: 70\r\n%[8]sContent-Length: 0\r\n\r\n",
			strings.Split(guardAddr, ":")[0], p.local, user, cseq, contact, expires, time.Now().UnixNano(), hs)
	}
	p.send(msg(1, ""))
	chal, _ := p.final(3 * time.Second)
	if chal == nil || chal.StatusCode != 401 {
		return chal
	}
	p.send(msg(2, digestAuth(chal, "REGISTER", "sip:"+strings.Split(guardAddr, ":")[0], user, password)))
	res, _ := p.final(3 * time.Second)
	return res
}

// nextInvite reads the next INVITE the guard sends p, skipping everything else.
func nextInvite(t *testing.T, p *peer, wait time.Duration) *sip.Request {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		m, _, _ := p.read(time.Until(deadline))
		if r, ok := m.(*sip.Request); ok && r.IsInvite() {
			return r
		}
	}
	return nil
}

func routes(req *sip.Request) []string {
	var out []string
	for _, h := range req.GetHeaders("Route") {
		out = append(out, h.Value())
	}
	return out
}

// A phone registered through the load balancer is rung through it: the REGISTER's Path is
// kept with the binding (and echoed, as the phone said Supported: path), the binding is
// shared with the location service without a flow, and the guard's INVITE to the phone's
// contact carries the Path as its Route, so it goes to the balancer. A Path from anywhere
// else is not believed: the phone is rung at its contact.
func TestRegisterThroughLoadBalancer(t *testing.T) {
	const lbIP = testNet + "220"
	loc := &sharedLocation{}
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), location: loc,
		edit: func(c *config.Config) { c.SIP.LoadBalancers = []string{lbIP} }})
	lb := newPeer(t, "udp", lbIP, 0, g.addr)
	path := "<sip:" + lb.local + ";lr;received=sip:192.0.2.77:41000>"
	const contact = "sip:watson@192.168.1.20:5060"
	res := register(t, lb, g.addr, "watson", "watson-pw", contact, 600,
		"Path: "+path, "Supported: path", sourceHeader+": udp:192.0.2.77:41000")
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the REGISTER through the balancer was answered %v", res)
	}
	if hs := res.GetHeaders("Path"); len(hs) != 1 || hs[0].Value() != path {
		t.Errorf("the 200 says Path %v; want %s echoed", hs, path)
	}
	puts := loc.puts()
	if len(puts) != 1 {
		t.Fatalf("the location service was told %+v; want one binding", puts)
	}
	b := puts[0]
	if b.User != "watson" || b.Contact.String() != contact || len(b.Path) != 1 || "<"+b.Path[0].String()+">" != path || b.Flow != "" ||
		b.Expires.Before(time.Now().Add(590*time.Second)) || b.Expires.After(time.Now().Add(601*time.Second)) {
		t.Errorf("shared binding %+v; want watson at %s along %s, no flow, for 600 s", b, contact, path)
	}

	// A stranger's Path is ignored: "user" is rung at its contact, where it is.
	plain := newPeer(t, "udp", testNet+"221", 0, g.addr)
	if res := register(t, plain, g.addr, "user", "user-pw", "sip:user@"+plain.local, 600, "Path: <sip:"+lb.local+";lr>", "Supported: path"); res == nil || res.StatusCode != 200 || res.GetHeader("Path") != nil {
		t.Fatalf("the REGISTER from elsewhere was answered %v; want 200 without Path", res)
	}
	if puts := loc.puts(); len(puts) != 2 || len(puts[1].Path) != 0 {
		t.Errorf("the location service was told %+v; want user's binding without a path", puts)
	}

	caller := newPeer(t, "udp", testNet+"45", 0, g.addr) // the provider's network
	caller.send(lbInvite(caller, g.addr, "to-watson"))
	inv := nextInvite(t, lb, 3*time.Second)
	if inv == nil {
		t.Fatal("the phone registered through the balancer was not rung through it")
	}
	if inv.Recipient.String() != contact || strings.Join(routes(inv), ",") != path {
		t.Errorf("INVITE to %s with Route %q; want to %s along %s", inv.Recipient.String(), routes(inv), contact, path)
	}
	if inv := nextInvite(t, plain, 3*time.Second); inv == nil || len(routes(inv)) != 0 {
		t.Errorf("the phone registered directly got %v; want an INVITE without Route", inv)
	}
}

// A Path through the balancer that is not a SIP URI is refused, naming it, and binds nothing.
func TestRegisterBadPathRefused(t *testing.T) {
	const lbIP = testNet + "222"
	loc := &sharedLocation{}
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), location: loc,
		edit: func(c *config.Config) { c.SIP.LoadBalancers = []string{lbIP} }})
	lb := newPeer(t, "udp", lbIP, 0, g.addr)
	res := register(t, lb, g.addr, "watson", "watson-pw", "sip:watson@192.168.1.20:5060", 600,
		"Path: <mailto:lb@example.org>", sourceHeader+": udp:192.0.2.77:41000")
	if res == nil || res.StatusCode != 400 || !strings.Contains(res.GetHeader("Warning").Value(), "Path") {
		t.Fatalf("a REGISTER with a bad Path was answered %v; want 400 naming Path", res)
	}
	if puts := loc.puts(); len(puts) != 0 || g.RegisteredContacts() != 0 {
		t.Errorf("a refused REGISTER bound %+v (%d contacts)", puts, g.RegisteredContacts())
	}
}

// Failed passwords through the balancer count against the phone's own address, not the
// balancer's: one address guessing is locked out, another phone behind the same balancer
// is not.
func TestThrottleBehindLoadBalancer(t *testing.T) {
	const lbIP = testNet + "223"
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true),
		edit: func(c *config.Config) { c.SIP.LoadBalancers = []string{lbIP} }})
	lb := newPeer(t, "udp", lbIP, 0, g.addr)
	guesser := sourceHeader + ": udp:192.0.2.66:5060"
	for range 5 {
		if res := register(t, lb, g.addr, "watson", "wrong", "sip:watson@192.0.2.66:5060", 600, guesser); res == nil || res.StatusCode != 403 {
			t.Fatalf("a wrong password was answered %v; want 403", res)
		}
	}
	if res := register(t, lb, g.addr, "watson", "watson-pw", "sip:watson@192.0.2.66:5060", 600, guesser); res == nil || res.StatusCode != 403 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("the guessing address was answered %v; want 403 with Retry-After", res)
	}
	if res := register(t, lb, g.addr, "user", "user-pw", "sip:user@192.0.2.67:5060", 600, sourceHeader+": udp:192.0.2.67:5060"); res == nil || res.StatusCode != 200 {
		t.Fatalf("another phone behind the same balancer was answered %v; want 200", res)
	}
}

// Bindings other guards took: one with a path is rung along it, one over another guard's
// own connection is skipped and counted, an expired one is not rung; this guard's own
// binding of a contact wins over another's; both are counted and listed in a REGISTER's
// answer; a resync replaces them all.
func TestRemoteBindingsRung(t *testing.T) {
	const lbIP = testNet + "224"
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true),
		edit: func(c *config.Config) { c.SIP.LoadBalancers = []string{lbIP} }})
	lb := newPeer(t, "udp", lbIP, 0, g.addr)
	now := time.Now()
	path := mustURI(t, "sip:"+lb.local+";lr;received=sip:192.0.2.88:42000")
	g.SetRemoteBindings("j.user", []Binding{
		{User: "j.user", Contact: mustURI(t, "sip:j.user@10.9.9.9:5060"), Path: []sip.Uri{path}, Expires: now.Add(time.Hour)},
		{User: "j.user", Contact: mustURI(t, "sip:j.user@10.9.9.10:5060;transport=tcp"), Flow: "192.0.2.89:40001", Expires: now.Add(time.Hour)},
		{User: "j.user", Contact: mustURI(t, "sip:j.user@10.9.9.11:5060"), Path: []sip.Uri{path}, Expires: now.Add(-time.Second)},
	})
	if n := g.RegisteredContacts(); n != 2 {
		t.Errorf("registered contacts %d; want the 2 live remote ones", n)
	}
	caller := newPeer(t, "udp", testNet+"46", 0, g.addr)
	caller.send(lbInvite(caller, g.addr, "to-j"))
	inv := nextInvite(t, lb, 3*time.Second)
	if inv == nil {
		t.Fatal("the phone registered through another guard was not rung")
	}
	if inv.Recipient.String() != "sip:j.user@10.9.9.9:5060" || len(routes(inv)) != 1 || routes(inv)[0] != "<"+path.String()+">" {
		t.Errorf("INVITE to %s with Route %q; want to sip:j.user@10.9.9.9:5060 along <%s>", inv.Recipient.String(), routes(inv), path.String())
	}
	for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); {
		if inv := nextInvite(t, lb, time.Until(end)); inv != nil && inv.Recipient.String() != "sip:j.user@10.9.9.9:5060" {
			t.Errorf("an INVITE through the balancer to %s (expired or unreachable)", inv.Recipient.String()) // a resent one to 10.9.9.9 is fine
		}
	}
	if g.UnreachableBindings() < 1 {
		t.Error("the binding over another guard's connection was not counted")
	}

	// j.user registers the first contact through this guard too: rung once, as this guard's.
	direct := newPeer(t, "udp", testNet+"225", 0, g.addr)
	res := register(t, direct, g.addr, "j.user", "j-pw", "sip:j.user@10.9.9.9:5060", 600)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("REGISTER: %v", res)
	}
	var contacts []string
	for _, h := range res.GetHeaders("Contact") {
		contacts = append(contacts, h.Value())
	}
	if len(contacts) != 2 || !strings.Contains(strings.Join(contacts, " "), "10.9.9.10") {
		t.Errorf("the 200 lists %q; want this guard's binding and the other guard's live one", contacts)
	}
	if n := g.RegisteredContacts(); n != 2 {
		t.Errorf("registered contacts %d; want 2 (one here, one elsewhere; the same contact once)", n)
	}
	ts := g.configHome().phones.targets(time.Now())
	var mine []target
	for _, tg := range ts {
		if tg.user == "j.user" {
			mine = append(mine, tg)
		}
	}
	if len(mine) != 1 || len(mine[0].route) != 0 {
		t.Errorf("j.user's targets %+v; want this guard's binding alone (no route)", mine)
	}

	g.ReplaceRemoteBindings(map[string][]Binding{
		"watson": {{User: "watson", Contact: mustURI(t, "sip:watson@10.9.9.20"), Path: []sip.Uri{path}, Expires: now.Add(time.Hour)}},
	})
	if n := g.RegisteredContacts(); n != 2 {
		t.Errorf("after a resync, registered contacts %d; want j.user's here and watson's elsewhere", n)
	}
	if ts := g.homes.Load().config.phones.remote.live("j.user", nil, time.Now()); len(ts) != 0 {
		t.Errorf("after a resync j.user keeps remote bindings %+v", ts)
	}
	g.SetRemoteBindings("watson", nil)
	if n := g.RegisteredContacts(); n != 1 {
		t.Errorf("with watson's remote bindings gone, registered contacts %d; want 1", n)
	}
}

// splitAddresses keeps commas inside quotes and brackets.
func TestPathValues(t *testing.T) {
	got := splitAddresses(`<sip:a.example;lr>, "x, y" <sip:b.example;lr>,<sip:c.example;lr;received=sip:192.0.2.1:5060>`)
	want := []string{`<sip:a.example;lr>`, `"x, y" <sip:b.example;lr>`, `<sip:c.example;lr;received=sip:192.0.2.1:5060>`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("split %q; want %q", got, want)
	}
}

// Kamailio's Path forms (add_path_received, over UDP and with an escaped transport) come back
// out of a Route header as they went in.
func TestPathRoundTrips(t *testing.T) {
	for _, v := range []string{"<sip:127.0.0.3:45070;lr;received=sip:127.0.0.1:45099>", "<sip:192.0.2.3;received=sip:198.51.100.4:1234%3Btransport%3Dtcp;lr>"} {
		req := parseInvite(t, strings.Replace(routeInvite(t, "kitchen", "<sip:kitchen@192.0.2.1>", "192.0.2.3:5060"), "Content-Length", "Path: "+v+"\r\nContent-Length", 1))
		path, err := pathOf(req)
		if err != nil || len(path) != 1 {
			t.Fatalf("Path %s read as %v, %v", v, path, err)
		}
		out := parseInvite(t, routeInvite(t, "kitchen", "<sip:kitchen@192.0.2.1>", "192.0.2.3:5060"))
		target{route: path}.addRoute(out)
		if got := out.GetHeader("Route"); got == nil || got.Value() != v {
			t.Errorf("Path %s went out as Route %v", v, got)
		}
	}
}
