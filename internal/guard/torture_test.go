package guard

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The torture messages of RFC 4475 (testdata/sip/rfc4475, byte for byte from the RFC) and a
// few offers real devices send (testdata/sip/extra), each sent to a running guard over UDP
// and TCP, from the trunk's network and from elsewhere, with the answer RFC 4475 asks of an
// element acting as a user agent server and registrar. 0 means the guard must send nothing
// (a stray response, or a message it must drop).
type tortureAnswer struct {
	trunk, other int
	// tcp, when set, is the answer over TCP, where framing rules differ (RFC 3261 §18.3).
	tcp *tortureAnswer
	// check looks further at the final response.
	check func(t testing.TB, g *testGuard, res *sip.Response)
}

// hasHeader checks that a response with code has a header with the text.
func hasHeader(code int, name, contains string) func(t testing.TB, g *testGuard, res *sip.Response) {
	return func(t testing.TB, _ *testGuard, res *sip.Response) {
		t.Helper()
		if res.StatusCode != code {
			return
		}
		h := res.GetHeader(name)
		if h == nil || !strings.Contains(h.Value(), contains) {
			t.Errorf("%s: want %s containing %q; response:\n%s", res.StartLine(), name, contains, res)
		}
	}
}

// answersVideoRefused checks an answer to an audio+video offer: audio on the relay, video
// refused with port 0, in the offer's order.
func answersVideoRefused(t testing.TB, _ *testGuard, res *sip.Response) {
	t.Helper()
	if res.StatusCode != 200 {
		return
	}
	body := string(res.Body())
	a, v := strings.Index(body, "m=audio "), strings.Index(body, "m=video 0 ")
	if a < 0 || v < 0 || v < a || strings.Contains(body, "m=audio 0 ") {
		t.Errorf("answer does not relay audio and refuse video, in order:\n%s", body)
	}
}

// reachedPhoneWhole checks that the phone got the whole offer, over TCP if the INVITE was
// too big for UDP (RFC 3261 §18.1.1; the guard drops the caller's ICE candidates, which
// brings this one under the limit: TestBigInviteOverTCP has a bigger one).
func reachedPhoneWhole(t testing.TB, g *testGuard, res *sip.Response) {
	t.Helper()
	if res.StatusCode != 200 {
		return
	}
	got := g.phone.invites()
	if len(got) != 1 {
		t.Fatalf("the phone got %d INVITEs", len(got))
	}
	size := len(got[0].String())
	if size > udpRequestLimit && got[0].Transport() != "TCP" || !strings.Contains(string(got[0].Body()), "a=rtpmap:107 telephone-event/16000") {
		t.Errorf("the phone got a %d-byte INVITE over %s:\n%s", size, got[0].Transport(), got[0].Body())
	}
}

var tortureAnswers = map[string]tortureAnswer{
	// 3.1.1 valid messages
	"wsinv":      {trunk: 481, other: 481}, // a request inside a dialog the guard does not have
	"intmeth":    {trunk: 501, other: 501}, // an unknown method
	"esc01":      {trunk: 200, other: 401},
	"escnull":    {trunk: 401, other: 401},
	"esc02":      {trunk: 501, other: 501}, // RE%47IST%45R is not REGISTER
	"lwsdisp":    {trunk: 200, other: 200},
	"longreq":    {trunk: 200, other: 401},
	"dblreq":     {trunk: 401, other: 401}, // the REGISTER; the INVITE after it is noise in a datagram
	"semiuri":    {trunk: 200, other: 200},
	"transports": {trunk: 200, other: 200},
	"mpart01":    {trunk: 405, other: 405, check: hasHeader(405, "Allow", "INVITE")}, // MESSAGE: known, not supported
	"unreason":   {},                                                                 // responses to nothing: dropped
	"noreason":   {},
	// 3.1.2 invalid messages
	"badinv01":   {trunk: 400, other: 400},
	"clerr":      {trunk: 400, other: 400, tcp: &tortureAnswer{}}, // over TCP the rest of the body may still come
	"scalar02":   {trunk: 400, other: 400},
	"ncl":        {trunk: 400, other: 400},
	"scalarlg":   {},
	"quotbal":    {trunk: 400, other: 400},
	"ltgtruri":   {trunk: 400, other: 400},
	"lwsruri":    {trunk: 400, other: 400},
	"lwsstart":   {trunk: 400, other: 400},
	"trws":       {trunk: 400, other: 400},
	"escruri":    {trunk: 400, other: 400},
	"baddate":    {trunk: 200, other: 401}, // the guard has no use for Date: it is ignored
	"regbadct":   {trunk: 400, other: 400},
	"badaspec":   {trunk: 400, other: 400},
	"baddn":      {trunk: 400, other: 400, tcp: &tortureAnswer{}}, // no blank line ends it: on a stream, more may come
	"badvers":    {trunk: 505, other: 505},
	"mismatch01": {trunk: 400, other: 400},
	"mismatch02": {trunk: 400, other: 400},
	"bigcode":    {},
	// 3.2 transaction layer
	"badbranch": {trunk: 200, other: 200}, // answered as an RFC 2543 transaction
	// 3.3 application layer
	"insuf":    {trunk: 400, other: 400},
	"unkscm":   {trunk: 416, other: 416},
	"novelsc":  {trunk: 416, other: 416},
	"unksm2":   {trunk: 400, other: 400},
	"bext01":   {trunk: 420, other: 420, check: hasHeader(420, "Unsupported", "nothingSupportsThis, nothingSupportsThisEither")},
	"invut":    {trunk: 415, other: 401, check: hasHeader(415, "Accept", "application/sdp")},
	"regaut01": {trunk: 401, other: 401, check: hasHeader(401, "WWW-Authenticate", "Digest")},
	"multi01":  {trunk: 400, other: 400},
	"mcl01":    {trunk: 400, other: 400},
	"bcast":    {},
	"zeromf":   {trunk: 200, other: 200},
	"cparam01": {trunk: 401, other: 401},
	"cparam02": {trunk: 401, other: 401},
	"regescrt": {trunk: 401, other: 401},
	"sdp01":    {trunk: 406, other: 401},
	// 3.4 backward compatibility
	"inv2543": {trunk: 200, other: 401, tcp: &tortureAnswer{trunk: 400, other: 400}}, // no Content-Length on a stream
	// offers real devices send
	"x-audio-only":        {trunk: 200, other: 401},
	"x-audio-video":       {trunk: 200, other: 401, check: answersVideoRefused},
	"x-audio-video-port0": {trunk: 200, other: 401, check: answersVideoRefused},
	"x-big-sdp":           {trunk: 200, other: 401, check: reachedPhoneWhole},
	"x-wsinv-tag-nolws":   {trunk: 481, other: 481},
}

func tortureMessages(t testing.TB) map[string][]byte { return tortureMessagesFor(t) }

func tortureMessagesFor(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("../../testdata/sip/*/*.dat")
	if err != nil || len(files) == 0 {
		t.Fatalf("no torture messages: %v", err)
	}
	msgs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs[strings.TrimSuffix(filepath.Base(f), ".dat")] = b
	}
	return msgs
}

var (
	foldedLine = regexp.MustCompile(`\r\n[ \t]+`)
	topVia     = regexp.MustCompile(`(?im)^(?:via|v)\s*:\s*SIP\s*/\s*[\d.]+\s*/\s*\w+\s+([^\s;:,]+)(?:\s*:\s*(\d+))?([^,\r]*)`)
	callIDLine = regexp.MustCompile(`(?im)^(?:call-id|i)\s*:\s*(\S+)`)
	cseqLine   = regexp.MustCompile(`(?im)^cseq\s*:\s*(\d+)`)
	branchArg  = regexp.MustCompile(`branch\s*=\s*([^;\s,]+)`)
)

// replyPort is where the guard sends UDP responses to msg: the top Via's port, or any port
// with rport (RFC 3261 §18.2.2, RFC 3581).
func replyPort(msg []byte) int {
	m := topVia.FindSubmatch(foldedLine.ReplaceAll(msg, []byte(" ")))
	if m == nil || strings.Contains(string(m[3]), "rport") {
		return 0
	}
	if len(m[2]) > 0 {
		p, _ := strconv.Atoi(string(m[2]))
		return p
	}
	return 5060
}

func TestRFC4475(t *testing.T) {
	msgs := tortureMessages(t)
	for name := range tortureAnswers {
		if msgs[name] == nil {
			t.Errorf("no message %s.dat", name)
		}
	}
	for name := range msgs {
		if _, ok := tortureAnswers[name]; !ok {
			t.Errorf("%s.dat has no expected answer", name)
		}
	}
	// Each message goes to a guard of its own: several share a branch and a Via, so that a
	// guard would rightly take a second one for a retransmission of the first (RFC 3261
	// §17.2.3).
	var next atomic.Int32
	t.Run("each", func(t *testing.T) {
		for name, msg := range msgs {
			want := tortureAnswers[name]
			for _, network := range []string{"udp", "tcp"} {
				w := want
				if network == "tcp" && want.tcp != nil {
					w = *want.tcp
					w.check = want.check
				}
				k := int(next.Add(1))
				for _, from := range []string{"trunk", "other"} {
					ip, code := fmt.Sprintf("%s%d", testNet, 10+k), w.trunk
					if from == "other" {
						ip, code = fmt.Sprintf("%s%d", testNet, 130+k), w.other
					}
					t.Run(name+"/"+network+"/"+from, func(t *testing.T) {
						t.Parallel()
						g := startTestGuard(t, "")
						sendTorture(t, g, network, ip, msg, code, w.check)
						g.waitIdle(t)
					})
				}
			}
		}
	})
}

// sendTorture sends msg and checks the final response has code (none, for 0); a call that
// was answered is acknowledged and hung up, a refused INVITE acknowledged.
func sendTorture(t testing.TB, g *testGuard, network, ip string, msg []byte, code int, check func(testing.TB, *testGuard, *sip.Response)) {
	t.Helper()
	p := newPeer(t, network, ip, replyPort(msg), g.addr)
	p.send(msg)
	wait := 3 * time.Second
	if code == 0 {
		wait = 500 * time.Millisecond
	}
	// The answer is the one to this message's Call-IDs (multi01 has two); over TCP what
	// follows a message is another one, with answers of its own (dblreq).
	callIDs := map[string]bool{}
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	for _, m := range callIDLine.FindAllSubmatch(head, -1) {
		callIDs[string(m[1])] = true
	}
	var res *sip.Response
	for {
		r, _ := p.final(wait)
		if r == nil || len(callIDs) == 0 || r.CallID() == nil || callIDs[r.CallID().Value()] {
			res = r
			break
		}
	}
	got := 0
	if res != nil {
		got = res.StatusCode
		if res.SipVersion != "SIP/2.0" {
			t.Errorf("response version %q; want SIP/2.0", res.SipVersion)
		}
	}
	if got != code {
		t.Fatalf("answered %d; want %d\nresponse:\n%v", got, code, res)
	}
	if res == nil {
		return
	}
	if check != nil {
		check(t, g, res)
	}
	if cseq := res.CSeq(); cseq != nil && cseq.MethodName == sip.INVITE && res.From() != nil && res.To() != nil && res.CallID() != nil {
		acknowledge(t, p, network, res)
	}
}

var branches atomic.Int64

// acknowledge sends ACK for an INVITE's final response, and BYE after a 200 OK.
func acknowledge(t testing.TB, p *peer, network string, res *sip.Response) {
	t.Helper()
	tp := strings.ToUpper(network)
	seq := res.CSeq().SeqNo
	head := func(method, uri, via string, n uint32) string {
		return fmt.Sprintf("%s %s SIP/2.0\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			method, uri, via, res.From().Value(), res.To().Value(), res.CallID().Value(), n, method)
	}
	if res.StatusCode >= 300 {
		p.send([]byte(head("ACK", "sip:guard@"+testGuardIP, res.Via().Value(), seq)))
		return
	}
	contact := res.Contact()
	if contact == nil {
		t.Fatalf("200 OK without Contact:\n%s", res)
	}
	uri := contact.Address.String()
	n := branches.Add(1) // a branch of its own for every transaction a peer starts
	p.send([]byte(head("ACK", uri, fmt.Sprintf("SIP/2.0/%s %s;branch=z9hG4bK-ack-%d", tp, p.local, n), seq)))
	p.send([]byte(head("BYE", uri, fmt.Sprintf("SIP/2.0/%s %s;branch=z9hG4bK-bye-%d;rport", tp, p.local, n), seq+1)))
	bye, _ := p.final(3 * time.Second)
	if bye == nil || bye.StatusCode != 200 {
		t.Errorf("BYE answered %v", bye)
	}
}

// bigOffer is x-big-sdp with 24 more attribute lines (SSRC descriptions, as WebRTC-minded
// clients send): the INVITE the guard forwards is over 2 KB.
func bigOffer(t testing.TB) []byte {
	t.Helper()
	msg := tortureMessages(t)["x-big-sdp"]
	head, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	var extra strings.Builder
	for i := range 24 {
		fmt.Fprintf(&extra, "a=ssrc:1234567890 label:clearline-test-stream-label-%02d\r\n", i)
	}
	body = append(body, extra.String()...)
	head = regexp.MustCompile(`Content-Length: \d+`).ReplaceAll(head, []byte("Content-Length: "+strconv.Itoa(len(body))))
	return append(append(head, "\r\n\r\n"...), body...)
}

// A request too big for UDP goes to a phone over TCP (RFC 3261 §18.1.1), or over UDP, whole,
// to a phone that takes no TCP; the call connects either way.
func TestBigInviteOverTCP(t *testing.T) {
	for _, tcp := range []bool{true, false} {
		t.Run(map[bool]string{true: "phone takes TCP", false: "phone takes UDP only"}[tcp], func(t *testing.T) {
			g := startTestGuardWith(t, "", tcp)
			sendTorture(t, g, "udp", testNet+"5", bigOffer(t), 200, nil)
			got := g.phone.invites()
			if len(got) != 1 {
				t.Fatalf("the phone got %d INVITEs", len(got))
			}
			want := map[bool]string{true: "TCP", false: "UDP"}[tcp]
			if size := len(got[0].String()); size < 2000 || got[0].Transport() != want || !strings.Contains(string(got[0].Body()), "label-23") {
				t.Errorf("the phone got a %d-byte INVITE over %s; want the whole offer over %s", size, got[0].Transport(), want)
			}
			g.waitIdle(t)
		})
	}
}

// The valid REGISTERs of RFC 4475, answered with the right password, bind what the RFC
// says: a Contact header parameter stays out of the URI (cparam01), a URI parameter stays
// in it (cparam02), an escaped header in the URI is kept (regescrt).
func TestRFC4475Registrations(t *testing.T) {
	msgs := tortureMessages(t)
	for _, tt := range []struct {
		name, user, password string
		want, not            string
	}{
		{"cparam01", "watson", "watson-pw", "<sip:+19725552222@gw1.example.net>", "unknownparam>"},
		{"cparam02", "watson", "watson-pw", "<sip:+19725552222@gw1.example.net;unknownparam>", ""},
		{"regescrt", "user", "user-pw", "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", ""},
		{"dblreq", "j.user", "j-pw", "<sip:j.user@host.example.com>", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := startTestGuard(t, "")
			msg := msgs[tt.name]
			p := newPeer(t, "udp", testNet+"7", replyPort(msg), g.addr)
			p.send(msg)
			chal, _ := p.final(3 * time.Second)
			if chal == nil || chal.StatusCode != 401 {
				t.Fatalf("challenge: %v", chal)
			}
			auth := digestAuth(chal, "REGISTER", "sip:example.com", tt.user, tt.password)
			again := cseqLine.ReplaceAllFunc(msg, func(b []byte) []byte {
				n, _ := strconv.Atoi(string(cseqLine.FindSubmatch(b)[1]))
				return []byte("CSeq: " + strconv.Itoa(n+1))
			})
			again = branchArg.ReplaceAll(again, []byte("branch=$1-2"))
			again = bytes.Replace(again, []byte("\r\n\r\n"), []byte("\r\nAuthorization: "+auth+"\r\n\r\n"), 1)
			p.send(again)
			res, _ := p.final(3 * time.Second)
			if res == nil || res.StatusCode != 200 {
				t.Fatalf("with the right password: %v", res)
			}
			var contacts []string
			for _, h := range res.GetHeaders("Contact") {
				contacts = append(contacts, h.Value())
			}
			all := strings.Join(contacts, ", ")
			if !strings.Contains(all, tt.want) || (tt.not != "" && strings.Contains(all, tt.not)) {
				t.Errorf("bindings %q; want %s", all, tt.want)
			}
		})
	}
}

// A provider asking for a session timer (RFC 4028) gets it, refreshing itself; one that
// requires it is not refused with 420.
func TestSessionTimerAgreed(t *testing.T) {
	for _, ask := range []string{"Supported: timer", "Require: timer"} {
		t.Run(ask, func(t *testing.T) {
			g := startTestGuard(t, "")
			msg := tortureMessages(t)["x-audio-only"]
			msg = bytes.Replace(msg, []byte("Max-Forwards: 70\r\n"), []byte("Max-Forwards: 70\r\nSession-Expires: 1800\r\nMin-SE: 90\r\n"+ask+"\r\n"), 1)
			sendTorture(t, g, "udp", testNet+"6", msg, 200, func(t testing.TB, _ *testGuard, res *sip.Response) {
				se, refresher, ok := sessionExpires(res)
				if !ok || se != 1800*time.Second || refresher != "uac" || !optionTag(res, "Require", "timer") {
					t.Errorf("2xx says Session-Expires %v;refresher=%s, Require timer %v; want 1800 s, uac, true", se, refresher, optionTag(res, "Require", "timer"))
				}
			})
			if got := g.phone.invites(); len(got) != 1 || !optionTag(got[0], "Supported", "timer") {
				t.Errorf("the phone's INVITE does not offer the timer: %v", got)
			}
		})
	}
}
