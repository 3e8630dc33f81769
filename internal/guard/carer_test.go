package guard

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/testutil/tone"
)

// Which calls go to a guardian first is the household's choice per kind of verdict; allowed
// and blocked calls never do.
func TestCarerChecks(t *testing.T) {
	tests := []struct {
		name            string
		unknown, warned string
		action          screen.Action
		want            bool
	}{
		{"unknown caller, carer", "carer", "ring", screen.Screen, true},
		{"unknown caller, screen", "screen", "carer", screen.Screen, false},
		{"unknown caller, allow", "allow", "ring", screen.Screen, false},
		{"warned caller, carer", "allow", "carer", screen.Warn, true},
		{"warned caller, ring", "carer", "ring", screen.Warn, false},
		{"trusted caller", "carer", "carer", screen.Allow, false},
		{"blocked caller", "carer", "carer", screen.Block, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := carerChecks(screen.Verdict{Action: tt.action}, carerRules{unknown: tt.unknown, warned: tt.warned}); got != tt.want {
				t.Errorf("carerChecks = %v; want %v", got, tt.want)
			}
		})
	}
}

// The guardian is offered both G.711 laws, the caller's first, and keys.
func TestCarerOffer(t *testing.T) {
	for pt, want := range map[int]string{0: "m=audio 20000 RTP/AVP 0 8 101", 8: "m=audio 20000 RTP/AVP 8 0 101"} {
		sdp := string(carerOffer("192.0.2.1", 20000, pt))
		if !strings.Contains(sdp, want+"\r\n") || !strings.Contains(sdp, "a=rtpmap:101 telephone-event/8000") || !strings.Contains(sdp, "c=IN IP4 192.0.2.1") {
			t.Errorf("offer for pt %d:\n%s", pt, sdp)
		}
	}
}

// Carer Check's 3 inside the guard: a caller (PCMA) the guard answers and records, the
// guardian rung on the trunk (a raw SIP peer with a PCMU talker) who presses 3 by RFC 4733,
// the household's phone (PCMU) that answers; each of the three then hears the other two and
// not themselves, until the guardian presses #: their leg is released and the resident and
// the caller go on hearing each other.
// threeWay is a Carer Check call the guardian joined: the caller, the guardian and the
// resident each a tone talker, mixed by the guard.
type threeWay struct {
	g                       *testGuard
	phone                   *testPhone
	guardianSIP, callerSIP  *peer
	caller, carer, resident *tone.Talker
	guardPort               *net.UDPAddr // where the guardian's audio and keys go
	amp                     float64
}

func startThreeWay(t *testing.T) *threeWay {
	t.Helper()
	const amp = 5000
	caller := tone.NewTalker(t, testNet+"41", tone.PCMA, 400, amp)
	carer := tone.NewTalker(t, testNet+"3", tone.PCMU, 1100, amp)
	resident := tone.NewTalker(t, testGuardIP, tone.PCMU, 700, amp)
	guardianSIP := newPeer(t, "udp", testNet+"3", 0, "127.0.0.1:1") // answers the guard's INVITE
	phone := startTestPhone(t, false)
	phone.mediaPort.Store(int32(resident.Port()))
	g := startTestGuardOpts(t, guardOpts{phone: phone, carers: []Carer{{Name: "Sarah", Number: "+447700900123"}}, screened: true,
		edit: func(c *config.Config) {
			c.Screening.Unknown = "carer"
			c.Trunk.Address = guardianSIP.local
		}})
	guardianSIP.to, _ = net.ResolveUDPAddr("udp", g.addr)

	callerSIP := callCarerChecked(t, g, caller.Port())

	invite := guardianSIP.request(t, sip.INVITE, 15*time.Second)
	if !strings.HasPrefix(invite.Recipient.String(), "sip:+447700900123@") {
		t.Errorf("the guard rang %s; want Sarah's number", invite.Recipient.String())
	}
	offer, err := media.ParseSDP(invite.Body())
	if err != nil {
		t.Fatal(err)
	}
	answer := fmt.Sprintf("v=0\r\no=guardian 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio %[2]d RTP/AVP 0 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n", testNet+"3", carer.Port())
	ok := sip.NewResponseFromRequest(invite, 200, "OK", []byte(answer))
	ok.To().Params.Add("tag", "sarah")
	ok.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "sarah", Host: testNet + "3", Port: guardianSIP.udp.LocalAddr().(*net.UDPAddr).Port}})
	ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	guardianSIP.send([]byte(ok.String()))
	guardianSIP.request(t, sip.ACK, 3*time.Second)

	guardPort := &net.UDPAddr{IP: net.ParseIP(offer.Addr.Addr().String()), Port: int(offer.Addr.Port())}
	time.Sleep(time.Second) // the guardian hears who is calling
	pressKey(t, carer, guardPort, 3)
	deadline := time.Now().Add(5 * time.Second)
	for len(phone.invites()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the household's phone never rang after the guardian pressed 3")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &threeWay{g: g, phone: phone, guardianSIP: guardianSIP, callerSIP: callerSIP, caller: caller, carer: carer,
		resident: resident, guardPort: guardPort, amp: amp}
}

func TestCarerCheckThreeWayInGuard(t *testing.T) {
	w := startThreeWay(t)
	g, guardianSIP, caller, carer, resident, guardPort, amp := w.g, w.guardianSIP, w.caller, w.carer, w.resident, w.guardPort, w.amp
	mixed := time.Now().Add(300 * time.Millisecond)
	time.Sleep(2 * time.Second)
	parties := map[string]*tone.Talker{"caller": caller, "resident": resident, "guardian": carer}
	for name, p := range parties {
		var others []float64
		for other, q := range parties {
			if other != name {
				others = append(others, q.Freq)
			}
		}
		windows, own := p.Heard(mixed, time.Time{}, amp*0.7, others...)
		if windows < 6 {
			t.Errorf("%s heard both others in %d windows of 200 ms out of about 8", name, windows)
		}
		if own > amp/10 {
			t.Errorf("%s heard themselves at %.0f", name, own)
		}
	}

	pressKey(t, carer, guardPort, 11) // #
	bye := guardianSIP.request(t, sip.BYE, 3*time.Second)
	guardianSIP.send([]byte(sip.NewResponseFromRequest(bye, 200, "OK", nil).String()))
	left := time.Now()
	time.Sleep(time.Second)
	if n, _ := resident.Heard(left.Add(200*time.Millisecond), time.Time{}, amp*0.7, caller.Freq); n < 3 {
		t.Errorf("after the guardian left the resident heard the caller in %d windows", n)
	}
	if n, _ := caller.Heard(left.Add(200*time.Millisecond), time.Time{}, amp/10, carer.Freq); n > 0 {
		t.Errorf("after the guardian left the caller still heard them in %d windows", n)
	}
	if g.Active() != 1 {
		t.Errorf("%d calls up after the guardian left; want the one call going on", g.Active())
	}
}

// callCarerChecked has an unknown caller, its audio at port on testNet.41, call the
// household through g, and acknowledges the guard's answer.
func callCarerChecked(t *testing.T, g *testGuard, port int) *peer {
	t.Helper()
	callerSIP := newPeer(t, "udp", testNet+"41", 0, g.addr)
	sdp := fmt.Sprintf("v=0\r\no=caller 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio %[2]d RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n",
		testNet+"41", port)
	callerSIP.send(fmt.Appendf(nil, "INVITE sip:kitchen@%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-carer-3\r\n"+
		"From: \"Jean Smith\" <sip:+442085550123@%[3]s>;tag=c3\r\nTo: <sip:kitchen@%[1]s>\r\nCall-ID: carer-three@test\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:+442085550123@%[2]s>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %[4]d\r\n\r\n%[5]s",
		g.addr, callerSIP.local, testNet+"41", len(sdp), sdp))
	res, _ := callerSIP.final(3 * time.Second)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the caller was answered %v", res)
	}
	callerSIP.send(fmt.Appendf(nil, "ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-carer-3-ack\r\nFrom: %s\r\nTo: %s\r\nCall-ID: carer-three@test\r\n"+
		"CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", res.Contact().Address.String(), callerSIP.local, res.From().Value(), res.To().Value()))
	return callerSIP
}

// With no guardian to ring, Carer Check is not a dead end: the caller's name is recorded and
// the call goes on as carer_fallback says (here ring: the phone rings and the caller is put
// through to it).
func TestCarerCheckWithoutGuardianFallsBack(t *testing.T) {
	caller := tone.NewTalker(t, testNet+"41", tone.PCMA, 400, 5000)
	resident := tone.NewTalker(t, testGuardIP, tone.PCMU, 700, 5000)
	phone := startTestPhone(t, false)
	phone.mediaPort.Store(int32(resident.Port()))
	g := startTestGuardOpts(t, guardOpts{phone: phone, screened: true, edit: func(c *config.Config) {
		c.Screening.Unknown, c.Screening.CarerFallback = "carer", "ring"
	}})
	start := time.Now()
	callCarerChecked(t, g, caller.Port())
	deadline := time.Now().Add(15 * time.Second)
	for len(phone.invites()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the household's phone never rang")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := time.Since(start); d < 7*time.Second {
		t.Errorf("the phone rang %v after the call came in: before the caller's name was recorded", d)
	}
	time.Sleep(time.Second)
	if n, _ := resident.Heard(time.Time{}, time.Time{}, 3000, caller.Freq); n < 2 {
		t.Errorf("the resident heard the caller in %d windows: the caller was not put through", n)
	}
}

// request reads until a request of method arrives, or fails the test after wait.
func (p *peer) request(t *testing.T, method sip.RequestMethod, wait time.Duration) *sip.Request {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		m, _, _ := p.read(time.Until(deadline))
		if r, ok := m.(*sip.Request); ok && r.Method == method {
			return r
		}
	}
	t.Fatalf("no %s within %v", method, wait)
	return nil
}

// pressKey sends an RFC 4733 key press (event 0-15) of payload type 101 from the talker's
// socket: three packets of one event, the last marked as its end.
func pressKey(t *testing.T, from *tone.Talker, to *net.UDPAddr, event byte) {
	t.Helper()
	ts := uint32(time.Now().UnixNano())
	for i := range 3 {
		pkt := make([]byte, 16)
		pkt[0], pkt[1] = 0x80, 101
		binary.BigEndian.PutUint16(pkt[2:], uint16(9000+i))
		binary.BigEndian.PutUint32(pkt[4:], ts)
		binary.BigEndian.PutUint32(pkt[8:], 0xd7f)
		pkt[12], pkt[13] = event, 10
		if i == 2 {
			pkt[13] |= 0x80
		}
		binary.BigEndian.PutUint16(pkt[14:], uint16(400*(i+1)))
		if _, err := from.Conn().WriteToUDP(pkt, to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A three-way call can be ended from the dashboard like any connected call: the mix stops,
// the caller and the guardian are released at once, and the resident hears why before
// their leg is released.
func TestGuardianEndsAThreeWayCall(t *testing.T) {
	w := startThreeWay(t)
	time.Sleep(time.Second) // the three of them talk
	live := w.g.Live()
	if len(live) != 1 || live[0].Carer == nil || live[0].Carer.Choice != carerJoined {
		t.Fatalf("live calls: %+v", live)
	}
	byes := make(chan *sip.Request, 2)
	for _, p := range []*peer{w.callerSIP, w.guardianSIP} {
		go func() { // the caller and the guardian answer the guard's BYE as phones would
			m, _, _ := p.read(5 * time.Second)
			bye, _ := m.(*sip.Request)
			for m != nil && (bye == nil || bye.Method != sip.BYE) {
				m, _, _ = p.read(5 * time.Second)
				bye, _ = m.(*sip.Request)
			}
			if bye != nil {
				p.send([]byte(sip.NewResponseFromRequest(bye, 200, "OK", nil).String()))
			}
			byes <- bye
		}()
	}
	asked := time.Now()
	c, err := w.g.End(context.Background(), live[0].ID, "son")
	if err != nil || c.EndedBy != call.ByGuardian || c.EndedByUser != "son" {
		t.Fatalf("End during the three-way call: %+v, %v", c, err)
	}
	if rel := c.Leg(call.Trunk).ReleasedAt.Sub(asked); rel < 0 || rel > 200*time.Millisecond {
		t.Errorf("the caller's leg released %v after the request", rel)
	}
	for range 2 {
		if <-byes == nil {
			t.Fatal("the caller or the guardian got no BYE")
		}
	}
	prompt, _ := media.Prompt(familyEndedPrompt)
	promptLen := time.Duration(len(prompt)) * time.Second / 8000
	for deadline := asked.Add(promptLen + 3*time.Second); w.g.Active() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls still up %v after the request", w.g.Active(), time.Since(asked))
		}
	}
	c, _ = w.g.Call(live[0].ID)
	if g := c.Leg(call.Guardian).ReleasedAt.Sub(asked); g < 0 || g > time.Second {
		t.Errorf("the guardian's leg released %v after the request", g)
	}
	if c.EndedAt.IsZero() || c.EndedBy != call.ByGuardian || c.Leg(call.Household).ReleasedAt.Sub(asked) < promptLen {
		t.Errorf("the ended call %+v: the resident's leg released %v after the request, the prompt lasts %v",
			c, c.Leg(call.Household).ReleasedAt.Sub(asked), promptLen)
	}
}
