package guard

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/stun/v3"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/media"
)

// natGuard is a guard told it is behind NAT, with the provider at a UDP socket the test
// reads (the provider's "public" address for the guard is a loopback address of the test's).
func natGuard(t *testing.T, edit func(*config.Config)) (*testGuard, *net.UDPConn) {
	t.Helper()
	provider, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(testNet + "3")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { provider.Close() })
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), edit: func(c *config.Config) {
		c.Trunk.Address = provider.LocalAddr().String()
		c.SIP.Keepalive = config.Dur(200 * time.Millisecond)
		edit(c)
	}})
	return g, provider
}

// Behind a router: toward the provider the guard's Contact and media address are the
// router's public address, toward the phone its own; it keeps the router's mapping open
// with OPTIONS carrying rport; a STUN server can tell it the public address.
func TestBehindNAT(t *testing.T) {
	const public = testNet + "99"
	t.Run("external address", func(t *testing.T) {
		g, provider := natGuard(t, func(c *config.Config) { c.SIP.ExternalAddress = public })
		sendTorture(t, g, "udp", testNet+"41", tortureMessages(t)["x-audio-only"], 200, func(t testing.TB, g *testGuard, res *sip.Response) {
			if c := res.Contact(); c == nil || c.Address.Host != public {
				t.Errorf("Contact toward the provider %v; want the public address", c)
			}
			if a, err := media.ParseSDP(res.Body()); err != nil || a.Addr.Addr().String() != public {
				t.Errorf("media address toward the provider %v (%v); want the public address", a.Addr, err)
			}
		})
		got := g.phone.invites()
		if len(got) != 1 {
			t.Fatalf("the phone got %d INVITEs", len(got))
		}
		if o, _ := media.ParseSDP(got[0].Body()); o.Addr.Addr().String() != testGuardIP || got[0].Contact().Address.Host != testGuardIP {
			t.Errorf("the phone was given %v and Contact %v; want the guard's own address", o.Addr, got[0].Contact())
		}
		// The keep-alive.
		buf := make([]byte, 4000)
		provider.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := provider.ReadFromUDP(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), "OPTIONS ") || !strings.Contains(string(buf[:n]), ";rport") {
			t.Fatalf("no keep-alive OPTIONS with rport reached the provider (%v):\n%s", err, buf[:n])
		}
		g.waitIdle(t)
	})
	t.Run("STUN", func(t *testing.T) {
		srv := stunServer(t, public)
		g, _ := natGuard(t, func(c *config.Config) { c.SIP.STUN = srv })
		deadline := time.Now().Add(3 * time.Second)
		for {
			if ip, ok := g.publicIP(); ok && ip.String() == public {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the public address the STUN server gave was not taken")
			}
			time.Sleep(20 * time.Millisecond)
		}
		sendTorture(t, g, "udp", testNet+"42", tortureMessages(t)["x-audio-only"], 200, func(t testing.TB, g *testGuard, res *sip.Response) {
			if c := res.Contact(); c == nil || c.Address.Host != public {
				t.Errorf("Contact toward the provider %v; want the address STUN found", c)
			}
		})
		g.waitIdle(t)
	})
}

// stunServer answers STUN Binding requests on loopback, saying they came from mapped.
func stunServer(t *testing.T, mapped string) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(testNet + "4")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil {
				continue
			}
			res, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
				&stun.XORMappedAddress{IP: net.ParseIP(mapped), Port: from.Port}, stun.Fingerprint)
			if err == nil {
				c.WriteToUDP(res.Raw, from)
			}
		}
	}()
	return c.LocalAddr().String()
}
