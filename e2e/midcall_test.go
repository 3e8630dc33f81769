package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
)

// A hold (a=sendonly) and a resume from either side reach the other side as re-INVITEs,
// and each side gets the other's answer (a=recvonly, then a=sendrecv: RFC 3264 §6.1) with
// the relay's address, so both know where the call stands; the SIPp scenarios check each
// offer and answer, and this test that the media still goes through the guard.
func TestHoldBothWays(t *testing.T) {
	for _, tt := range []struct {
		name, caller, phone string
		holder              func(caller, phone *sipp) *sipp // whose messages carry the hold's answer
		held                func(caller, phone *sipp) *sipp // who was asked
	}{
		{"caller holds", "caller_holds.xml", "phone_answers_hold.xml",
			func(c, _ *sipp) *sipp { return c }, func(_, p *sipp) *sipp { return p }},
		{"household holds", "caller_held.xml", "phone_holds.xml",
			func(_, p *sipp) *sipp { return p }, func(c, _ *sipp) *sipp { return c }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := startGuard(t, nil)
			phone := g.phone(tt.phone)
			caller := g.caller(tt.caller)
			caller.wait()
			phone.wait()
			// The held side was sent the hold by the guard, pointing at the guard's relay.
			held := tt.held(caller, phone)
			var holds []message
			for _, m := range held.messages() {
				if !m.sent && strings.HasPrefix(m.start, "INVITE ") {
					holds = append(holds, m)
				}
			}
			if want := map[bool]int{true: 3, false: 2}[held == phone]; len(holds) != want {
				t.Fatalf("%s got %d INVITEs; want %d (the call, the hold, the resume):\n%s", held.name, len(holds), want, held.summary())
			}
			hold := holds[len(holds)-2]
			if ip, port := hold.sdpAudio(); !strings.Contains(hold.text, "a=sendonly") || ip != phoneIP || port < g.mediaLo || port > g.mediaHi {
				t.Errorf("the hold reached %s as %s:%d:\n%s", held.name, ip, port, hold.text)
			}
			// The holder's answer came from the other side, through the relay.
			var answers []message
			for _, m := range tt.holder(caller, phone).messages() {
				if !m.sent && strings.HasPrefix(m.start, "SIP/2.0 200") && strings.Contains(m.text, "m=audio") && strings.Contains(m.header("CSeq"), "INVITE") {
					answers = append(answers, m)
				}
			}
			if len(answers) < 2 {
				t.Fatalf("no answer to the hold")
			}
			if ip, port := answers[len(answers)-2].sdpAudio(); !strings.Contains(answers[len(answers)-2].text, "a=recvonly") || ip != phoneIP || port < g.mediaLo || port > g.mediaHi {
				t.Errorf("the answer to the hold was %s:%d:\n%s", ip, port, answers[len(answers)-2].text)
			}
			g.waitEnded(1)
			g.waitIdle()
		})
	}
}

// The provider's announcement before it answers (183 with a session description, then its
// audio) reaches the phone through the guard's relay before the call is answered.
func TestEarlyMediaReachesThePhone(t *testing.T) {
	g := startGuard(t, nil)
	trunkSide := g.trunk("trunk_early_media.xml")
	dialler := g.dial("phone_dials_early.xml", "01632960999", "-au", "kitchen", "-ap", "s3cret")
	deadline := time.Now().Add(2500 * time.Millisecond)
	for g.metric(`clearline_rtp_packets_relayed_total{from="trunk"}`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no audio from the provider relayed before it answered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The call's record is written a moment after it starts (the recorder batches its
	// writes, and PostgreSQL is further away than a file): wait for it, well within the
	// provider's 3 s announcement.
	cs, wait := g.calls(), time.Now().Add(time.Second)
	for len(cs) == 0 && time.Now().Before(wait) {
		time.Sleep(20 * time.Millisecond)
		cs = g.calls()
	}
	if len(cs) != 1 || !cs[0].AnsweredAt.IsZero() {
		t.Fatalf("the early audio came after the answer: %+v", cs)
	}
	dialler.wait()
	trunkSide.wait()
	early := dialler.mustFind(false, "SIP/2.0 183")
	if ip, port := early.sdpAudio(); ip != phoneIP || port < g.mediaLo || port > g.mediaHi {
		t.Errorf("the phone was given %s:%d for the early media, not the relay", ip, port)
	}
	g.waitEnded(1)
	g.waitIdle()
}

// A provider that makes the guard refresh a 4 s session timer (RFC 4028) gets its refresh
// re-INVITE in time, and the call lasts past the interval.
func TestSessionTimerRefreshedByTheGuard(t *testing.T) {
	g := startGuard(t, nil)
	trunkSide := g.trunk("trunk_session_timer.xml")
	dialler := g.dial("phone_dials.xml", "01632960999", "-au", "kitchen", "-ap", "s3cret", "-d", "5000")
	dialler.wait()
	trunkSide.wait()
	cs := g.waitEnded(1)
	if cs[0].EndedBy != call.ByHousehold || cs[0].AnsweredAt.IsZero() {
		t.Errorf("the call ended by %q (%s); want the household hanging up after 5 s", cs[0].EndedBy, cs[0].Reason)
	}
	g.waitIdle()
}

// A provider that sends its early media reliably (RFC 3262: 183 with Require: 100rel)
// gets its PRACK, and the call goes on to be answered.
func TestReliableProvisionalAcknowledged(t *testing.T) {
	g := startGuard(t, nil)
	trunkSide := g.trunk("trunk_requires_prack.xml")
	dialler := g.dial("phone_dials.xml", "01632960999", "-au", "kitchen", "-ap", "s3cret")
	dialler.wait()
	trunkSide.wait()
	if prack := trunkSide.mustFind(false, "PRACK "); prack.header("RAck") == "" {
		t.Errorf("PRACK without RAck:\n%s", prack.text)
	}
	g.waitEnded(1)
	g.waitIdle()
}

// A provider whose INVITE requires reliable provisional responses gets its 180 with RSeq,
// resent until its PRACK, which the guard accepts, and the call connects.
func TestProviderRequiring100rel(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_rings_answers.xml") // rings first, so the guard has a 180 to send
	caller := g.caller("caller_requires_100rel.xml")
	caller.wait()
	phone.wait()
	if ring := caller.mustFind(false, "SIP/2.0 180"); !strings.Contains(ring.header("Require"), "100rel") || ring.header("RSeq") == "" {
		t.Errorf("the 180 is not reliable:\n%s", ring.text)
	}
	g.waitEnded(1)
	g.waitIdle()
}
