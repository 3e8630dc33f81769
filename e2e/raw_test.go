package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/config"
)

// rawPeer speaks SIP by hand over UDP, for messages no real peer would send.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
	to   *net.UDPAddr
}

func newRawPeer(t *testing.T, ip, guardAddr string) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	to, err := net.ResolveUDPAddr("udp", guardAddr)
	if err != nil {
		t.Fatal(err)
	}
	return &rawPeer{t: t, conn: c, to: to}
}

func (p *rawPeer) addr() string { return p.conn.LocalAddr().String() }

// exchange sends msg and returns the first final response, or "" if none comes in time.
func (p *rawPeer) exchange(msg string, wait time.Duration) string {
	p.t.Helper()
	if _, err := p.conn.WriteToUDP([]byte(msg), p.to); err != nil {
		p.t.Fatal(err)
	}
	buf := make([]byte, 8192)
	deadline := time.Now().Add(wait)
	for {
		p.conn.SetReadDeadline(deadline)
		n, _, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return ""
		}
		res := string(buf[:n])
		if strings.HasPrefix(res, "SIP/2.0 1") {
			continue
		}
		return res
	}
}

var seq int

func invite(p *rawPeer, body string, contentLength int) string {
	seq++
	host, port, _ := net.SplitHostPort(p.addr())
	return fmt.Sprintf("INVITE sip:kitchen@%s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s:%s;branch=z9hG4bK-raw-%d\r\n"+
		"From: <sip:+442085550123@%s>;tag=raw%d\r\n"+
		"To: <sip:kitchen@%s>\r\n"+
		"Call-ID: raw-%d@%s\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:+442085550123@%s:%s>\r\n"+
		"Max-Forwards: 70\r\n"+
		"Content-Type: application/sdp\r\n"+
		"Content-Length: %d\r\n\r\n%s", p.to, host, port, seq, host, seq, p.to, seq, host, host, port, contentLength, body)
}

func TestMalformedSIPIsRefusedAndChangesNothing(t *testing.T) {
	g := startGuard(t, nil)
	p := newRawPeer(t, trunkIP, g.sip)
	brokenSDP := "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n"
	badAddr := "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nc=IN IP4 not-an-ip\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	tests := []struct {
		name     string
		msg      string
		want     string // "" means the guard may drop it; else the response must start so
		contains string
	}{
		{"garbage", "\x00\x01hello there\r\n\r\n", "", ""},
		{"request line only", "INVITE sip:kitchen@x SIP/2.0\r\n\r\n", "", ""},
		{"truncated INVITE", invite(p, "v=0\r\no=- 1 1 IN", 400), "", ""},
		{"SDP without audio", invite(p, brokenSDP, len(brokenSDP)), "SIP/2.0 400", "no audio media line"},
		{"SDP with a bad address", invite(p, badAddr, len(badAddr)), "SIP/2.0 400", "not-an-ip"},
		{"no SDP", invite(p, "", 0), "SIP/2.0 488", "without an SDP offer"},
		// (An INVITE without Contact is RFC 2543's, and taken: RFC 4475 §3.4.1.)
		{"no From", strings.Replace(invite(p, brokenSDP, len(brokenSDP)), "From:", "X-From:", 1), "SIP/2.0 400", "missing From header"},
		{"two CSeqs", strings.Replace(invite(p, brokenSDP, len(brokenSDP)), "CSeq: 1 INVITE\r\n", "CSeq: 1 INVITE\r\nCSeq: 2 INVITE\r\n", 1), "SIP/2.0 400", "2 CSeq headers"},
		{"not SIP/2.0", strings.Replace(invite(p, brokenSDP, len(brokenSDP)), " SIP/2.0\r\n", " SIP/3.0\r\n", 1), "SIP/2.0 505", "SIP/3.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := p.exchange(tt.msg, 500*time.Millisecond)
			if tt.want == "" {
				if res != "" && !strings.HasPrefix(res, "SIP/2.0 4") {
					t.Errorf("got %q; want a 4xx or nothing", firstLine(res))
				}
				return
			}
			if !strings.HasPrefix(res, tt.want) {
				t.Fatalf("got %q; want %s", firstLine(res), tt.want)
			}
			if !strings.Contains(res, tt.contains) {
				t.Errorf("response does not say what is wrong (%q):\n%s", tt.contains, res)
			}
		})
	}
	if n := len(g.calls()); n != 0 {
		t.Errorf("malformed requests left %d calls in the log", n)
	}
	if g.metric("clearline_malformed_requests_total") < 4 {
		t.Errorf("malformed requests not counted")
	}

	// Garbage over TCP too; then a good call still goes through.
	c, err := net.Dial("tcp", g.sip)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("NOT SIP AT ALL\r\n\r\n"))
	c.Close()
	phone := g.phone("phone_answers.xml")
	caller := g.caller("caller_hangs_up.xml")
	caller.wait()
	phone.wait()
	g.waitEnded(1)
	g.waitIdle()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// A phone registers with digest authentication and then rings at its registered contact;
// repeated wrong passwords from one address are throttled, others are not affected.
func TestRegisterAuthAndThrottle(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.Phones = []config.Phone{{User: "hall", Password: "hall-pw"}}
	})
	port := freePort(t, phoneIP)
	reg := runSIPp(t, "register", "phone_registers.xml", "-i", phoneIP, "-p", strconv.Itoa(port), "-s", "hall", "-au", "hall", "-ap", "hall-pw", g.sip)
	reg.wait()
	ok := reg.mustFind(false, "SIP/2.0 200")
	if !strings.Contains(ok.header("Contact"), fmt.Sprintf("%s:%d", phoneIP, port)) {
		t.Errorf("200 OK lists contacts %q", ok.header("Contact"))
	}
	if n := g.metric("clearline_registered_contacts"); n != 1 {
		t.Errorf("/metrics shows %v registered contacts; want 1", n)
	}
	phone := runSIPp(t, "phone", "phone_answers.xml", "-i", phoneIP, "-p", strconv.Itoa(port), "-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)))
	caller := g.caller("caller_hangs_up.xml")
	caller.wait()
	phone.wait()

	// Wrong passwords from one address: refused, then throttled even with the right one.
	bad := newRawPeer(t, "127.0.0.3", g.sip)
	for i := range 5 {
		res := register(bad, "hall", "guess"+strconv.Itoa(i), g.sip)
		if !strings.HasPrefix(res, "SIP/2.0 403") || !strings.Contains(res, "wrong user name or password") {
			t.Fatalf("attempt %d: %q", i, firstLine(res))
		}
	}
	res := register(bad, "hall", "hall-pw", g.sip)
	if !strings.HasPrefix(res, "SIP/2.0 403 Too Many Failed Attempts") || !strings.Contains(res, "Retry-After:") {
		t.Errorf("after 5 wrong passwords the right one got %q; want throttled", firstLine(res))
	}
	good := newRawPeer(t, "127.0.0.4", g.sip)
	if res := register(good, "hall", "hall-pw", g.sip); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("another address with the right password got %q", firstLine(res))
	}
	if n := g.metric("clearline_auth_failures_total"); n != 5 {
		t.Errorf("auth failures counted %v; want 5", n)
	}

	// Someone forging the registered phone's address makes five wrong guesses: the phone
	// itself still registers, while other names from that address are held off.
	forger := newRawPeer(t, phoneIP, g.sip)
	for i := range 5 {
		register(forger, "hall", "forged"+strconv.Itoa(i), g.sip)
	}
	if res := register(forger, "hall", "hall-pw", g.sip); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("the registered phone with its right password after forged guesses got %q; want 200", firstLine(res))
	}
	if res := register(forger, "kitchen", "guess", g.sip); !strings.HasPrefix(res, "SIP/2.0 403 Too Many Failed Attempts") {
		t.Errorf("another name from the guessed-at address got %q; want throttled", firstLine(res))
	}
	// 999 from the blocked address goes straight to the trunk.
	trunkSide := g.trunk("trunk_answers.xml")
	dialler := runSIPp(t, "dialler", "phone_dials_emergency.xml", "-i", "127.0.0.3", "-p", strconv.Itoa(freePort(t, "127.0.0.3")),
		"-mi", "127.0.0.3", "-mp", strconv.Itoa(sippMediaPort(t, "127.0.0.3")), "-s", "999", "-d", "1000", g.sip)
	dialler.wait()
	trunkSide.wait()
	trunkSide.mustFind(false, "INVITE sip:999@")
}

var nonceRe = regexp.MustCompile(`nonce="([^"]+)"`)

// register sends REGISTER, answers the challenge with password and returns the final
// response (or the first one, if it was not a challenge).
func register(p *rawPeer, user, password, guardAddr string) string {
	p.t.Helper()
	seq++
	host, port, _ := net.SplitHostPort(p.addr())
	req := func(cseq int, auth string) string {
		return fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s:%s;branch=z9hG4bK-reg-%d-%d\r\n"+
			"From: <sip:%s@%s>;tag=reg%d\r\nTo: <sip:%s@%s>\r\n"+
			"Call-ID: reg-%d@%s\r\nCSeq: %d REGISTER\r\n"+
			"Contact: <sip:%s@%s:%s>\r\nExpires: 600\r\nMax-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n",
			guardAddr, host, port, seq, cseq, user, guardAddr, seq, user, guardAddr, seq, host, cseq, user, host, port, auth)
	}
	chal := p.exchange(req(1, ""), time.Second)
	m := nonceRe.FindStringSubmatch(chal)
	if !strings.HasPrefix(chal, "SIP/2.0 401") || m == nil {
		return chal
	}
	uri := "sip:" + guardAddr
	ha1 := md5hex(user + ":clearline:" + password)
	ha2 := md5hex("REGISTER:" + uri)
	auth := fmt.Sprintf("Authorization: Digest username=%q, realm=\"clearline\", nonce=%q, uri=%q, response=%q, algorithm=MD5\r\n",
		user, m[1], uri, md5hex(ha1+":"+m[1]+":"+ha2))
	return p.exchange(req(2, auth), time.Second)
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}
