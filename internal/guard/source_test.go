package guard

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/config"
)

// lbInvite is an inbound-looking INVITE for the kitchen phone from caller, sent from p,
// with the X-Clearline-Source headers given.
func lbInvite(p *peer, guardAddr, id string, sources ...string) []byte {
	host := strings.Split(p.local, ":")[0]
	sdp := fmt.Sprintf("v=0\r\no=caller 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", host)
	var hs strings.Builder
	for _, s := range sources {
		hs.WriteString(sourceHeader + ": " + s + "\r\n")
	}
	return fmt.Appendf(nil, "INVITE sip:kitchen@%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-%[4]s\r\n"+
		"From: \"Jean Smith\" <sip:+442085550123@%[2]s>;tag=%[4]s\r\nTo: <sip:kitchen@%[1]s>\r\nCall-ID: %[4]s@test\r\nCSeq: 1 INVITE\r\n"+
		"%[6]sContact: <sip:caller@%[2]s>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %[3]d\r\n\r\n%[5]s",
		guardAddr, p.local, len(sdp), id, sdp, hs.String())
}

// Behind a load balancer the guard takes a request's source from the X-Clearline-Source
// header the balancer adds: the provider's call, which reaches the guard from the
// balancer's address, is routed inbound and rings the phone, with the provider's address on
// its trunk leg. The same header from anyone else is not believed (the call is a stranger's,
// challenged as a phone's), and two of them from the balancer are refused.
func TestSourceBehindLoadBalancer(t *testing.T) {
	const lbIP = testNet + "210" // outside the trunk's 127.0.17.0/25
	phone := startTestPhone(t, true)
	g := startTestGuardOpts(t, guardOpts{phone: phone, edit: func(c *config.Config) { c.SIP.LoadBalancers = []string{lbIP} }})
	trunkAddr := testNet + "2:5080"

	lb := newPeer(t, "udp", lbIP, 0, g.addr)
	lb.send(lbInvite(lb, g.addr, "via-lb", "udp:"+trunkAddr))
	deadline := time.Now().Add(3 * time.Second)
	for len(phone.invites()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the provider's call through the load balancer did not ring the phone")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res, _ := lb.final(3 * time.Second); res == nil || res.StatusCode != 200 {
		t.Fatalf("the provider's call through the load balancer was answered %v; want 200", res)
	}
	live := g.Live()
	if len(live) != 1 || live[0].Direction.String() != "inbound" || len(live[0].Legs) == 0 || live[0].Legs[0].Peer != trunkAddr {
		t.Fatalf("live calls %+v; want one inbound call whose trunk leg is %s", live, trunkAddr)
	}

	stranger := newPeer(t, "udp", testNet+"211", 0, g.addr)
	stranger.send(lbInvite(stranger, g.addr, "forged", "udp:"+trunkAddr))
	if res, _ := stranger.final(3 * time.Second); res == nil || res.StatusCode != 401 {
		t.Fatalf("a stranger naming the provider in %s was answered %v; want a 401 challenge", sourceHeader, res)
	}

	lb.send(lbInvite(lb, g.addr, "two", "udp:"+trunkAddr, "udp:"+testNet+"211:5060"))
	res, _ := lb.final(3 * time.Second)
	if res == nil || res.StatusCode != 400 {
		t.Fatalf("two %s headers from the load balancer were answered %v; want 400", sourceHeader, res)
	}
	if w := res.GetHeader("Warning"); w == nil || !strings.Contains(w.Value(), sourceHeader) {
		t.Errorf("the 400 says %v; want it to name %s", w, sourceHeader)
	}
	lb.send(lbInvite(lb, g.addr, "bad", "udp:somewhere"))
	if res, _ := lb.final(3 * time.Second); res == nil || res.StatusCode != 400 {
		t.Fatalf("a %s that is not proto:ip:port was answered %v; want 400", sourceHeader, res)
	}
	if n := len(phone.invites()); n != 1 {
		t.Errorf("the phone rang %d times; want once (the provider's call alone)", n)
	}
}

// The decision itself: the trunk test uses the header's address from a balancer alone.
func TestDecideBehindLoadBalancer(t *testing.T) {
	g := routeGuard(t, "phones:\n  - user: kitchen\n    password: s3cret\n    contact: sip:kitchen@192.0.2.50:5062\n")
	g.lbs = loadBalancers([]string{"198.51.100.0/29"})
	from := `"Jean Smith" <sip:+442085550123@203.0.113.10>`
	withSource := func(source, header string) *sip.Request {
		raw := routeInvite(t, "02079460100", from, source)
		if header != "" {
			raw = strings.Replace(raw, "Content-Length", sourceHeader+": "+header+"\r\nContent-Length", 1)
		}
		return parseInvite(t, raw)
	}
	for _, tt := range []struct {
		name, source, header string
		inbound              bool
	}{
		{"the provider through the balancer", "198.51.100.3:5060", "udp:203.0.113.10:5060", true},
		{"the provider over TCP through the balancer", "198.51.100.3:5060", "tcp:203.0.113.10:5060", true},
		{"a phone through the balancer", "198.51.100.3:5060", "udp:192.0.2.50:5062", false},
		{"the balancer without the header", "198.51.100.3:5060", "", false},
		{"a stranger naming the provider", "192.0.2.50:5062", "udp:203.0.113.10:5060", false},
		{"the provider itself, no balancer", "203.0.113.10:5060", "", true},
		{"the provider itself, with a header naming a phone", "203.0.113.10:5060", "udp:192.0.2.50:5062", true},
	} {
		r := g.decide(withSource(tt.source, tt.header), time.Now())
		if inbound := !r.auth && r.flow != flowEmergency; inbound != tt.inbound {
			t.Errorf("%s: flow %d auth %v; want inbound %v", tt.name, r.flow, r.auth, tt.inbound)
		}
	}
}

func TestParseSource(t *testing.T) {
	for in, want := range map[string]string{
		"udp:192.0.2.7:5060":        "192.0.2.7:5060",
		"TCP:192.0.2.7:41000":       "192.0.2.7:41000",
		"tls:2001:db8::7:5061":      "[2001:db8::7]:5061",
		"tcp:[2001:db8::7]:5060":    "[2001:db8::7]:5060",
		" udp:192.0.2.7:5060 ":      "192.0.2.7:5060",
		"udp:::ffff:192.0.2.7:5060": "192.0.2.7:5060",
	} {
		if got, err := parseSource(in); err != nil || got != want {
			t.Errorf("parseSource(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "192.0.2.7:5060", "udp:192.0.2.7", "udp:host.example:5060", "udp:192.0.2.7:0",
		"udp:192.0.2.7:70000", "carrier-pigeon:192.0.2.7:5060", "udp:192.0.2.7:5060, udp:192.0.2.8:5060", "udp:fe80::1%eth0:5060"} {
		if got, err := parseSource(bad); err == nil {
			t.Errorf("parseSource(%q) = %q; want an error", bad, got)
		}
	}
}
