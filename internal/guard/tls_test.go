package guard

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/testutil/testpki"
)

var (
	pkiOnce   sync.Once
	pkiShared *testpki.PKI
	pkiErr    error
)

// testCA makes (once per test binary) the test's authority, and its certificate for the
// test's hosts: the guard and its phone on 127.0.17.1, the provider on 127.0.17.2 and as
// provider.example.
func testCA(t testing.TB) *testpki.PKI {
	t.Helper()
	pkiOnce.Do(func() { pkiShared, pkiErr = makePKI("clearline test CA", os.TempDir()) })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiShared
}

func makePKI(name, parent string) (*testpki.PKI, error) {
	return testpki.New(name, parent, []string{testGuardIP, testNet + "2"}, "provider.example")
}

// tlsGuard is a guard listening for TLS with the test's certificate, its phone reached
// over TLS, and the provider (a TLS-only stand-in) reached over TLS, checked against ca.
func tlsGuard(t testing.TB, ca string) (*testGuard, *testPhone) {
	t.Helper()
	pk := testCA(t)
	phone := startPeerUAS(t, testGuardIP, false, false, pk.TLS)
	provider := startPeerUAS(t, testNet+"2", false, false, pk.TLS)
	tlsPort := freeSIPPort(t, testGuardIP)
	g := startTestGuardOpts(t, guardOpts{phone: phone, phoneURI: "sip:kitchen@" + phone.addr + ";transport=tls", edit: func(c *config.Config) {
		c.SIP.TLSListen = fmt.Sprintf("%s:%d", testGuardIP, tlsPort)
		c.SIP.TLSCert, c.SIP.TLSKey = pk.CertFile, pk.KeyFile
		c.Trunk.Address, c.Trunk.Transport = provider.addr, "tls"
		c.Trunk.TLSCA, c.Trunk.TLSServerName = ca, "provider.example"
	}})
	g.tlsAddr = fmt.Sprintf("%s:%d", testGuardIP, tlsPort)
	return g, provider
}

// outbound is a phone's INVITE to number through the guard, over network from addr.
func outbound(network, from, guard, number string, cseq int, auth string) []byte {
	host, port, _ := net.SplitHostPort(from)
	sdp := "v=0\r\no=kitchen 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host + "\r\nt=0 0\r\nm=audio 6400 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n"
	if auth != "" {
		auth = "Authorization: " + auth + "\r\n"
	}
	return fmt.Appendf(nil, "INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/%s %s;rport;branch=z9hG4bK-out-%d\r\n"+
		"From: <sip:kitchen@%s>;tag=kitchen-%s\r\nTo: <sip:%s@%s>\r\nCall-ID: out-%s-%s@%s\r\nCSeq: %d INVITE\r\n"+
		"Contact: <sip:kitchen@%s;transport=%s>\r\nMax-Forwards: 70\r\n%sContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		number, guard, strings.ToUpper(network), from, cseq, guard, number, number, guard, number, port, host, cseq,
		from, network, auth, len(sdp), sdp)
}

// SIP over TLS both ways, with certificates the test made: the provider's call reaches the
// phone over TLS, the phone's call reaches the provider over TLS (its certificate checked
// against trunk.tls_ca under trunk.tls_server_name), and 999 over TLS goes straight through.
func TestTLS(t *testing.T) {
	pk := testCA(t)
	t.Run("inbound", func(t *testing.T) {
		g, _ := tlsGuard(t, pk.CAFile)
		sendTorture(t, &testGuard{Guard: g.Guard, addr: g.tlsAddr, phone: g.phone}, "tls", testNet+"20", tortureMessages(t)["x-audio-only"], 200, nil)
		if got := g.phone.invites(); len(got) != 1 || got[0].Transport() != "TLS" {
			t.Fatalf("the phone got %v", got)
		}
		g.waitIdle(t)
	})
	t.Run("outbound", func(t *testing.T) {
		g, provider := tlsGuard(t, pk.CAFile)
		p := newPeer(t, "udp", testNet+"150", 0, g.addr)
		p.send(outbound("udp", p.local, g.addr, "01632960999", 1, ""))
		chal, _ := p.final(3 * time.Second)
		if chal == nil || chal.StatusCode != 401 {
			t.Fatalf("challenge: %v", chal)
		}
		acknowledge(t, p, "udp", chal)
		p.send(outbound("udp", p.local, g.addr, "01632960999", 2, digestAuth(chal, "INVITE", "sip:01632960999@"+g.addr, "kitchen", "s3cret")))
		res, _ := p.final(5 * time.Second)
		if res == nil || res.StatusCode != 200 {
			t.Fatalf("the call answered %v", res)
		}
		acknowledge(t, p, "udp", res)
		if got := provider.invites(); len(got) != 1 || got[0].Transport() != "TLS" || !strings.HasPrefix(got[0].Recipient.User, "01632960999") {
			t.Fatalf("the provider got %v", got)
		}
		g.waitIdle(t)
	})
	t.Run("999 over TLS", func(t *testing.T) {
		g, provider := tlsGuard(t, pk.CAFile)
		p := newPeer(t, "tls", testNet+"151", 0, g.tlsAddr)
		p.send(outbound("tls", p.local, g.tlsAddr, "999", 1, ""))
		res, _ := p.final(5 * time.Second)
		if res == nil || res.StatusCode != 200 {
			t.Fatalf("999 answered %v", res)
		}
		acknowledge(t, p, "tls", res)
		if got := provider.invites(); len(got) != 1 || got[0].Recipient.User != "999" {
			t.Fatalf("the provider got %v", got)
		}
		g.waitIdle(t)
	})
	t.Run("a provider the CA does not vouch for is not called", func(t *testing.T) {
		other, err := makePKI("another CA", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		g, provider := tlsGuard(t, other.CAFile)
		p := newPeer(t, "tls", testNet+"152", 0, g.tlsAddr)
		p.send(outbound("tls", p.local, g.tlsAddr, "999", 1, ""))
		res, _ := p.final(5 * time.Second)
		if res == nil || res.StatusCode < 400 {
			t.Fatalf("answered %v; want a refusal", res)
		}
		acknowledge(t, p, "tls", res)
		if got := provider.invites(); len(got) != 0 {
			t.Fatalf("the provider got %d INVITEs over a connection it could not prove", len(got))
		}
	})
}

// BenchmarkCallSetup times a call's setup — the caller's INVITE to its 200 OK, through the
// guard to the phone and back — one call at a time, over UDP and over TLS in the same run:
// over TLS on a connection the caller keeps (as a registered phone does), on a new
// connection per call resuming its TLS session (RFC 8446 §2.2), and on a new connection
// with a full handshake every call. The guard's own connection to the phone is kept from
// call to call. setup-µs is the median; go test -run '^$' -bench CallSetup ./internal/guard
func BenchmarkCallSetup(b *testing.B) {
	msg := tortureMessagesFor(b)["x-audio-only"]
	for _, mode := range []string{"udp", "tls-kept", "tls-resumed", "tls-handshake"} {
		b.Run(mode, func(b *testing.B) {
			g, addr, network := startTestGuard(b, ""), "", "udp"
			if mode != "udp" {
				g, _ = tlsGuard(b, testCA(b).CAFile)
				addr, network = g.tlsAddr, "tls"
			} else {
				addr = g.addr
			}
			var kept *peer
			switch mode {
			case "udp":
				kept = newPeer(b, "udp", testNet+"30", 0, addr)
			case "tls-kept":
				kept = newPeer(b, "tls", testNet+"30", 0, addr)
			}
			setups := make([]time.Duration, 0, b.N)
			for i := range b.N {
				call := []byte(strings.NewReplacer("xaudio@research", fmt.Sprintf("bench%d@research", i),
					"z9hG4bK-xaudio", fmt.Sprintf("z9hG4bK-bench%d", i), "ann-xaudio", fmt.Sprintf("ann-bench%d", i)).Replace(string(msg)))
				start := time.Now()
				p := kept
				switch mode {
				case "tls-resumed":
					p = newPeer(b, "tls-resumed", testNet+"31", 0, addr)
				case "tls-handshake":
					p = newPeer(b, "tls", testNet+"31", 0, addr)
				}
				p.send(call)
				res, _ := p.final(5 * time.Second)
				setups = append(setups, time.Since(start))
				if res == nil || res.StatusCode != 200 {
					b.Fatalf("call %d answered %v", i, res)
				}
				acknowledge(b, p, network, res)
				if p != kept {
					p.close()
				}
				g.waitIdle(b) // the next call finds the relay's ports free
			}
			slices.Sort(setups)
			b.ReportMetric(float64(setups[len(setups)/2].Microseconds()), "setup-µs")
		})
	}
}
