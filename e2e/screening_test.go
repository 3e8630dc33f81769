package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
)

// A caller presenting 101 is spoofing the police line: the guard answers only to tell the
// caller the call is blocked, hangs up, the household's phone never rings, and the call log
// says why.
func TestSpoofed101IsBlockedAndPhoneNeverRings(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_answers.xml", "-timeout", "8s")
	caller := g.callerAs("101", "Detective Sergeant Miller", "caller_stays.xml")
	caller.wait()
	answered := caller.mustFind(false, "SIP/2.0 200")
	if ip, port := answered.sdpAudio(); ip != phoneIP || port < g.mediaLo || port > g.mediaHi {
		t.Errorf("the announcement came from %s:%d, not the guard's relay", ip, port)
	}
	bye := caller.mustFind(false, "BYE ")
	if d := bye.at.Sub(answered.at); d < 3*time.Second || d > 8*time.Second {
		t.Errorf("BYE %v after answer; the announcement lasts about 4 s", d)
	}
	if n := g.metric(`clearline_prompts_played_total{prompt="blocked"}`); n != 1 {
		t.Errorf("blocked prompt played %v times", n)
	}
	_ = phone.result()
	if _, rang := phone.find(false, "INVITE "); rang {
		t.Error("the household's phone rang for a spoofed 101 call")
	}
	c := g.waitEnded(1)[0]
	if c.Outcome != call.Blocked || c.Verdict != "block" || len(c.Reasons) == 0 || !strings.Contains(c.Reasons[0], "the police never call from 101") {
		t.Errorf("call = outcome %q verdict %q reasons %q", c.Outcome, c.Verdict, c.Reasons)
	}
	if c.Leg(call.Household).Peer != "" {
		t.Errorf("a household leg was made: %+v", c.Legs)
	}
	g.waitIdle()
}

// A trusted contact rings through even with a name that would otherwise draw a warning.
func TestAllowListedCallRingsThrough(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.Screening.Allow = []string{"01632 960 001"}
	})
	phone := g.phone("phone_answers.xml")
	caller := g.callerAs("+441632960001", "Police Family Liaison", "caller_hangs_up.xml")
	caller.wait()
	phone.wait()
	c := g.waitEnded(1)[0]
	if c.Verdict != "allow" || c.Outcome != call.Completed || !strings.Contains(strings.Join(c.Reasons, " "), "trusted contacts") {
		t.Errorf("call = verdict %q outcome %q reasons %q", c.Verdict, c.Outcome, c.Reasons)
	}
}

// Without the allow-list, a police name on an ordinary number is warned about: the resident
// hears the spoken warning on their leg before the caller is connected.
func TestPoliceDisplayNameIsWarned(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_answers.xml", "-rtp_echo")
	caller := g.callerAs("+442085550123", "Met Police Fraud Squad", "caller_hangs_up.xml")
	caller.wait()
	phone.wait()
	phoneAnswered := phone.mustFind(true, "SIP/2.0 200")
	callerConnected := caller.mustFind(false, "SIP/2.0 200")
	if d := callerConnected.at.Sub(phoneAnswered.at); d < 5*time.Second || d > 12*time.Second {
		t.Errorf("the caller was connected %v after the phone answered; the warning lasts about 7 s", d)
	}
	if n := g.metric(`clearline_prompts_played_total{prompt="warn_police"}`); n != 1 {
		t.Errorf("police warning played %v times", n)
	}
	c := g.waitEnded(1)[0]
	if c.Verdict != "warn" || c.Outcome != call.Completed || !strings.Contains(strings.Join(c.Reasons, " "), "as if from the police") {
		t.Errorf("verdict %q outcome %q reasons %q", c.Verdict, c.Outcome, c.Reasons)
	}
}

// After a warned call, *88 reaches the police on 101, and *89 the bank's number from the
// household's directory: each time the guard first tells the resident this is a new call,
// then places it on the trunk as a new INVITE.
func TestFeatureCodesRingTheDirectoryAfresh(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) { c.Callback.Bank = "0345 734 5345" })
	phone := g.phone("phone_answers.xml")
	caller := g.callerAs("+442085550123", "Detective Sergeant Miller", "caller_hangs_up.xml")
	caller.wait()
	phone.wait()
	warned := caller.mustFind(true, "INVITE ").header("Call-ID")
	for code, want := range map[string]string{"*88": "INVITE sip:101@", "*89": "INVITE sip:03457345345@"} {
		trunkSide := g.trunk("trunk_answers.xml")
		dialler := g.dial("phone_dials.xml", code, "-au", "kitchen", "-ap", "s3cret", "-d", "12000")
		dialler.wait()
		trunkSide.wait()
		inv := trunkSide.mustFind(false, "INVITE ")
		if !strings.HasPrefix(inv.start, want) || inv.header("Call-ID") == warned {
			t.Errorf("%s reached the trunk as %q (Call-ID %s); want a new %s", code, inv.start, inv.header("Call-ID"), want)
		}
		if answered := dialler.mustFind(false, "SIP/2.0 200"); inv.at.Sub(answered.at) < 4*time.Second {
			t.Errorf("%s: the trunk was called %v after the guard answered the resident; the announcement comes first", code, inv.at.Sub(answered.at))
		}
	}
	for _, p := range []string{"callback_police", "callback_bank"} {
		if n := g.metric(`clearline_prompts_played_total{prompt="` + p + `"}`); n != 1 {
			t.Errorf("%s played %v times", p, n)
		}
	}
}

// After a risky call, dialling 101 itself is announced as a fresh call too.
func TestCallingPoliceAfterRiskyCallIsAnnounced(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_answers.xml")
	caller := g.callerAs("+442085550123", "Metropolitan Police", "caller_hangs_up.xml")
	caller.wait()
	phone.wait()
	trunkSide := g.trunk("trunk_answers.xml")
	dialler := g.dial("phone_dials.xml", "101", "-au", "kitchen", "-ap", "s3cret", "-d", "10000")
	dialler.wait()
	trunkSide.wait()
	trunkSide.mustFind(false, "INVITE sip:101@")
	if n := g.metric(`clearline_prompts_played_total{prompt="callback_police"}`); n != 1 {
		t.Errorf("call-back announcement played %v times", n)
	}
}

// SIPp's stock scenarios present the name "sipp", not a number: screening has no number to
// judge and the call reaches the phone.
func TestStockSIPpCallReachesThePhone(t *testing.T) {
	g := startGuard(t, nil)
	phone := runSIPp(t, "phone", "", "-sn", "uas", "-i", phoneIP, "-p", strconv.Itoa(g.phonePort))
	caller := runSIPp(t, "caller", "", "-sn", "uac", "-i", trunkIP, "-p", strconv.Itoa(g.callerPort), "-s", "kitchen", g.sip)
	caller.wait()
	phone.wait()
	c := g.waitEnded(1)[0]
	if c.Outcome != call.Completed || c.Verdict != "allow" {
		t.Errorf("outcome %q verdict %q reasons %q", c.Outcome, c.Verdict, c.Reasons)
	}
}

// A withheld caller is asked their name; the phone hears it and presses 1; only then are
// the two connected.
func TestWithheldCallerIsAnnouncedAndAccepted(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_screen_accept.xml")
	caller := g.callerAs("anonymous", "Anonymous", "caller_stays.xml")
	caller.wait()
	phone.wait()
	callerAnswered := caller.mustFind(false, "SIP/2.0 200")
	phoneRang := phone.mustFind(false, "INVITE ")
	if d := phoneRang.at.Sub(callerAnswered.at); d < 5*time.Second {
		t.Errorf("the phone rang %v after the guard answered the caller; it must first ask and record the name", d)
	}
	phone.mustFind(true, "BYE ")
	caller.mustFind(false, "BYE ")
	c := g.waitEnded(1)[0]
	if c.Verdict != "screen" || c.Outcome != call.Completed || c.AnsweredAt.IsZero() || c.EndedBy != call.ByHousehold {
		t.Errorf("verdict %q outcome %q answered %v ended_by %q (reason %q)", c.Verdict, c.Outcome, c.AnsweredAt, c.EndedBy, c.Reason)
	}
	if g.metric(`clearline_prompts_played_total{prompt="screen_ask"}`) != 1 {
		t.Error("the caller was not asked for their name")
	}
	g.waitIdle()
}

// Pressing 2 refuses the caller: both legs are released and the call is recorded as blocked.
func TestScreenedCallRefused(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_screen_refuse.xml", "-timeout", "20s")
	caller := g.callerAs("anonymous", "Anonymous", "caller_stays.xml")
	caller.wait()
	_ = phone.result()
	phone.mustFind(false, "BYE ")
	c := g.waitEnded(1)[0]
	if c.Outcome != call.Blocked || !strings.Contains(c.Reason, "refused") || !c.AnsweredAt.IsZero() {
		t.Errorf("outcome %q reason %q answered %v", c.Outcome, c.Reason, c.AnsweredAt)
	}
	g.waitIdle()
}

// With unknown: screen, an ordinary caller not on the allow-list is announced first too.
func TestUnknownCallerScreenedWhenHouseholdAsks(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) { c.Screening.Unknown = "screen" })
	phone := g.phone("phone_screen_accept.xml")
	caller := g.caller("caller_stays.xml")
	caller.wait()
	phone.wait()
	c := g.waitEnded(1)[0]
	if c.Verdict != "screen" || c.Outcome != call.Completed || !strings.Contains(strings.Join(c.Reasons, " "), "not one of the household's trusted contacts") {
		t.Errorf("verdict %q outcome %q reasons %q", c.Verdict, c.Outcome, c.Reasons)
	}
}
