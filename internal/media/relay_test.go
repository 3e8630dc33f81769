package media

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
)

type counter struct{ open, packets atomic.Int64 }

func (c *counter) SessionOpened()     { c.open.Add(1) }
func (c *counter) SessionClosed()     { c.open.Add(-1) }
func (c *counter) Packet(_ call.Side) { c.packets.Add(1) }

func rtp(seq byte) []byte {
	p := make([]byte, 172)
	p[0], p[3] = 0x80, seq
	return p
}

// peer is an RTP endpoint on loopback.
func peer(t testing.TB) *net.UDPConn {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrPort(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// rig is a relay session between a caller and a phone, both real sockets on loopback.
type rig struct {
	s             *Session
	n             *counter
	caller, phone *net.UDPConn
	trunk, house  *net.UDPAddr // the relay's ports facing each side
}

func newRig(t *testing.T, lo int) *rig {
	t.Helper()
	n := &counter{}
	s, err := NewRelay(netip.MustParseAddr("127.0.0.1"), lo, lo+100, n).Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	r := &rig{s: s, n: n, caller: peer(t), phone: peer(t)}
	s.SetRemote(call.Trunk, addrPort(r.caller))
	s.SetRemote(call.Household, addrPort(r.phone))
	r.trunk = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port(call.Trunk)}
	r.house = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port(call.Household)}
	return r
}

func TestRelayBothWaysAndStop(t *testing.T) {
	rg := newRig(t, 41000)
	s, n, caller, phone, trunkPort, housePort := rg.s, rg.n, rg.caller, rg.phone, rg.trunk, rg.house

	// expect sends a packet to the relay's port via and checks whether it reaches to from
	// the relay's other port, out.
	expect := func(from, to *net.UDPConn, via, out *net.UDPAddr, seq byte, arrive bool) {
		t.Helper()
		from.WriteToUDP(rtp(seq), via)
		buf := make([]byte, 2000)
		to.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		nr, src, err := to.ReadFromUDP(buf)
		switch {
		case arrive && err != nil:
			t.Fatalf("packet %d not relayed: %v", seq, err)
		case arrive && (nr != 172 || buf[3] != seq):
			t.Fatalf("packet %d arrived changed", seq)
		case arrive && src.Port != out.Port:
			t.Fatalf("packet %d came from port %d, not the relay's other port", seq, src.Port)
		case !arrive && err == nil:
			t.Fatalf("packet %d relayed after its side was stopped", seq)
		}
	}
	expect(caller, phone, trunkPort, housePort, 1, true)
	expect(phone, caller, housePort, trunkPort, 2, true)
	if s.Packets(call.Trunk) != 1 || s.Packets(call.Household) != 1 {
		t.Errorf("packets = %d/%d", s.Packets(call.Trunk), s.Packets(call.Household))
	}
	s.Stop(call.Trunk)
	expect(phone, caller, housePort, trunkPort, 3, false)
	expect(caller, phone, trunkPort, housePort, 4, false)
	s.Close()
	if n.open.Load() != 0 {
		t.Errorf("sessions open after close: %d", n.open.Load())
	}
}

func TestRelayRunsOutOfPortsAndRecovers(t *testing.T) {
	var n counter
	r := NewRelay(netip.MustParseAddr("127.0.0.1"), 41200, 41203, &n) // four ports, two pairs: one session
	s, err := r.Open()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Open(); err != ErrNoPorts {
		t.Fatalf("second session: %v; want ErrNoPorts", err)
	}
	s.Close()
	s, err = r.Open()
	if err != nil {
		t.Fatalf("ports not reused after close: %v", err)
	}
	s.Close()
}

// BenchmarkRelay measures one direction of relaying against a plain UDP echo of the same
// packets between two sockets (the baseline: what the kernel costs without the relay).
func BenchmarkRelay(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		a, c := peer(b), peer(b)
		benchPackets(b, a, c, c.LocalAddr().(*net.UDPAddr))
	})
	b.Run("relay", func(b *testing.B) {
		var n counter
		r := NewRelay(netip.MustParseAddr("127.0.0.1"), 41300, 41400, &n)
		s, err := r.Open()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		a, c := peer(b), peer(b)
		s.SetRemote(call.Household, addrPort(c))
		benchPackets(b, a, c, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port(call.Trunk)})
	})
}

func benchPackets(b *testing.B, from, to *net.UDPConn, via *net.UDPAddr) {
	pkt := rtp(1)
	buf := make([]byte, 2000)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := from.WriteToUDP(pkt, via); err != nil {
			b.Fatal(err)
		}
		to.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := to.ReadFromUDP(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRelayBurst is BenchmarkRelay with burst packets in flight at once: the sender
// writes a burst, then the receiver reads it back, directly between two sockets (the kernel's
// cost) or through the relay's two sockets. One op is one burst; ns/packet and cpu-ns/packet
// (the whole process's CPU, from getrusage, so the relay's goroutine counts) divide by the
// packets. A lost or reordered packet fails the benchmark.
func BenchmarkRelayBurst(b *testing.B) {
	for _, path := range []string{"direct", "relay"} {
		b.Run(path, func(b *testing.B) {
			for _, burst := range []int{1, 16, 64} {
				b.Run(fmt.Sprintf("burst=%d", burst), func(b *testing.B) {
					a, c := peer(b), peer(b)
					via := c.LocalAddr().(*net.UDPAddr)
					if path == "relay" {
						var n counter
						s, err := NewRelay(netip.MustParseAddr("127.0.0.1"), 43200, 43300, &n).Open()
						if err != nil {
							b.Fatal(err)
						}
						defer s.Close()
						s.SetRemote(call.Household, addrPort(c))
						via = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port(call.Trunk)}
					}
					benchBurst(b, a, c, via, burst)
				})
			}
		})
	}
}

func benchBurst(b *testing.B, from, to *net.UDPConn, via *net.UDPAddr, burst int) {
	pkts := make([][]byte, burst)
	for i := range pkts {
		pkts[i] = rtp(byte(i))
	}
	dst := via.AddrPort()
	buf := make([]byte, 2000)
	var before, after syscall.Rusage
	var mBefore, mAfter runtime.MemStats
	b.ReportAllocs()
	b.SetBytes(int64(burst * len(pkts[0])))
	runtime.ReadMemStats(&mBefore)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		for _, p := range pkts {
			if _, err := from.WriteToUDPAddrPort(p, dst); err != nil {
				b.Fatal(err)
			}
		}
		to.SetReadDeadline(time.Now().Add(time.Second))
		for i := range burst {
			n, _, err := to.ReadFromUDPAddrPort(buf) // allocates nothing: allocs/packet are the relay's
			if err != nil {
				b.Fatalf("packet %d of %d lost: %v", i+1, burst, err)
			}
			if n != len(pkts[i]) || buf[3] != byte(i) {
				b.Fatalf("packet %d of %d arrived as %d bytes numbered %d", i+1, burst, n, buf[3])
			}
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	runtime.ReadMemStats(&mAfter)
	packets := float64(b.N * burst)
	cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/packets, "ns/packet")
	b.ReportMetric(float64(cpu)/packets, "cpu-ns/packet")
	b.ReportMetric(float64(mAfter.Mallocs-mBefore.Mallocs)/packets, "allocs/packet")
}

// A prompt reaches only the side it is played to, as paced RTP; the relay sends nothing
// else to that side meanwhile.
func TestPlayPromptToOneSide(t *testing.T) {
	rg := newRig(t, 41500)
	s, caller, phone := rg.s, rg.caller, rg.phone
	prompt := make([]byte, 160*5+40) // six packets, the last short
	for i := range prompt {
		prompt[i] = 0xFF // mu-law silence
	}
	done := make(chan error, 1)
	go func() { done <- s.Play(context.Background(), call.Household, prompt, PCMA) }()
	buf := make([]byte, 2000)
	var lastSeq uint16
	for i := range 6 {
		phone.SetReadDeadline(time.Now().Add(time.Second))
		nr, _, err := phone.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("packet %d of the prompt: %v", i, err)
		}
		if i == 0 {
			// The prompt is playing: the caller talks and the phone echoes; neither may cross.
			caller.WriteToUDP(rtp(9), rg.trunk)
			phone.WriteToUDP(rtp(10), rg.house)
		}
		if buf[1]&0x7f != PCMA || (i == 0) != (buf[1]&0x80 != 0) {
			t.Errorf("packet %d: payload type/marker byte %#x", i, buf[1])
		}
		if want := 12 + min(160, len(prompt)-160*i); nr != want {
			t.Errorf("packet %d is %d bytes; want %d", i, nr, want)
		}
		if buf[12] != 0xD5 { // mu-law silence 0xFF is A-law 0xD5
			t.Errorf("packet %d not transcoded to A-law: %#x", i, buf[12])
		}
		seq := uint16(buf[2])<<8 | uint16(buf[3])
		if i > 0 && seq != lastSeq+1 {
			t.Errorf("sequence %d after %d", seq, lastSeq)
		}
		lastSeq = seq
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	phone.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, _, err := phone.ReadFromUDP(buf); err == nil {
		t.Error("the phone got a packet beyond the prompt (the caller's, relayed during it?)")
	}
	caller.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, _, err := caller.ReadFromUDP(buf); err == nil {
		t.Error("the caller heard something of the prompt")
	}
}

func rtcpReport(seq byte) []byte {
	p := make([]byte, 28)
	p[0], p[1], p[3] = 0x81, 200, 6 // version 2, one report block, sender report, length
	p[27] = seq
	return p
}

// RTCP goes between the odd ports above the RTP ports, to each side's RTCP address (the
// port above its RTP port, or what a=rtcp said), and stops with the side.
func TestRelayCarriesRTCP(t *testing.T) {
	rg := newRig(t, 41500)
	callerCtl, phoneCtl := peer(t), peer(t)
	// The caller's RTCP is at the port above its RTP (bind it there if free), the phone's
	// where its a=rtcp says.
	rg.s.SetRemoteOffer(call.Trunk, Offer{Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(callerCtl.LocalAddr().(*net.UDPAddr).Port-1))})
	rg.s.SetRemoteOffer(call.Household, Offer{Addr: addrPort(rg.phone), RTCP: addrPort(phoneCtl)})
	trunkCtl := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rg.s.Port(call.Trunk) + 1}
	houseCtl := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rg.s.Port(call.Household) + 1}
	expect := func(from, to *net.UDPConn, via *net.UDPAddr, pkt []byte, arrive bool) {
		t.Helper()
		from.WriteToUDP(pkt, via)
		buf := make([]byte, 2000)
		to.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := to.ReadFromUDP(buf)
		switch {
		case arrive && (err != nil || n != len(pkt) || buf[27] != pkt[27]):
			t.Fatalf("RTCP %d not relayed intact: %v", pkt[27], err)
		case !arrive && err == nil:
			t.Fatalf("RTCP %d relayed; it should not be", pkt[27])
		}
	}
	expect(callerCtl, phoneCtl, trunkCtl, rtcpReport(1), true)
	expect(phoneCtl, callerCtl, houseCtl, rtcpReport(2), true)
	expect(phoneCtl, callerCtl, houseCtl, rtp(3), false) // RTP on the RTCP port is not RTCP
	rg.s.Stop(call.Household)
	expect(callerCtl, phoneCtl, trunkCtl, rtcpReport(4), false)
}

func TestSDPRTCPAttribute(t *testing.T) {
	for _, tc := range []struct {
		attr, want string
		bad        bool
	}{
		{"", "invalid AddrPort", false},
		{"a=rtcp:53020\r\n", "192.0.2.10:53020", false},
		{"a=rtcp:53020 IN IP4 198.51.100.7\r\n", "198.51.100.7:53020", false},
		{"a=rtcp:many\r\n", "", true},
	} {
		body := "v=0\r\no=a 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n" + tc.attr
		o, err := ParseSDP([]byte(body))
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "a=rtcp") {
				t.Errorf("%q: err %v; want one naming a=rtcp", tc.attr, err)
			}
			continue
		}
		if err != nil || o.RTCP.String() != tc.want {
			t.Errorf("%q: RTCP %v, err %v; want %s", tc.attr, o.RTCP, err, tc.want)
		}
	}
}

// With RTCP off a call takes two ports, and the odd ones stay free.
func TestRelayWithoutRTCP(t *testing.T) {
	var n counter
	r := NewRelay(netip.MustParseAddr("127.0.0.1"), 41600, 41603, &n)
	r.NoRTCP = true
	s, err := r.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, sd := range []call.Side{call.Trunk, call.Household} {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port(sd) + 1})
		if err != nil {
			t.Errorf("the port above %v's RTP port is bound with RTCP off: %v", sd, err)
			continue
		}
		c.Close()
	}
}

// Symmetric RTP: the relay sends to where a side's audio really comes from when that is the
// address its description gave on another port, or an address the provider owns — never to
// a stranger that sends first.
func TestLatch(t *testing.T) {
	rg := newRig(t, 41600)
	rg.s.Latch(call.Trunk, func(ip netip.Addr) bool { return ip == netip.MustParseAddr("127.0.0.3") })
	buf := make([]byte, 2000)
	// send injects a packet on the trunk side and waits until the relay has passed it on.
	send := func(c *net.UDPConn, seq byte) {
		c.WriteToUDP(rtp(seq), rg.trunk)
		rg.phone.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := rg.phone.ReadFromUDP(buf); err != nil {
			t.Fatalf("packet %d not relayed: %v", seq, err)
		}
	}
	hears := func(c *net.UDPConn) bool {
		rg.phone.WriteToUDP(rtp(7), rg.house)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, _, err := c.ReadFromUDP(buf)
		return err == nil
	}
	// A stranger on another address sends first: nothing goes to it.
	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	send(stranger, 1)
	if hears(stranger) || !hears(rg.caller) {
		t.Fatal("a stranger's packet moved the caller's audio")
	}
	// The caller's router sends from another port: the audio follows it.
	moved := peer(t)
	send(moved, 2)
	if !hears(moved) {
		t.Fatal("the audio did not follow the caller to its new port")
	}
	// The provider's other address may take the call's media over.
	sbc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	defer sbc.Close()
	send(sbc, 3)
	if !hears(sbc) {
		t.Fatal("the audio did not follow the provider's media server")
	}
}

// An RFC 2543 hold (c=IN IP4 0.0.0.0) stops what is sent to that side; it is never sent to
// this host's own ports.
func TestOldStyleHoldSendsNothing(t *testing.T) {
	rg := newRig(t, 41950)
	o, err := ParseSDP([]byte(strings.ReplaceAll(offer, "192.0.2.10", "0.0.0.0")))
	if err != nil {
		t.Fatal(err)
	}
	rg.s.SetRemoteOffer(call.Household, o)
	rg.caller.WriteToUDP(rtp(1), rg.trunk)
	buf := make([]byte, 2000)
	rg.phone.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, _, err := rg.phone.ReadFromUDP(buf); err == nil {
		t.Error("audio still reached the held side")
	}
	if n := rg.s.Relayed(); n != 0 {
		t.Errorf("%d packets relayed to a held side", n)
	}
}
