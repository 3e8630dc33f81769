package guard

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/testutil/ports"
)

// A guard running in the test on loopback addresses of its own: the guard and its phone on
// 127.0.17.1, the trunk's network 127.0.17.0/25 (any address there is the provider), every
// other address a stranger that must authenticate.
const (
	testGuardIP = "127.0.17.1"
	testNet     = "127.0.17."
)

type nopRecorder struct{}

func (nopRecorder) Record(call.Event) {}

type testMetrics struct {
	malformed, authFailed, calls, durableTimeouts atomic.Int64
}

func (m *testMetrics) DurableTimeout() { m.durableTimeouts.Add(1) }

func (m *testMetrics) CallStarted(call.Direction) { m.calls.Add(1) }
func (m *testMetrics) CallEnded(call.Call)        {}
func (m *testMetrics) Teardown(time.Duration)     {}
func (m *testMetrics) AuthFailed()                { m.authFailed.Add(1) }
func (m *testMetrics) Malformed()                 { m.malformed.Add(1) }
func (m *testMetrics) Prompt(string)              {}
func (m *testMetrics) SessionOpened()             {}
func (m *testMetrics) SessionClosed()             {}
func (m *testMetrics) Packet(from call.Side)      {}

// testGuard is a Guard served in the test, with a phone that answers every call.
type testGuard struct {
	*Guard
	addr    string // the guard's SIP address, for UDP and TCP
	tlsAddr string // its TLS address, when it listens for TLS
	metrics *testMetrics
	phone   *testPhone
	logs    *bytes.Buffer
	logMu   *sync.Mutex
}

var mediaNext atomic.Int32

// startTestGuard serves a guard whose phone "kitchen" is testPhone; edit may change the
// configuration (YAML) first.
func startTestGuard(t testing.TB, extra string) *testGuard {
	t.Helper()
	return startTestGuardWith(t, extra, true)
}

// startTestGuardWith is startTestGuard with a phone that listens on TCP too, or not.
func startTestGuardWith(t testing.TB, extra string, phoneTCP bool) *testGuard {
	t.Helper()
	return startTestGuardOpts(t, guardOpts{extra: extra, phone: startTestPhone(t, phoneTCP)})
}

// guardOpts vary the test guard: YAML keys added at the top level, its phone (reached at
// phoneURI, or at the phone's address over UDP), and changes to the decoded configuration.
type guardOpts struct {
	extra    string
	phone    *testPhone
	phoneURI string
	edit     func(*config.Config)
	carers   []Carer  // the household's guardians for Carer Check
	screened bool     // screen calls by the configuration's chain (else every call is allowed)
	rec      Recorder // where call events go (else nowhere)
	location Location
	memory   func(MemoryEvent)
}

func startTestGuardOpts(t testing.TB, o guardOpts) *testGuard {
	t.Helper()
	phone := o.phone
	contact := "sip:kitchen@" + phone.addr
	if o.phoneURI != "" {
		contact = o.phoneURI
	}
	port := freeSIPPort(t, testGuardIP)
	lo := 40000 + int(mediaNext.Add(1)-1)%600*40 // 40000-63999, round again
	src := fmt.Sprintf(`
sip:
  listen: %s:%d
  ring_timeout: 5s
trunk:
  address: %s2:5080
  inbound_from: [%s0/25]
phones:
  - user: kitchen
    password: s3cret
    contact: %s
  - user: watson
    password: watson-pw
  - user: user
    password: user-pw
  - user: j.user
    password: j-pw
media:
  ports: %d-%d
  timeout: 30s
%s`, testGuardIP, port, testNet, testNet, contact, lo, lo+39, o.extra)
	cfg, err := config.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if o.edit != nil {
		o.edit(cfg)
	}
	var buf bytes.Buffer
	mu := &sync.Mutex{}
	log := slog.New(slog.NewTextHandler(lockedWriter{&buf, mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := &testMetrics{}
	opts := Options{Log: log, Recorder: nopRecorder{}, Metrics: m, Media: m, Location: o.location, Memory: o.memory}
	if o.rec != nil {
		opts.Recorder = o.rec
	}
	if o.carers != nil {
		opts.Carers = func(context.Context, string) ([]Carer, error) { return o.carers, nil }
	}
	if o.screened {
		if opts.Screening, err = cfg.Screening.Chain(); err != nil {
			t.Fatal(err)
		}
	}
	g, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx) }()
	tg := &testGuard{Guard: g, addr: net.JoinHostPort(testGuardIP, strconv.Itoa(port)), metrics: m, phone: phone, logs: &buf, logMu: mu}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("guard did not stop")
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("guard log (tail):\n%s", lastLines(buf.String(), 40))
			mu.Unlock()
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.Dial("tcp", tg.addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("guard did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the UDP listener joins the pool just after the TCP one
	return tg
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func lastLines(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// waitIdle waits until the guard holds no call.
func (g *testGuard) waitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.Active() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls still up", g.Active())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeSIPPort(t testing.TB, ip string) int {
	t.Helper()
	return ports.Free(t, ip)
}

// testPhone is a household phone written with sipgo: it answers every INVITE with 200 OK,
// accepting the first audio stream of the offer and refusing the others, and remembers
// what it was sent.
type testPhone struct {
	addr      string
	mediaPort atomic.Int32 // where it takes audio (47000 unless a test binds its own)
	srtpKey   []byte       // set: an SRTP offer is answered with SRTP under this key
	mu        sync.Mutex
	got       []*sip.Request // INVITEs, in order
}

func startTestPhone(t testing.TB, withTCP bool) *testPhone {
	return startPeerUAS(t, testGuardIP, true, withTCP, nil)
}

// startPeerUAS serves the phone's behaviour on ip over UDP, TCP and TLS as asked (the
// Go stand-in for a phone, or a provider answering outbound calls).
func startPeerUAS(t testing.TB, ip string, withUDP, withTCP bool, tlsConf *tls.Config) *testPhone {
	t.Helper()
	port := freeSIPPort(t, ip)
	p := &testPhone{addr: net.JoinHostPort(ip, strconv.Itoa(port))}
	p.mediaPort.Store(47000)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		p.got = append(p.got, req)
		p.mu.Unlock()
		res := sip.NewResponseFromRequest(req, 200, "OK", answerFor(req.Body(), ip, int(p.mediaPort.Load()), p.srtpKey))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "kitchen", Host: ip, Port: port}})
		_ = tx.Respond(res)
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	t.Cleanup(func() { ua.Close() })
	if withUDP {
		udp, err := net.ListenPacket("udp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		go srv.ServeUDP(udp)
		t.Cleanup(func() { udp.Close() })
	}
	if withTCP || tlsConf != nil {
		l, err := net.Listen("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		if tlsConf != nil {
			go srv.ServeTLS(tls.NewListener(l, tlsConf))
		} else {
			go srv.ServeTCP(l)
		}
	}
	return p
}

func (p *testPhone) invites() []*sip.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sip.Request(nil), p.got...)
}

// answerFor answers an SDP offer as a plain phone would: the first audio stream accepted
// on port, every other stream refused with port 0, in the offer's order (RFC 3264 §6).
func answerFor(offer []byte, ip string, port int, srtpKey []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=phone 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", ip, ip)
	audio := false
	for _, l := range strings.Split(string(offer), "\n") {
		f := strings.Fields(strings.TrimSpace(l))
		if len(f) < 4 || !strings.HasPrefix(f[0], "m=") {
			continue
		}
		if f[0] == "m=audio" && !audio && f[1] != "0" {
			audio = true
			fmt.Fprintf(&b, "m=audio %d %s 0\r\na=rtpmap:0 PCMU/8000\r\na=%s\r\n", port, f[2], media.Answering(media.Direction(offer)))
			if strings.Contains(f[2], "SAVP") && srtpKey != nil {
				b.WriteString(media.Crypto{Tag: "1", Suite: "AES_CM_128_HMAC_SHA1_80", Key: srtpKey}.Line() + "\r\n")
			}
			continue
		}
		fmt.Fprintf(&b, "%s 0 %s %s\r\n", f[0], f[2], f[3])
	}
	return []byte(b.String())
}

// peer sends raw SIP to the guard from one address, over UDP or TCP, and reads what comes
// back.
type peer struct {
	t      testing.TB
	udp    *net.UDPConn
	tcp    net.Conn
	rd     *bufio.Reader
	to     *net.UDPAddr
	local  string
	closed bool
}

var resumeCache = tls.NewLRUClientSessionCache(8)

// newPeer binds ip:port (UDP, where replies without rport go: RFC 3261 §18.2.2) or dials the
// guard from ip over TCP.
func newPeer(t testing.TB, network, ip string, port int, guardAddr string) *peer {
	t.Helper()
	p := &peer{t: t}
	switch network {
	case "udp":
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
		if err != nil {
			t.Fatal(err)
		}
		p.udp = c
		p.to, _ = net.ResolveUDPAddr("udp", guardAddr)
		p.local = c.LocalAddr().String()
	default:
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", guardAddr)
		if err != nil {
			t.Fatal(err)
		}
		if network == "tls" || network == "tls-resumed" {
			conf := &tls.Config{RootCAs: testCA(t).Pool, ServerName: testGuardIP}
			if network == "tls-resumed" {
				conf.ClientSessionCache = resumeCache // as a phone that has connected before
			}
			tc := tls.Client(c, conf)
			if err := tc.Handshake(); err != nil {
				t.Fatal(err)
			}
			c = tc
		}
		p.tcp, p.rd = c, bufio.NewReader(c)
		p.local = c.LocalAddr().String()
	}
	t.Cleanup(p.close)
	return p
}

func (p *peer) close() {
	if p.udp != nil {
		p.udp.Close()
	}
	if p.tcp != nil {
		p.tcp.Close()
	}
}

func (p *peer) send(msg []byte) {
	p.t.Helper()
	var err error
	if p.udp != nil {
		_, err = p.udp.WriteToUDP(msg, p.to)
	} else {
		_, err = p.tcp.Write(msg)
	}
	if err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next message the guard sends, or nil after wait; closed reports that
// the guard closed a TCP connection.
func (p *peer) read(wait time.Duration) (sip.Message, []byte, bool) {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	if p.udp != nil {
		buf := make([]byte, 65535)
		p.udp.SetReadDeadline(deadline)
		n, _, err := p.udp.ReadFromUDP(buf)
		if err != nil {
			return nil, nil, false
		}
		m, err := sip.ParseMessage(buf[:n])
		if err != nil {
			p.t.Fatalf("the guard sent what does not parse: %v\n%s", err, buf[:n])
		}
		return m, buf[:n], false
	}
	p.tcp.SetReadDeadline(deadline)
	var head bytes.Buffer
	for {
		line, err := p.rd.ReadString('\n')
		if err != nil {
			var ne net.Error
			if errorsAs(err, &ne) && ne.Timeout() {
				return nil, nil, false
			}
			return nil, nil, true
		}
		if head.Len() == 0 && line == "\r\n" {
			continue // keep-alive
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	n := 0
	if m := regexp.MustCompile(`(?im)^(?:Content-Length|l)\s*:\s*(\d+)`).FindStringSubmatch(head.String()); m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(p.rd, body); err != nil {
		return nil, nil, true
	}
	all := append(head.Bytes(), body...)
	m, err := sip.ParseMessage(all)
	if err != nil {
		p.t.Fatalf("the guard sent what does not parse: %v\n%s", err, all)
	}
	return m, all, false
}

// final reads until a final response (skipping provisional ones and requests) or wait.
func (p *peer) final(wait time.Duration) (*sip.Response, bool) {
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, false
		}
		m, _, closed := p.read(left)
		if m == nil {
			return nil, closed
		}
		if r, ok := m.(*sip.Response); ok && r.StatusCode >= 200 {
			return r, false
		}
	}
}

func errorsAs(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

var nonceParam = regexp.MustCompile(`nonce="([^"]+)"`)

// digestAuth is the Authorization header answering a challenge for user with password.
func digestAuth(challenge *sip.Response, method, uri, user, password string) string {
	h := challenge.GetHeader("WWW-Authenticate")
	if h == nil {
		return ""
	}
	m := nonceParam.FindStringSubmatch(h.Value())
	if m == nil {
		return ""
	}
	ha1 := md5hex(user + ":clearline:" + password)
	ha2 := md5hex(method + ":" + uri)
	return fmt.Sprintf("Digest username=%q, realm=\"clearline\", nonce=%q, uri=%q, response=%q, algorithm=MD5",
		user, m[1], uri, md5hex(ha1+":"+m[1]+":"+ha2))
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}
