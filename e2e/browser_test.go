package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
)

// The guardians' dashboard in real headless Chromium (Debian's, driven by playwright-core):
// a call warned by screening goes through a real guard, its alert through the real outbox
// and dispatcher; a guardian logs in, reads why it was warned, blocks the number,
// acknowledges the alert and has a bad setting refused; the guardian of another household
// sees none of it. Screenshots are kept in artifacts/browser.
func TestDashboardInChromium(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.Household = config.Household{ID: "mum", Name: "Mum's house"}
	})
	const number = "+442085550123"
	phone := g.phone("phone_answers.xml", "-rtp_echo")
	caller := g.callerAs(number, "Metropolitan Police", "caller_hangs_up.xml")
	caller.wait()
	phone.wait()
	c := g.waitEnded(1)[0]
	if c.Verdict != "warn" || c.Household != "mum" {
		t.Fatalf("call %+v: want a warned call for household mum", c)
	}

	ctx := context.Background()
	db, err := openStore(g.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.EnsureHousehold(ctx, dash.Household{ID: "gran", Name: "Gran's flat", Settings: dash.DefaultSettings()}); err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery"
	for _, u := range []struct{ email, name, household string }{{"son@example.org", "son", "mum"}, {"carer@example.org", "carer", "gran"}} {
		hash, _ := dash.HashPassword(password)
		created, err := db.CreateUser(ctx, dash.User{Email: u.email, Name: u.name, Role: dash.Guardian}, hash)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetGuardian(ctx, created.ID, u.household, true); err != nil {
			t.Fatal(err)
		}
	}
	// The alert the listener raises for a risky call (tested end to end with speech in
	// listen_test.go), put in the outbox for this call.
	c.Risk = &call.Risk{Analyser: "pocketsphinx/domain", Level: 0.9, Verdict: "scam",
		Timeline:      []call.RiskPoint{{T: 3, Risk: 0.2, Text: "this is the metropolitan police"}, {T: 9, Risk: 0.9, Text: "withdraw the cash as evidence"}},
		Indicators:    []call.Finding{{Kind: "cash_withdrawal", Evidence: "withdraw the cash as evidence", T: 9}},
		Interventions: []call.Intervention{{Kind: "alert", At: time.Now().UTC(), T: 9, Risk: 0.9, Reason: "risk 0.90: cash withdrawal (\"withdraw the cash as evidence\")"}}}
	if err := db.Write(ctx, store.Batch{Events: []call.Event{{CallID: c.ID, Kind: call.CallAlert, At: time.Now().UTC(), Call: c}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		as, err := db.Alerts(ctx, []string{"mum"}, false, 10)
		if err == nil && len(as) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dispatcher did not raise the alert: %v %v", as, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	runBrowser(t, "guardian.mjs", "BASE_URL=http://"+g.http, "CALL_ID="+c.ID, "CALLER_NUMBER="+number, "PASSWORD="+password)
	// What the browser did is in the store.
	h, err := db.Household(ctx, "mum")
	if err != nil || len(h.Settings.Block) != 1 || h.Settings.Block[0].Number != number {
		t.Errorf("block-list after the browser blocked the number: %+v (%v)", h.Settings.Block, err)
	}
	as, _ := db.Alerts(ctx, []string{"mum"}, false, 10)
	if len(as) != 1 || as[0].AckedBy != "son" {
		t.Errorf("alert after acknowledging: %+v", as)
	}
	if h.Settings.WarnAt != 0.7 {
		t.Errorf("the refused setting changed warn_at to %v", h.Settings.WarnAt)
	}
	// The guard applies the new block at once: the same caller is now blocked.
	again := g.callerAs(number, "Metropolitan Police", "caller_stays.xml")
	again.wait()
	calls := g.waitEnded(2)
	if calls[0].Outcome != call.Blocked {
		t.Errorf("the next call from the blocked number: %v (%v)", calls[0].Outcome, calls[0].Reasons)
	}
}

// The regional hub in real headless Chromium: a guard in Winchester embeds the hub
// (clearline run); a relative files two reports through the public form, an analyst finds
// the campaign, its map and chart, exports it, sends a community alert and confirms the
// number. Afterwards the household's dashboard holds the alert, and the guard blocks the
// number's next call by the shared block-list.
func TestHubInChromium(t *testing.T) {
	listen := freeTCP(t)
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.Household.District = "Winchester"
		c.Hub.Run, c.Hub.Listen = true, listen
	})
	addUser(t, g.cfg.DataDir, "analyst@example.org", dash.Analyst, "", nil)
	inbox := newInbox(t)
	addUser(t, g.cfg.DataDir, "son@example.org", dash.Guardian, "home", inbox)

	runBrowser(t, "analyst.mjs", "BASE_URL=http://"+g.http, "CALLER_NUMBER=01632 960555", "PASSWORD=correct horse battery")
	ctx := context.Background()
	db, err := openStore(g.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		as, err := db.Alerts(ctx, []string{"home"}, false, 10)
		if err == nil && len(as) == 1 && as[0].CallID == "" && strings.Contains(as[0].Body, "DS Miller") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the household's dashboard has no community alert: %+v %v", as, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	caller := g.callerAs("+441632960555", "Jean Smith", "caller_stays.xml")
	caller.wait()
	c := g.waitEnded(1)[0]
	if c.Outcome != call.Blocked || !strings.Contains(strings.Join(c.Reasons, " "), "community block-list") {
		t.Errorf("the confirmed number's next call: %v (%q)", c.Outcome, c.Reasons)
	}
}

// runBrowser runs a playwright-core script from e2e/browser with env added, to the end;
// screenshots go to artifacts/browser.
func runBrowser(t *testing.T, script string, env ...string) {
	t.Helper()
	startBrowser(t, script, env...).wait()
}
