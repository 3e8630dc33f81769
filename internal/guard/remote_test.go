package guard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/media"
)

// A guardian ends a call the resident placed (the household's leg is the dialog the guard
// received): the provider's leg is released at once, the resident's phone hears the
// family_ended prompt in its own codec and then gets BYE, and the call is recorded as ended
// by that guardian. A call no longer there, or ended, is refused as such.
func TestGuardianEndsAnOutboundCall(t *testing.T) {
	provider := startPeerUAS(t, testNet+"2", true, false, nil)
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), edit: func(c *config.Config) { c.Trunk.Address = provider.addr }})
	phoneIP := testNet + "161"
	phoneMedia, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(phoneIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer phoneMedia.Close()
	var mu sync.Mutex
	var heard []byte
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := phoneMedia.Read(buf)
			if err != nil {
				return
			}
			if n > 12 {
				mu.Lock()
				heard = append(heard, buf[12:n]...)
				mu.Unlock()
			}
		}
	}()
	p := newPeer(t, "udp", phoneIP, 0, g.addr)
	dialOut(t, g, p, phoneMedia, "01632960999")

	live := g.Live()
	if len(live) != 1 || live[0].Direction != call.Outbound || live[0].AnsweredAt.IsZero() || !live[0].EndedAt.IsZero() {
		t.Fatalf("live calls: %+v", live)
	}
	id := live[0].ID
	ctx := context.Background()
	if _, err := g.End(ctx, "no-such-call", "son"); !errors.Is(err, ErrNoCall) {
		t.Errorf("ending a call that is not there: %v", err)
	}
	asked := time.Now()
	c, err := g.End(ctx, id, "son")
	if err != nil || c.EndedBy != call.ByGuardian || c.EndedByUser != "son" || !c.EndedAt.IsZero() {
		t.Fatalf("End: %+v, %v", c, err)
	}
	if rel := c.Leg(call.Trunk).ReleasedAt.Sub(asked); rel < 0 || rel > 200*time.Millisecond {
		t.Errorf("the provider's leg released %v after the request", rel)
	}
	if _, err := g.End(ctx, id, "daughter"); !errors.Is(err, ErrEnded) {
		t.Errorf("ending it again while the resident hears why: %v", err)
	}
	var bye *sip.Request
	for bye == nil {
		m, _, _ := p.read(10 * time.Second)
		if m == nil {
			t.Fatal("the phone got no BYE")
		}
		if r, ok := m.(*sip.Request); ok && r.Method == sip.BYE {
			bye = r
		}
	}
	byeAt := time.Now()
	p.send([]byte(sip.NewResponseFromRequest(bye, 200, "OK", nil).String()))
	prompt, _ := media.Prompt(familyEndedPrompt)
	if promptLen := time.Duration(len(prompt)) * time.Second / 8000; byeAt.Sub(asked) < promptLen {
		t.Errorf("the phone got BYE %v after the request, before the %v prompt could end", byeAt.Sub(asked), promptLen)
	}
	mu.Lock()
	if !bytes.Contains(heard, prompt) {
		t.Errorf("the phone did not hear the whole family_ended prompt (%d bytes of audio)", len(heard))
	}
	mu.Unlock()
	g.waitIdle(t)
	c, ok := g.Call(id)
	if !ok || c.EndedAt.IsZero() || c.EndedBy != call.ByGuardian || c.EndedByUser != "son" || c.Outcome != call.Completed {
		t.Errorf("the ended call: %+v (%v)", c, ok)
	}
	if len(g.Live()) != 0 {
		t.Errorf("still live: %+v", g.Live())
	}
	if _, err := g.End(ctx, id, "son"); !errors.Is(err, ErrEnded) {
		t.Errorf("ending the ended call: %v", err)
	}
}

// dialOut places a call from the phone peer p (its audio on media) to number through g,
// answering the guard's challenge, and acknowledges the answer.
func dialOut(t *testing.T, g *testGuard, p *peer, media *net.UDPConn, number string) {
	t.Helper()
	invite := func(cseq int, auth string) []byte {
		return bytes.Replace(outbound("udp", p.local, g.addr, number, cseq, auth), []byte("m=audio 6400 "),
			fmt.Appendf(nil, "m=audio %d ", media.LocalAddr().(*net.UDPAddr).Port), 1)
	}
	p.send(invite(1, ""))
	res, _ := p.final(5 * time.Second)
	if res != nil && res.StatusCode == 401 {
		acknowledge(t, p, "udp", res)
		p.send(invite(2, digestAuth(res, "INVITE", "sip:"+number+"@"+g.addr, "kitchen", "s3cret")))
		res, _ = p.final(5 * time.Second)
	}
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the call answered %v", res)
	}
	p.send(fmt.Appendf(nil, "ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-ack-%s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		res.Contact().Address.String(), p.local, number, res.From().Value(), res.To().Value(), res.CallID().Value(), res.CSeq().SeqNo))
}

// An emergency call is never ended from the dashboard; it stays up.
func TestGuardianCannotEndAnEmergencyCall(t *testing.T) {
	provider := startPeerUAS(t, testNet+"2", true, false, nil)
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), edit: func(c *config.Config) { c.Trunk.Address = provider.addr }})
	phoneIP := testNet + "162"
	phoneMedia, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(phoneIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer phoneMedia.Close()
	p := newPeer(t, "udp", phoneIP, 0, g.addr)
	dialOut(t, g, p, phoneMedia, "999")
	live := g.Live()
	if len(live) != 1 || !live[0].Emergency {
		t.Fatalf("live calls: %+v", live)
	}
	if _, err := g.End(context.Background(), live[0].ID, "son"); !errors.Is(err, ErrEmergency) {
		t.Errorf("ending the 999 call: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if live := g.Live(); len(live) != 1 || live[0].EndedBy != call.NotEnded {
		t.Errorf("the 999 call after the refused end: %+v", live)
	}
}
