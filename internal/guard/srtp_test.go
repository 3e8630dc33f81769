package guard

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/srtp/v3"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/media"
)

// A provider's call offering SRTP (SDES) reaches a plain phone as plain RTP, the provider
// is answered with SRTP and the guard's key, and audio flows both ways: encrypted on the
// provider's leg, in the clear on the phone's.
func TestSRTPCallBothWays(t *testing.T) {
	g := startTestGuard(t, "")
	phoneMedia, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(testGuardIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer phoneMedia.Close()
	g.phone.mediaPort.Store(int32(phoneMedia.LocalAddr().(*net.UDPAddr).Port))
	callerIP := testNet + "40"
	callerMedia, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(callerIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer callerMedia.Close()
	key := make([]byte, 30)
	rand.Read(key)
	sdp := fmt.Sprintf("v=0\r\no=ann 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/SAVP 0\r\n"+
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\na=rtpmap:0 PCMU/8000\r\n",
		callerIP, callerIP, callerMedia.LocalAddr().(*net.UDPAddr).Port, base64.StdEncoding.EncodeToString(key))
	msg := tortureMessages(t)["x-audio-only"]
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	head = []byte(strings.Replace(string(head), "Content-Length: 174", fmt.Sprintf("Content-Length: %d", len(sdp)), 1))
	invite := append(append(head, "\r\n\r\n"...), sdp...)

	p := newPeer(t, "udp", callerIP, 0, g.addr)
	p.send(invite)
	res, _ := p.final(3 * time.Second)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("answered %v", res)
	}
	defer acknowledge(t, p, "udp", res)
	ans, err := media.ParseSDP(res.Body())
	if err != nil || !ans.Secure || len(ans.Crypto) != 1 || bytes.Equal(ans.Crypto[0].Key, key) {
		t.Fatalf("the provider's answer is not SRTP with the guard's own key: %+v %v\n%s", ans, err, res.Body())
	}
	got := g.phone.invites()
	if len(got) != 1 || strings.Contains(string(got[0].Body()), "a=crypto") || !strings.Contains(string(got[0].Body()), "RTP/AVP") {
		t.Fatalf("the phone was offered:\n%s", got[0].Body())
	}
	toPhone, _ := media.ParseSDP(got[0].Body())

	seal, _ := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	open, _ := srtp.CreateContext(ans.Crypto[0].Key[:16], ans.Crypto[0].Key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	buf := make([]byte, 2000)
	for seq := uint16(1); seq <= 5; seq++ {
		pkt := make([]byte, 172)
		pkt[0] = 0x80
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[8:], 0xA11CE)
		pkt[20] = byte(seq)
		sealed, _ := seal.EncryptRTP(nil, pkt, nil)
		callerMedia.WriteToUDP(sealed, net.UDPAddrFromAddrPort(ans.Addr))
		phoneMedia.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := phoneMedia.ReadFromUDP(buf)
		if err != nil || !bytes.Equal(buf[:n], pkt) {
			t.Fatalf("packet %d: the phone got %d bytes (%v), not the caller's audio in the clear", seq, n, err)
		}
		reply := bytes.Clone(pkt)
		binary.BigEndian.PutUint32(reply[8:], 0xB0B)
		phoneMedia.WriteToUDP(reply, net.UDPAddrFromAddrPort(toPhone.Addr))
		callerMedia.SetReadDeadline(time.Now().Add(time.Second))
		if n, _, err = callerMedia.ReadFromUDP(buf); err != nil {
			t.Fatal(err)
		}
		clear, err := open.DecryptRTP(nil, buf[:n], nil)
		if err != nil || !bytes.Equal(clear, reply) {
			t.Fatalf("packet %d: the caller cannot open the phone's audio with the guard's key: %v", seq, err)
		}
	}
}

// With trunk.srtp the guard offers the provider SRTP on a phone's call out, takes the
// provider's key from its answer, and the provider's encrypted audio reaches the phone in
// the clear.
func TestSRTPOfferedToTheProvider(t *testing.T) {
	provider := startPeerUAS(t, testNet+"2", true, false, nil)
	provider.srtpKey = make([]byte, 30)
	rand.Read(provider.srtpKey)
	providerMedia, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(testNet + "2")})
	if err != nil {
		t.Fatal(err)
	}
	defer providerMedia.Close()
	provider.mediaPort.Store(int32(providerMedia.LocalAddr().(*net.UDPAddr).Port))
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), edit: func(c *config.Config) {
		c.Trunk.Address, c.Trunk.SRTP = provider.addr, true
	}})
	phoneIP := testNet + "160"
	phoneMedia, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(phoneIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer phoneMedia.Close()
	p := newPeer(t, "udp", phoneIP, 0, g.addr)
	invite := func(cseq int, auth string) []byte {
		return bytes.Replace(outbound("udp", p.local, g.addr, "01632960999", cseq, auth), []byte("m=audio 6400 "),
			fmt.Appendf(nil, "m=audio %d ", phoneMedia.LocalAddr().(*net.UDPAddr).Port), 1)
	}
	p.send(invite(1, ""))
	chal, _ := p.final(3 * time.Second)
	if chal == nil || chal.StatusCode != 401 {
		t.Fatalf("challenge: %v", chal)
	}
	acknowledge(t, p, "udp", chal)
	p.send(invite(2, digestAuth(chal, "INVITE", "sip:01632960999@"+g.addr, "kitchen", "s3cret")))
	res, _ := p.final(5 * time.Second)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the call answered %v", res)
	}
	defer acknowledge(t, p, "udp", res)
	if a, _ := media.ParseSDP(res.Body()); a.Secure {
		t.Errorf("the phone was answered with SRTP:\n%s", res.Body())
	}
	got := provider.invites()
	if len(got) != 1 {
		t.Fatalf("the provider got %d INVITEs", len(got))
	}
	offer, err := media.ParseSDP(got[0].Body())
	if err != nil || !offer.Secure || len(offer.Crypto) != 1 {
		t.Fatalf("the provider was offered:\n%s", got[0].Body())
	}
	seal, _ := srtp.CreateContext(provider.srtpKey[:16], provider.srtpKey[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	open, _ := srtp.CreateContext(offer.Crypto[0].Key[:16], offer.Crypto[0].Key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	toPhone, _ := media.ParseSDP(res.Body())
	buf := make([]byte, 2000)
	for seq := uint16(1); seq <= 3; seq++ {
		pkt := make([]byte, 172)
		pkt[0] = 0x80
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[8:], 0x5B)
		sealed, _ := seal.EncryptRTP(nil, pkt, nil)
		providerMedia.WriteToUDP(sealed, net.UDPAddrFromAddrPort(offer.Addr))
		phoneMedia.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := phoneMedia.ReadFromUDP(buf)
		if err != nil || !bytes.Equal(buf[:n], pkt) {
			t.Fatalf("packet %d: the phone got %d bytes (%v), not the provider's audio in the clear", seq, n, err)
		}
		reply := bytes.Clone(pkt)
		binary.BigEndian.PutUint32(reply[8:], 0x7E1)
		phoneMedia.WriteToUDP(reply, net.UDPAddrFromAddrPort(toPhone.Addr))
		providerMedia.SetReadDeadline(time.Now().Add(time.Second))
		if n, _, err = providerMedia.ReadFromUDP(buf); err != nil {
			t.Fatal(err)
		}
		if clear, err := open.DecryptRTP(nil, buf[:n], nil); err != nil || !bytes.Equal(clear, reply) {
			t.Fatalf("packet %d: the provider cannot open the phone's audio with the guard's offered key: %v", seq, err)
		}
	}
}
