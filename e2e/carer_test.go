package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/testutil/tone"
)

// Carer Check end to end: the caller on the trunk, the household's phone, and the
// guardian's phone as a SIPp answerer on the trunk side (127.0.0.2), rung by the guard as a
// fresh outbound call.

const (
	guardianNumber = "+447700900123"
	householdDID   = "01632960100"
)

// carerGuard runs a guard whose household has unknown callers checked by a carer, with one
// guardian, Sarah, whose phone is guardianNumber.
func carerGuard(t *testing.T, edit func(*config.Config)) *guard {
	t.Helper()
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.Screening.Unknown = "carer"
		c.Trunk.DID = householdDID
		if edit != nil {
			edit(c)
		}
	})
	ctx := context.Background()
	db, err := openStore(g.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse battery"), bcrypt.MinCost)
	for _, u := range []struct{ email, name, phone string }{
		{"sarah@example.org", "Sarah", "07700 900123"},
		{"tom@example.org", "Tom", "07700 900999"}, // added after Sarah: rung only if she had no number
	} {
		created, err := db.CreateUser(ctx, dash.User{Email: u.email, Name: u.name, Role: dash.Guardian}, string(hash))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetGuardian(ctx, created.ID, g.cfg.Household.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveChannels(ctx, created.ID, dash.Channels{Phone: u.phone}); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// fillScenario writes a scenario template from testdata/sipp with r's replacements into
// dir, and returns its path.
func fillScenario(t *testing.T, dir, tmpl string, r *strings.Replacer) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(scenarios, tmpl))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, strings.TrimSuffix(tmpl, ".tmpl"))
	if err := os.WriteFile(path, []byte(r.Replace(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// guardianPhone runs the guardian's phone: it answers, does keys (a keying), and waits for
// the guard to hang up. audioPort, when not 0, is where its audio goes (a talker).
func (g *guard) guardianPhone(keys string, audioPort int) *sipp {
	audio := "[media_port]"
	if audioPort != 0 {
		audio = strconv.Itoa(audioPort)
	}
	scenario := fillScenario(g.t, g.t.TempDir(), "guardian_answers.xml.tmpl", strings.NewReplacer("@AUDIO@", audio, "@KEYS@", keys))
	s := g.trunk(scenario, "-timeout", "90s")
	s.limit = 80 * time.Second
	return s
}

// nameLength is how long the guard records a caller's name.
const nameLength = 3 * time.Second

// nameRecordedAt is when the guard has the caller's name, from the guard's answer to the
// caller: the question, the tone, then nameLength of recording.
func nameRecordedAt(t *testing.T) time.Duration {
	return seconds(prompt(t, "screen_ask")) + 400*time.Millisecond + nameLength
}

// An unknown caller is asked their name; the guard rings the household's first guardian
// with a number (Sarah, not Tom) on the trunk within a second of having it, showing the
// household's number; she presses 1, and only then does the household's phone ring and
// the caller get through.
func TestCarerCheckPutsCallerThrough(t *testing.T) {
	g := carerGuard(t, nil)
	guardian := g.guardianPhone(keying(3*time.Second, "1"), 0)
	talks := fillScenario(t, t.TempDir(), "phone_talks.xml.tmpl", strings.NewReplacer("@TALK@", "5000"))
	phone := g.phone(talks, "-key", "audio_port", strconv.Itoa(freePort(t, phoneIP)), "-timeout", "60s")
	caller := g.caller("caller_stays.xml", "-timeout", "60s")
	caller.limit, phone.limit = 60*time.Second, 60*time.Second
	caller.wait()
	phone.wait()
	guardian.wait()

	answered := caller.mustFind(false, "SIP/2.0 200")
	rung := guardian.mustFind(false, "INVITE ")
	if !strings.HasPrefix(rung.start, "INVITE sip:"+guardianNumber+"@") {
		t.Errorf("the guard rang %q; want Sarah, the first guardian with a number, on %s", rung.start, guardianNumber)
	}
	if from := rung.header("From"); !strings.Contains(from, "sip:"+householdDID+"@") {
		t.Errorf("the guardian's phone showed %q; want the household's number %s", from, householdDID)
	}
	if rung.header("Call-ID") == answered.header("Call-ID") {
		t.Error("the guardian's call reused the caller's Call-ID; it must be a fresh call")
	}
	after := rung.at.Sub(answered.at) - nameRecordedAt(t)
	t.Logf("the guardian's phone rang %v after the caller's name was recorded", after.Round(time.Millisecond))
	if after > time.Second || after < -300*time.Millisecond {
		t.Errorf("the guardian's phone rang %v after the name was recorded; the target is at most 1 s", after)
	}
	pressed := rung.at.Add(3 * time.Second)
	phoneRang := phone.mustFind(false, "INVITE ")
	if phoneRang.at.Before(pressed) {
		t.Errorf("the household's phone rang %v before the guardian chose", pressed.Sub(phoneRang.at))
	}
	guardian.mustFind(false, "BYE ")
	caller.mustFind(false, "BYE ")
	c := g.waitEnded(1)[0]
	if c.Verdict != "screen" || c.Outcome != call.Completed || c.EndedBy != call.ByHousehold || c.AnsweredAt.IsZero() {
		t.Errorf("verdict %q outcome %q ended_by %q answered %v (%s)", c.Verdict, c.Outcome, c.EndedBy, c.AnsweredAt, c.Reason)
	}
	if cc := c.Carer; cc == nil || cc.Guardian != "Sarah" || cc.Number != guardianNumber || cc.Choice != "through" || cc.AnsweredAt.IsZero() {
		t.Errorf("carer check on the record: %+v", c.Carer)
	}
	if l := c.Leg(call.Guardian); l.Peer == "" || l.ReleasedAt.IsZero() {
		t.Errorf("the guardian's leg on the record: %+v", l)
	}
	if n := g.metric(`clearline_prompts_played_total{prompt="carer_through"}`); n != 1 {
		t.Errorf("the guardian heard the call go through %v times", n)
	}
	g.waitIdle()
}

// The guardian presses 2: the caller is released, the household's phone never rings, and
// the call is recorded as refused by the guardian. So for an unknown caller, and for a
// warned one when the household has warned callers checked too.
func TestCarerCheckRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, display, verdict string
		edit                   func(*config.Config)
	}{
		{"unknown caller", "Jean Smith", "screen", nil},
		{"warned caller", "Met Police Fraud Squad", "warn", func(c *config.Config) { c.Screening.Unknown, c.Screening.Warned = "allow", "carer" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := carerGuard(t, tt.edit)
			guardian := g.guardianPhone(keying(2*time.Second, "2"), 0)
			phone := g.phone("phone_answers.xml", "-timeout", "25s")
			caller := g.callerAs("+442085550123", tt.display, "caller_stays.xml", "-timeout", "60s")
			caller.limit = 60 * time.Second
			caller.wait()
			guardian.wait()
			_ = phone.result()
			if _, rang := phone.find(false, "INVITE "); rang {
				t.Error("the household's phone rang for a caller the guardian refused")
			}
			bye := caller.mustFind(false, "BYE ")
			if d := bye.at.Sub(guardian.mustFind(false, "INVITE ").at); d > 10*time.Second {
				t.Errorf("the caller was released %v after the guardian was rung", d)
			}
			c := g.waitEnded(1)[0]
			if c.Verdict != tt.verdict || c.Outcome != call.Blocked || c.EndedBy != call.ByGuardian || !strings.Contains(c.Reason, "guardian refused") || !c.AnsweredAt.IsZero() {
				t.Errorf("verdict %q outcome %q ended_by %q reason %q answered %v", c.Verdict, c.Outcome, c.EndedBy, c.Reason, c.AnsweredAt)
			}
			if c.Carer == nil || c.Carer.Choice != "refused" {
				t.Errorf("carer check on the record: %+v", c.Carer)
			}
			g.waitIdle()
		})
	}
}

// The guardian does not answer within carer_wait: the guard stops ringing them and the
// call goes on as the household's fallback says — announced to the resident, who presses 1
// (screen), or rung straight through (ring). The call is never lost.
func TestCarerCheckNoAnswerFallsBack(t *testing.T) {
	for _, tt := range []struct{ fallback, phone string }{{"screen", "phone_screen_accept.xml"}, {"ring", "phone_hangs_up.xml"}} {
		t.Run(tt.fallback, func(t *testing.T) {
			g := carerGuard(t, func(c *config.Config) {
				c.Screening.CarerWait = config.Dur(5 * time.Second)
				c.Screening.CarerFallback = tt.fallback
			})
			guardian := g.trunk("phone_rings.xml", "-timeout", "40s")
			phone := g.phone(tt.phone, "-timeout", "60s")
			caller := g.caller("caller_stays.xml", "-timeout", "60s")
			caller.limit, phone.limit = 60*time.Second, 60*time.Second
			caller.wait()
			phone.wait()
			guardian.wait()
			rung := guardian.mustFind(false, "INVITE ")
			cancelled := guardian.mustFind(false, "CANCEL ")
			if d := cancelled.at.Sub(rung.at); d < 4500*time.Millisecond || d > 6500*time.Millisecond {
				t.Errorf("the guardian's phone rang for %v; carer_wait is 5s", d)
			}
			if phoneRang := phone.mustFind(false, "INVITE "); phoneRang.at.Before(cancelled.at) {
				t.Error("the household's phone rang before the guardian's stopped")
			}
			c := g.waitEnded(1)[0]
			if c.Outcome != call.Completed || c.AnsweredAt.IsZero() {
				t.Errorf("outcome %q answered %v (%s): the call must go on without the guardian", c.Outcome, c.AnsweredAt, c.Reason)
			}
			if cc := c.Carer; cc == nil || cc.Choice != "none" || cc.Fallback != tt.fallback || !strings.Contains(cc.Why, "did not answer within 5s") || !cc.AnsweredAt.IsZero() {
				t.Errorf("carer check on the record: %+v", c.Carer)
			}
			if l := c.Leg(call.Guardian); l.Peer == "" || l.ReleasedAt.Sub(cancelled.at).Abs() > 500*time.Millisecond {
				t.Errorf("the guardian's leg on the record: %+v; CANCEL sent at %v", l, cancelled.at)
			}
			// Announced, the caller is connected only once the resident has pressed 1 (2.5 s
			// after answering); rung through, as soon as the phone answers.
			connected := c.AnsweredAt.Sub(phone.mustFind(true, "SIP/2.0 200").at)
			if screened := connected > 2*time.Second; screened != (tt.fallback == "screen") {
				t.Errorf("fallback %s: the caller was connected %v after the resident answered", tt.fallback, connected)
			}
			g.waitIdle()
		})
	}
}

// The guardian presses 3 and joins the call: the caller (PCMA), the resident and the
// guardian (PCMU) each send their own tone, and each receives the other two — mixed, at the
// level they were sent, and not their own. Then the guardian presses # and leaves: the
// resident and the caller go on hearing each other, and the guardian's leg is released.
func TestCarerCheckThreeWay(t *testing.T) {
	g := carerGuard(t, nil)
	const amp = 5000
	caller := tone.NewTalker(t, trunkIP, tone.PCMA, 400, amp)
	resident := tone.NewTalker(t, phoneIP, tone.PCMU, 700, amp)
	carer := tone.NewTalker(t, trunkIP, tone.PCMU, 1100, amp)
	// The guard hangs up on the # at once: no pause after it, or SIPp would take the BYE for
	// an unexpected one.
	leave := strings.TrimSuffix(keying(6*time.Second, "#"), "  <pause milliseconds=\"400\"/>\n")
	// 3 once the guardian has heard who is calling (the introduction, then the name).
	guardian := g.guardianPhone(keying(seconds(prompt(t, "carer_intro"))+nameLength+time.Second, "3")+leave, carer.Port())
	phoneScenario := fillScenario(t, t.TempDir(), "phone_talks.xml.tmpl", strings.NewReplacer("@TALK@", "10000"))
	phone := g.phone(phoneScenario, "-key", "audio_port", strconv.Itoa(resident.Port()), "-timeout", "60s")
	callerSIP := g.caller("caller_talks.xml", "-key", "audio_port", strconv.Itoa(caller.Port()), "-timeout", "60s")
	callerSIP.limit, phone.limit = 60*time.Second, 60*time.Second
	callerSIP.wait()
	phone.wait()
	guardian.wait()

	left := guardian.mustFind(false, "BYE ")
	hungUp := phone.mustFind(true, "BYE ")
	parties := map[string]*tone.Talker{"caller": caller, "resident": resident, "guardian": carer}
	for name, p := range parties {
		var others []float64
		for other, q := range parties {
			if other != name {
				others = append(others, q.Freq)
			}
		}
		both, own := p.Heard(time.Time{}, left.at, amp/2, others...)
		t.Logf("%s heard both others in %d windows of 200 ms (own tone at most %.0f)", name, both, own)
		if both < 10 {
			t.Errorf("%s heard both other parties in only %d windows of 200 ms before the guardian left", name, both)
		}
		if own > amp/10 {
			t.Errorf("%s heard their own tone at %.0f in the mix", name, own)
		}
		for _, w := range p.Windows(time.Time{}, left.at) {
			for _, f := range others {
				if l := tone.Level(w, f); l > amp*1.3 {
					t.Errorf("%s heard %.0f Hz at %.0f; it was sent at %d", name, f, l, amp)
				}
			}
		}
	}
	// The guardian heard who was calling before choosing: the caller's tone, recorded as
	// their name, without the resident's.
	if named, _ := carer.Heard(time.Time{}, phone.mustFind(true, "SIP/2.0 200").at, amp/2, caller.Freq); named < 10 {
		t.Errorf("the guardian heard the caller's recorded name in %d windows", named)
	}
	// After the guardian left: the resident and the caller still hear each other, without
	// the guardian.
	from := left.at.Add(500 * time.Millisecond)
	for _, pair := range []struct {
		name string
		p    *tone.Talker
		hear float64
	}{{"resident", resident, caller.Freq}, {"caller", caller, resident.Freq}} {
		if n, _ := pair.p.Heard(from, hungUp.at, amp/2, pair.hear); n < 5 {
			t.Errorf("after the guardian left, the %s heard the other in only %d windows", pair.name, n)
		}
		if n, _ := pair.p.Heard(from, hungUp.at, amp/10, carer.Freq); n > 0 {
			t.Errorf("after the guardian left, the %s still heard the guardian in %d windows", pair.name, n)
		}
	}
	c := g.waitEnded(1)[0]
	if c.Outcome != call.Completed || c.EndedBy != call.ByHousehold {
		t.Errorf("outcome %q ended_by %q (%s)", c.Outcome, c.EndedBy, c.Reason)
	}
	if cc := c.Carer; cc == nil || cc.Choice != "joined" || cc.LeftAt.IsZero() || !cc.LeftAt.Before(c.EndedAt) {
		t.Errorf("carer check on the record: %+v (call ended %v)", c.Carer, c.EndedAt)
	}
	g.waitIdle()
}
