package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub/hubsql"
	"github.com/clearline/clearline/internal/media"
)

// blockList reads the household's block-list as the dashboard shows it.
func (g *guard) blockList() []dash.Contact {
	g.t.Helper()
	var h dash.Household
	if code := g.getJSON("/api/v1/households/"+g.cfg.Household.ID, &h); code != 200 {
		g.t.Fatalf("GET household: %d", code)
	}
	return h.Settings.Block
}

// codeCall is a handset code dialled from the kitchen phone: the SIPp trace, and how much
// audio (bytes of G.711, one a sample) reached the phone's RTP port.
type codeCall struct {
	*sipp
	audio int
}

// dialCode dials a handset code from the kitchen phone: the guard answers the code itself,
// speaks and hangs up. What it says is counted at the phone's RTP port.
func (g *guard) dialCode(code string) codeCall {
	g.t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(phoneIP)})
	if err != nil {
		g.t.Fatal(err)
	}
	var audio atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			if n > 12 && buf[0]>>6 == 2 { // RTP version 2; the guard sends no CSRC or extension
				audio.Add(int64(n - 12))
			}
		}
	}()
	d := g.dial("phone_dials_code.xml", code, "-au", "kitchen", "-ap", "s3cret", "-key", "rtp_port", strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port))
	d.wait()
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	<-done
	return codeCall{d, int(audio.Load())}
}

// said checks that the phone heard the prompts named, whole, and nothing else: their
// samples with the guard's 150 ms pause after each.
func (c codeCall) said(names ...string) {
	c.t.Helper()
	want := 0
	for _, n := range names {
		p, err := media.Prompt(n)
		if err != nil {
			c.t.Fatal(err)
		}
		want += len(p) + 1200
	}
	if c.audio < want*98/100 || c.audio > want {
		c.t.Errorf("the phone heard %.2f s of the guard; %s last %.2f s", float64(c.audio)/8000, strings.Join(names, " + "), float64(want)/8000)
	}
	if s := spoke(c.sipp); s < time.Duration(want)*time.Second/8000 {
		c.t.Errorf("the guard hung up %v after answering, before %s ended", s, strings.Join(names, " + "))
	}
}

// spoke says how long the guard talked between answering the code call and hanging up.
func spoke(d *sipp) time.Duration {
	return d.mustFind(false, "BYE ").at.Sub(d.mustFind(false, "SIP/2.0 200").at)
}

// The resident blocks the caller who just rang by dialling *84: the guard says which number
// it blocked, the number is on the household's block-list on the dashboard, and its next
// call is blocked before any phone rings. The code call itself is not placed on the trunk
// (none runs here) and is not recorded as a call.
func TestHandsetCodeBlocksTheLastCaller(t *testing.T) {
	g := startGuard(t, nil)
	phone := g.phone("phone_answers.xml")
	g.callerAs("+441632960123", "Jean Smith", "caller_hangs_up.xml").wait()
	phone.wait()
	if c := g.waitEnded(1)[0]; c.Outcome != call.Completed {
		t.Fatalf("the first call: %v (%q)", c.Outcome, c.Reason)
	}

	// "The number ending one two three is now blocked..."
	g.dialCode("*84").said("handset_blocked", "digit_1", "digit_2", "digit_3", "handset_blocked_end")
	if n := g.metric(`clearline_prompts_played_total{prompt="handset_blocked"}`); n != 1 {
		t.Errorf("handset_blocked played %v times", n)
	}
	bl := g.blockList()
	if len(bl) != 1 || bl[0].Number != "+441632960123" {
		t.Fatalf("the dashboard's block-list is %+v; want +441632960123", bl)
	}
	if cs := g.calls(); len(cs) != 1 {
		t.Errorf("%d calls recorded; the code call is not one of the household's calls", len(cs))
	}

	// The same number again: blocked, and no phone rings (none is running to answer).
	g.callerAs("+441632960123", "Jean Smith", "caller_stays.xml").wait()
	c := g.waitEnded(2)[0]
	if c.Outcome != call.Blocked || c.Verdict != "block" || !strings.Contains(strings.Join(c.Reasons, " "), "on the household's block-list") {
		t.Errorf("the blocked number's next call: outcome %v verdict %q reasons %q", c.Outcome, c.Verdict, c.Reasons)
	}

	// Dialled again, the code keeps the list as it is: the blocked call does not count
	// as the last caller (it never rang), so the same number is confirmed once more.
	g.dialCode("*84").said("handset_blocked", "digit_1", "digit_2", "digit_3", "handset_blocked_end")
	if bl := g.blockList(); len(bl) != 1 {
		t.Errorf("block-list after a second *84: %+v", bl)
	}
	g.waitIdle()
}

// With no call since the guard started, the codes say so and change nothing.
func TestHandsetCodesWithNoLastCall(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) { c.Household.District = "Winchester" })
	g.dialCode("*84").said("handset_no_call_block")
	if n := g.metric(`clearline_prompts_played_total{prompt="handset_no_call_block"}`); n != 1 {
		t.Errorf("handset_no_call_block played %v times", n)
	}
	g.dialCode("*85").said("handset_no_call_report")
	if n := g.metric(`clearline_prompts_played_total{prompt="handset_no_call_report"}`); n != 1 {
		t.Errorf("handset_no_call_report played %v times", n)
	}
	if bl := g.blockList(); len(bl) != 0 {
		t.Errorf("the block-list is %+v; nothing should have changed", bl)
	}
	if cs := g.calls(); len(cs) != 0 {
		t.Errorf("calls recorded: %+v", cs)
	}
}

// A caller who withheld their number cannot be blocked by number, from the handset as from
// the dashboard (whose Block button refuses "anonymous"): the guard says so and the list
// stays empty.
func TestHandsetCodeWithheldCaller(t *testing.T) {
	g := startGuard(t, nil)
	// Withheld callers are screened: the guard answers and asks their name; this one hangs up.
	g.callerAs("anonymous", "", "caller_hangs_up.xml").wait()
	if c := g.waitEnded(1)[0]; c.Verdict != "screen" {
		t.Fatalf("the withheld call's verdict is %q; want screen", c.Verdict)
	}
	g.dialCode("*84").said("handset_withheld")
	if n := g.metric(`clearline_prompts_played_total{prompt="handset_withheld"}`); n != 1 {
		t.Errorf("handset_withheld played %v times", n)
	}
	if bl := g.blockList(); len(bl) != 0 {
		t.Errorf("the block-list is %+v; nothing should have changed", bl)
	}
}

// *85 reports the last call to the regional hub: an ordinary call nothing found wrong with
// (so no report of its own) reaches the hub as the resident's report, with its number.
func TestHandsetCodeReportsTheLastCallToTheHub(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.Household.District = "Winchester"
		c.Hub.Run, c.Hub.Listen = true, freeTCP(t)
	})
	phone := g.phone("phone_answers.xml")
	g.callerAs("+441632960777", "Parcel Service", "caller_hangs_up.xml").wait()
	phone.wait()
	c := g.waitEnded(1)[0]
	if c.Verdict != "allow" {
		t.Fatalf("the call's verdict %q; want allow (a call the guard reports on its own would prove nothing)", c.Verdict)
	}
	time.Sleep(time.Second)
	if n := g.metric("clearline_hub_reports_sent_total"); n != 0 {
		t.Fatalf("%v reports sent before the code; want none", n)
	}

	g.dialCode("*85").said("handset_reported", "digit_7", "digit_7", "digit_7", "handset_reported_end")
	if n := g.metric(`clearline_prompts_played_total{prompt="handset_reported"}`); n != 1 {
		t.Errorf("handset_reported played %v times", n)
	}
	deadline := time.Now().Add(15 * time.Second)
	for g.metric(`clearline_hub_reports_total{result="stored"}`) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the hub stored no report: sent %v", g.metric("clearline_hub_reports_sent_total"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, err := hubsql.Open(context.Background(), "", g.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := st.Reports(context.Background(), []string{"call-" + c.ID})
	if err != nil || len(rs) != 1 {
		t.Fatalf("the hub's report of call %s: %+v %v", c.ID, rs, err)
	}
	if r := rs[0]; r.Number != "+441632960777" || r.Verdict != "reported" || r.Reporter != "resident" || r.District != "Winchester" || r.Source != "guard" {
		t.Errorf("the hub holds %+v", r)
	}
	if bl := g.blockList(); len(bl) != 0 {
		t.Errorf("reporting blocked %+v; it only reports", bl)
	}
}

// Emergency numbers are routed before the codes, whatever they are set to: 999 goes to the
// trunk unchanged, unauthenticated, with the codes configured and a last caller to act on.
func TestEmergencyFirstWithHandsetCodes(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) { c.Codes = config.Codes{BlockLast: "*1", ReportLast: "#2"} })
	phone := g.phone("phone_answers.xml")
	g.callerAs("+441632960123", "Jean Smith", "caller_hangs_up.xml").wait()
	phone.wait()
	trunkSide := g.trunk("trunk_answers.xml")
	dialler := g.dial("phone_dials_emergency.xml", "999")
	dialler.wait()
	trunkSide.wait()
	inv := trunkSide.mustFind(false, "INVITE ")
	if !strings.HasPrefix(inv.start, "INVITE sip:999@") {
		t.Errorf("the trunk got %q; want the call to 999", inv.start)
	}
	if _, challenged := dialler.find(false, "SIP/2.0 401"); challenged {
		t.Error("the emergency call was challenged")
	}
	e := g.waitEnded(2)[0]
	if !e.Emergency || e.Outcome != call.Completed {
		t.Errorf("the emergency call: %+v", e)
	}
	if bl := g.blockList(); len(bl) != 0 {
		t.Errorf("the block-list is %+v", bl)
	}

	// The configured codes work: *1 blocks the last (non-emergency, inbound) caller.
	g.dialCode("*1").said("handset_blocked", "digit_1", "digit_2", "digit_3", "handset_blocked_end")
	if bl := g.blockList(); len(bl) != 1 || bl[0].Number != "+441632960123" {
		t.Errorf("after *1 the block-list is %+v", bl)
	}
}

// Without storage nothing can be saved: the guard says the block could not be made (and to
// have the family block the number on the dashboard), and that this line sends no reports.
func TestHandsetCodesWithoutStorage(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-directory") // a data directory whose parent is a file
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.DataDir, c.Database = filepath.Join(blocker, "data"), "" // the SQLite file cannot be made
		c.Household.District = "Winchester"
	})
	phone := g.phone("phone_answers.xml")
	g.callerAs("+441632960123", "Jean Smith", "caller_hangs_up.xml").wait()
	phone.wait()
	g.dialCode("*84").said("handset_failed")
	g.dialCode("*85").said("handset_report_off")
}
