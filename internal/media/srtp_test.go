package media

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/srtp/v3"

	"github.com/clearline/clearline/internal/call"
)

// callerKey is an SRTP caller's own key and the offer that carries it.
func callerKey(t testing.TB) (Crypto, string) {
	c := Crypto{Tag: "1", Suite: "AES_CM_128_HMAC_SHA1_80", Key: make([]byte, 30)}
	if _, err := rand.Read(c.Key); err != nil {
		t.Fatal(err)
	}
	return c, "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/SAVP 0\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:bm90IGEgc3VpdGUgd2UgcGljayBmaXJzdA\r\n" +
		c.Line() + "\r\na=rtpmap:0 PCMU/8000\r\n"
}

func srtpContext(t testing.TB, c Crypto) *srtp.Context {
	ctx, err := srtp.CreateContext(c.Key[:16], c.Key[16:], suites[c.Suite])
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func voice(seq uint16) []byte {
	p := make([]byte, 12+160)
	p[0], p[1] = 0x80, 0
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[8:], 0xCAFE)
	for i := range 160 {
		p[12+i] = byte(seq) + byte(i)
	}
	return p
}

// An SRTP caller and a plain phone hear each other through the relay, which decrypts the
// caller with the caller's key, encrypts toward it with its own, and hands the tap plain
// RTP; a packet sealed with another key is not relayed.
func TestSRTPOneLeg(t *testing.T) {
	rg := newRig(t, 41700)
	key, offer := callerKey(t)
	o, err := ParseSDP([]byte(offer))
	if err != nil || !o.Secure || len(o.Crypto) != 2 {
		t.Fatalf("offer read as %+v, %v", o, err)
	}
	local, ok, err := rg.s.Secure(call.Trunk, o)
	if err != nil || !ok || local.Suite != "AES_CM_128_HMAC_SHA1_80" || local.Tag != "1" || bytes.Equal(local.Key, key.Key) {
		t.Fatalf("Secure = %+v %v %v", local, ok, err)
	}
	var tapped sync.Map
	rg.s.Tap(call.Trunk, func(p []byte) { tapped.Store(binary.BigEndian.Uint16(p[2:]), bytes.Clone(p)) })
	seal, open := srtpContext(t, key), srtpContext(t, local)
	buf := make([]byte, 2000)
	for seq := uint16(1); seq <= 5; seq++ {
		sealed, err := seal.EncryptRTP(nil, voice(seq), nil)
		if err != nil {
			t.Fatal(err)
		}
		rg.caller.WriteToUDP(sealed, rg.trunk)
		rg.phone.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := rg.phone.ReadFromUDP(buf)
		if err != nil || !bytes.Equal(buf[:n], voice(seq)) {
			t.Fatalf("the phone got %d bytes (%v), not the caller's packet %d in the clear", n, err, seq)
		}
		if p, ok := tapped.Load(seq); !ok || !bytes.Equal(p.([]byte), voice(seq)) {
			t.Errorf("the tap did not get packet %d in the clear", seq)
		}
		rg.phone.WriteToUDP(voice(100+seq), rg.house)
		rg.caller.SetReadDeadline(time.Now().Add(time.Second))
		if n, _, err = rg.caller.ReadFromUDP(buf); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(buf[:n], voice(100+seq)) {
			t.Fatal("the phone's audio reached the SRTP caller in the clear")
		}
		clear, err := open.DecryptRTP(nil, buf[:n], nil)
		if err != nil || !bytes.Equal(clear, voice(100+seq)) {
			t.Fatalf("the caller cannot open the phone's packet with the guard's key: %v", err)
		}
	}
	// Sealed with some other key: dropped.
	other, _ := callerKey(t)
	forged, _ := srtpContext(t, other).EncryptRTP(nil, voice(9), nil)
	rg.caller.WriteToUDP(forged, rg.trunk)
	rg.phone.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, _, err := rg.phone.ReadFromUDP(buf); err == nil {
		t.Error("a packet under another key was relayed")
	}
}

// What the other side is offered is plain RTP; what the SRTP side is answered carries the
// guard's key.
func TestSDESDescriptions(t *testing.T) {
	_, offer := callerKey(t)
	plain := string(Plain(RewriteSDP([]byte(offer), netip.MustParseAddr("127.0.0.1"), 20000)))
	if !strings.Contains(plain, "m=audio 20000 RTP/AVP 0") || strings.Contains(plain, "a=crypto") {
		t.Errorf("offer to the plain side:\n%s", plain)
	}
	local := Crypto{Tag: "1", Suite: "AES_CM_128_HMAC_SHA1_80", Key: bytes.Repeat([]byte{7}, 30)}
	ans := string(Secured([]byte(plain), local))
	if !strings.Contains(ans, "m=audio 20000 RTP/SAVP 0\r\n"+local.Line()+"\r\n") || strings.Count(ans, "a=crypto") != 1 {
		t.Errorf("answer to the SRTP side:\n%s", ans)
	}
	if a, err := ParseSDP([]byte(ans)); err != nil || !a.Secure || len(a.Crypto) != 1 || !bytes.Equal(a.Crypto[0].Key, local.Key) {
		t.Errorf("the answer reads back as %+v, %v", a, err)
	}
	if _, err := ParseSDP([]byte(strings.ReplaceAll(offer, "a=crypto", "a=x-crypto"))); err == nil {
		t.Error("SRTP without SDES keys was taken")
	}
}

// BenchmarkRelaySRTP is BenchmarkRelay's relay with the caller's side on SRTP: each packet
// decrypted (and its tag checked) on the way in, the reply direction sealed — against
// plain RTP through the same relay, in the same run.
func BenchmarkRelaySRTP(b *testing.B) {
	for _, secure := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "srtp"}[secure], func(b *testing.B) {
			var n counter
			s, err := NewRelay(netip.MustParseAddr("127.0.0.1"), 41800, 41900, &n).Open()
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			a, c := peer(b), peer(b)
			s.SetRemote(call.Household, addrPort(c))
			pkt := voice(1)
			var seal *srtp.Context
			if secure {
				key, offer := callerKey(b)
				o, _ := ParseSDP([]byte(offer))
				if _, _, err := s.Secure(call.Trunk, o); err != nil {
					b.Fatal(err)
				}
				seal = srtpContext(b, key)
			}
			via := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port(call.Trunk)}
			buf, out := make([]byte, 2000), make([]byte, 2000)
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			seq := uint16(0)
			for b.Loop() {
				seq++
				binary.BigEndian.PutUint16(pkt[2:], seq)
				send := pkt
				if seal != nil {
					send, _ = seal.EncryptRTP(out[:0], pkt, nil)
				}
				if _, err := a.WriteToUDP(send, via); err != nil {
					b.Fatal(err)
				}
				c.SetReadDeadline(time.Now().Add(time.Second))
				if _, _, err := c.ReadFromUDP(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSRTPOpenSeal is the relay's added work for one packet between an SRTP side and
// another SRTP side: open it with one key, seal it with another (for a plain other side
// only the first half is done).
func BenchmarkSRTPOpenSeal(b *testing.B) {
	key, offer := callerKey(b)
	o, _ := ParseSDP([]byte(offer))
	local := Crypto{Tag: "1", Suite: key.Suite, Key: bytes.Repeat([]byte{3}, 30)}
	leg, err := newSecureLeg(o.Crypto[1], local)
	if err != nil {
		b.Fatal(err)
	}
	seal := srtpContext(b, key)
	const ring = 1 << 15
	sealed := make([][]byte, ring)
	for i := range sealed {
		sealed[i], _ = seal.EncryptRTP(nil, voice(uint16(i)), nil)
	}
	clear, out := make([]byte, 2000), make([]byte, 2000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == ring { // the replay window would refuse the ring's second turn: a new leg
			b.StopTimer()
			leg, _ = newSecureLeg(o.Crypto[1], local)
			i = 0
			b.StartTimer()
		}
		p, err := leg.open(clear[:0], sealed[i])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := leg.seal(out[:0], p); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
