package e2e

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
)

// The courier-fraud trick: the household hangs up, the caller stays on the line. The guard
// must BYE the caller within 200 ms, and the household's next call must be a fresh call.
func TestHouseholdHangsUpCallerStaysOnLine(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_hangs_up.xml")
	caller := g.caller("caller_stays.xml")
	phone.wait()
	caller.wait()

	hungUp := phone.mustFind(true, "BYE ")
	byeToCaller := caller.mustFind(false, "BYE ")
	// The two times come from two SIPp processes, each stamping a message when it logs it:
	// under load the sender may log its BYE after the receiver has logged the guard's,
	// so a skew of a few milliseconds below zero is the clocks, not the guard.
	if d := byeToCaller.at.Sub(hungUp.at); d < -5*time.Millisecond || d > 200*time.Millisecond {
		t.Errorf("caller got BYE %v after the household's BYE; want within 200ms", d)
	}
	calls := g.waitEnded(1)
	c := calls[0]
	if c.EndedBy != call.ByHousehold || c.Outcome != call.Completed || c.Direction != call.Inbound {
		t.Errorf("call = ended_by %q outcome %q direction %q", c.EndedBy, c.Outcome, c.Direction)
	}
	house, trunk := c.Leg(call.Household), c.Leg(call.Trunk)
	if house.ReleasedAt.IsZero() || trunk.ReleasedAt.IsZero() {
		t.Fatalf("legs not released: %+v", c.Legs)
	}
	if d := trunk.ReleasedAt.Sub(house.ReleasedAt); d < 0 || d > 200*time.Millisecond {
		t.Errorf("trunk leg released %v after the household leg", d)
	}
	firstCallID := byeToCaller.header("Call-ID")

	// The caller's old address and media port now hear nothing, whatever the household does.
	callerAddr := &net.UDPAddr{IP: net.ParseIP(trunkIP), Port: g.callerPort}
	watch, err := net.ListenUDP("udp", callerAddr)
	if err != nil {
		t.Fatalf("watching the old caller's address: %v", err)
	}
	defer watch.Close()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		n, _, err := watch.ReadFromUDP(buf)
		if err == nil {
			got <- string(buf[:n])
		}
	}()

	// The household rings 101 to check: the trunk gets a new INVITE for 101.
	trunkSide := g.trunk("trunk_answers.xml")
	dialler := g.dial("phone_dials.xml", "101", "-au", "kitchen", "-ap", "s3cret")
	dialler.wait()
	trunkSide.wait()
	inv := trunkSide.mustFind(false, "INVITE ")
	if !strings.HasPrefix(inv.start, "INVITE sip:101@") {
		t.Errorf("trunk got %q; want an INVITE for 101", inv.start)
	}
	if inv.header("Call-ID") == firstCallID {
		t.Errorf("the call to 101 reused the first call's Call-ID %s", firstCallID)
	}
	select {
	case m := <-got:
		t.Errorf("the old caller received after hanging up:\n%s", m)
	case <-time.After(300 * time.Millisecond):
	}
	calls = g.waitEnded(2)
	if calls[0].Direction != call.Outbound || !strings.Contains(calls[0].To, "101@") {
		t.Errorf("newest call = %+v; want the outbound call to 101", calls[0])
	}
	g.waitIdle()
}

func TestCallerHangsUpFirst(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_answers.xml")
	caller := g.caller("caller_hangs_up.xml")
	caller.wait()
	phone.wait()
	hangUp := caller.mustFind(true, "BYE ")
	bye := phone.mustFind(false, "BYE ")
	if d := bye.at.Sub(hangUp.at); d > 200*time.Millisecond {
		t.Errorf("phone got BYE %v after the caller's", d)
	}
	c := g.waitEnded(1)[0]
	if c.EndedBy != call.ByCaller || c.Outcome != call.Completed {
		t.Errorf("ended_by %q outcome %q; want caller, completed", c.EndedBy, c.Outcome)
	}
	g.waitIdle()
}

func TestUnansweredCallsCleanUp(t *testing.T) {
	tests := []struct {
		name            string
		phone, caller   string
		ringTimeout     time.Duration
		outcome         call.Outcome
		endedBy         call.EndedBy
		phoneGetsCancel bool
	}{
		{"caller cancels", "phone_rings.xml", "caller_cancels.xml", 5 * time.Second, call.Cancelled, call.ByCaller, true},
		{"busy", "phone_busy.xml", "caller_refused.xml", 5 * time.Second, call.Busy, call.ByHousehold, false},
		{"no answer", "phone_rings.xml", "caller_refused.xml", time.Second, call.NoAnswer, call.ByGuard, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGuard(t, func(c *config.Config, _ *guard) { c.SIP.RingTimeout = config.Dur(tt.ringTimeout) })
			phone := g.phone(tt.phone)
			caller := g.caller(tt.caller)
			caller.wait()
			phone.wait()
			if tt.phoneGetsCancel {
				phone.mustFind(false, "CANCEL ")
			}
			c := g.waitEnded(1)[0]
			if c.Outcome != tt.outcome || c.EndedBy != tt.endedBy {
				t.Errorf("outcome %q ended_by %q; want %q, %q (reason %q)", c.Outcome, c.EndedBy, tt.outcome, tt.endedBy, c.Reason)
			}
			for _, l := range c.Legs {
				if l.ReleasedAt.IsZero() {
					t.Errorf("%s leg not released", l.Side)
				}
			}
			g.waitIdle()
		})
	}
}

func TestMediaRelayedBothWaysThroughGuardPorts(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_answers.xml", "-rtp_echo")
	caller := g.caller("caller_hangs_up.xml")
	caller.wait()
	phone.wait()

	offerToPhone := phone.mustFind(false, "INVITE ")
	ip, port := offerToPhone.sdpAudio()
	if ip != phoneIP || port < g.mediaLo || port > g.mediaHi {
		t.Errorf("phone was offered media at %s:%d; want the guard's %s:%d-%d", ip, port, phoneIP, g.mediaLo, g.mediaHi)
	}
	answerToCaller := caller.mustFind(false, "SIP/2.0 200")
	ip, port = answerToCaller.sdpAudio()
	if ip != phoneIP || port < g.mediaLo || port > g.mediaHi {
		t.Errorf("caller was answered with media at %s:%d; want the guard's range", ip, port)
	}
	fromTrunk := g.metric(`clearline_rtp_packets_relayed_total{from="trunk"}`)
	fromHouse := g.metric(`clearline_rtp_packets_relayed_total{from="household"}`)
	if fromTrunk < 20 || fromHouse < 20 {
		t.Errorf("relayed %v packets from the trunk and %v from the household; want both ways", fromTrunk, fromHouse)
	}
	g.waitIdle()
}

func TestEmergencyCallWithoutStorage(t *testing.T) {
	g := startGuard(t, nil)
	g.stop()
	// A data directory that cannot exist: its parent is a file.
	blocker := g.dir + "/not-a-directory"
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	g = startGuard(t, func(c *config.Config, _ *guard) { c.DataDir, c.Database = blocker+"/data", "" })
	var health map[string]string
	if code := g.getJSON("/healthz", &health); code != 503 || !strings.Contains(health["store"], "not a directory") {
		t.Errorf("healthz = %d %v; want 503 naming the store's problem", code, health)
	}
	for _, number := range []string{"999", "112"} {
		trunkSide := g.trunk("trunk_answers.xml")
		dialler := g.dial("phone_dials_emergency.xml", number)
		dialler.wait()
		trunkSide.wait()
		if inv := trunkSide.mustFind(false, "INVITE "); !strings.HasPrefix(inv.start, "INVITE sip:"+number+"@") {
			t.Errorf("trunk got %q", inv.start)
		}
	}
	// An ordinary call from an unauthenticated phone is still challenged.
	dialler := g.dial("phone_dials_emergency.xml", "01632960000")
	if err := dialler.result(); err == nil {
		t.Error("an unauthenticated call to an ordinary number went through")
	}
	dialler.mustFind(false, "SIP/2.0 401")
}

// The same call over TCP: the caller connects over TCP and receives the guard's BYE.
func TestCallOverTCP(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_hangs_up.xml")
	caller := g.caller("caller_stays.xml", "-t", "t1")
	phone.wait()
	caller.wait()
	if bye := caller.mustFind(false, "BYE "); !strings.Contains(bye.text, "SIP/2.0/TCP") {
		t.Errorf("BYE to the TCP caller did not come over TCP:\n%s", bye.text)
	}
	c := g.waitEnded(1)[0]
	if c.EndedBy != call.ByHousehold {
		t.Errorf("ended_by %q", c.EndedBy)
	}
	g.waitIdle()
}

// When the media stops (the caller's audio ends after 7 s) for longer than media.timeout,
// the guard releases both legs and says so.
func TestSilentCallTimesOut(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) { c.Media.Timeout = config.Dur(time.Second) })
	phone := g.phone("phone_answers.xml")
	caller := g.caller("caller_stays.xml")
	caller.wait()
	phone.wait()
	phone.mustFind(false, "BYE ")
	caller.mustFind(false, "BYE ")
	c := g.waitEnded(1)[0]
	if c.EndedBy != call.ByTimeout || !strings.Contains(c.Reason, "no media") {
		t.Errorf("ended_by %q reason %q; want timeout", c.EndedBy, c.Reason)
	}
	if d := c.EndedAt.Sub(c.AnsweredAt); d < 7*time.Second || d > 11*time.Second {
		t.Errorf("ended %v after answer; the audio lasts 7s and the timeout is 1s", d)
	}
	g.waitIdle()
}

// With no phone registered, a call from the provider is refused with 480 and leaves
// nothing behind: no call, no media session, no bound port, and the guard stops at once.
func TestNoPhoneRegisteredLeavesNothingBehind(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) { c.Phones[0].Contact = "" })
	caller := g.caller("caller_refused.xml")
	caller.wait()
	c := g.waitEnded(1)[0]
	if c.Outcome != call.Failed || !strings.Contains(c.Reason, "no phone is registered") {
		t.Errorf("call = %v %q", c.Outcome, c.Reason)
	}
	g.waitIdle()
	stopped := make(chan struct{})
	go func() { g.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the guard did not stop: the refused call is still counted as running")
	}
}

// The household rings 999, and the guard restarts (an upgrade, a power cut) before the
// ambulance rings back: the restarted guard learns from the record that the household rang
// 999, and the call-back from a number it has never seen rings straight through though the
// household screens unknown callers.
func TestEmergencyRingBackSurvivesRestart(t *testing.T) {
	screenUnknown := func(c *config.Config) { c.Screening.Unknown = "screen" }
	g := startGuard(t, func(c *config.Config, _ *guard) { screenUnknown(c) })
	trunkSide := g.trunk("trunk_answers.xml")
	g.dial("phone_dials_emergency.xml", "999").wait()
	trunkSide.wait()
	g.waitEnded(1)
	data, database := g.cfg.DataDir, g.cfg.Database
	g.stop()

	g = startGuard(t, func(c *config.Config, _ *guard) { screenUnknown(c); c.DataDir, c.Database = data, database })
	time.Sleep(500 * time.Millisecond) // the memory is read beside the guard answering calls
	kitchen := g.phone("phone_answers.xml")
	g.callerAs("+441632960999", "", "caller_hangs_up.xml").wait()
	kitchen.wait()
	var back call.Call
	for _, c := range g.waitEnded(2) {
		if strings.Contains(c.From, "+441632960999") {
			back = c
		}
	}
	if back.Verdict != "allow" || !strings.Contains(strings.Join(back.Reasons, " "), "rang an emergency number") || back.Outcome != call.Completed {
		t.Errorf("the call-back after a restart: verdict %q %v, outcome %v; want rung straight through after the 999 call", back.Verdict, back.Reasons, back.Outcome)
	}
}
