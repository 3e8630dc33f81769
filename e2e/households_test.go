package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/speech/speechtest"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

// Two households on one guard, the second added by an admin through the API while the guard
// runs: a call to each number rings only that home's phone; each home's phone calls out
// with its own number; each guardian sees only their home's calls, a guardian of both sees
// both; and the alert about a scam call to one home reaches that home's guardians only. The
// guard's store on SQLite, and on PostgreSQL.
func TestTwoHouseholdsOnOneGuard(t *testing.T) {
	t.Parallel() // mostly real-time speech
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			testTwoHouseholds(t, db == "postgres")
		})
	}
}

func testTwoHouseholds(t *testing.T, postgres bool) {
	g := listeningGuard(t, func(c *config.Config) {
		c.Trunk.DID = "02079460100"
		if postgres {
			c.Database = pgtest.URL(t)
		}
	})
	home := g.cfg.Household.ID
	dir := g.cfg.DataDir
	addUser(t, dir, "admin@example.org", dash.Admin, "", nil)
	admin := loginAnalyst(t, "http://"+g.http, "admin@example.org")
	var dad dash.Household
	if code := admin.do("POST", "/api/v1/households", map[string]any{"id": "dad", "name": "Dad's flat", "numbers": []string{"020 7946 0300"}, "district": "Test Valley"}, &dad); code != http.StatusCreated || dad.Numbers[0] != "+442079460300" {
		t.Fatalf("add dad's household: %d %+v", code, dad)
	}
	var den dash.Phone
	if code := admin.do("POST", "/api/v1/households/dad/phones", map[string]any{"user": "dad-den"}, &den); code != http.StatusCreated || den.Password == "" {
		t.Fatalf("add dad's phone: %d %+v", code, den)
	}
	sonInbox, daughterInbox, bothInbox := newInbox(t), newInbox(t), newInbox(t)
	addUser(t, dir, "son@example.org", dash.Guardian, home, sonInbox)
	addUser(t, dir, "daughter@example.org", dash.Guardian, "dad", daughterInbox)
	addUser(t, dir, "both@example.org", dash.Guardian, home, bothInbox)
	addGuardian(t, dir, "both@example.org", "dad")

	// Dad's phone registers with the password the guard made up for it.
	denPort := freePort(t, phoneIP)
	runSIPp(t, "register", "phone_registers.xml", "-i", phoneIP, "-p", strconv.Itoa(denPort), "-s", "dad-den", "-au", "dad-den", "-ap", den.Password, g.sip).wait()

	// A scam call to dad's number: dad's phone rings, and the alert goes to his guardians.
	scripts, err := speechtest.LoadScripts("../testdata/listen")
	if err != nil {
		t.Fatal(err)
	}
	var courier speechtest.Script
	for _, s := range scripts {
		if s.Name == "police_courier" {
			courier = s
		}
	}
	scam, _ := speakCallTo(t, g, courier, 12*time.Second, "02079460300", denPort)
	if scam.Household != "dad" || !strings.HasSuffix(scam.Leg(call.Household).Peer, ":"+strconv.Itoa(denPort)) {
		t.Fatalf("the call to dad's number was %s's, answered at %s", scam.Household, scam.Leg(call.Household).Peer)
	}
	if scam.Risk == nil || len(scam.Risk.Interventions) == 0 {
		t.Fatalf("the scam call to dad drew no alert: %+v", scam.Risk)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(daughterInbox.got()) == 0 || len(bothInbox.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the alert did not reach dad's guardians: daughter %q, both %q", daughterInbox.got(), bothInbox.got())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := daughterInbox.got()[0]; !strings.Contains(got, "Dad's flat") {
		t.Errorf("the alert's title %q does not name dad's household", got)
	}
	time.Sleep(time.Second)
	if got := sonInbox.got(); len(got) != 0 {
		t.Errorf("the son, guardian of the other home only, got dad's alert: %q", got)
	}

	// A call to the file's household's number rings the kitchen, not dad's phone.
	kitchen := g.phone("phone_answers.xml")
	g.callerTo("02079460100", "+442085550123", "Jean Smith", "caller_hangs_up.xml").wait()
	kitchen.wait()
	calls := g.waitEnded(2)
	if calls[0].Household != home || !strings.HasSuffix(calls[0].Leg(call.Household).Peer, ":"+strconv.Itoa(g.phonePort)) {
		t.Errorf("the call to %s's number was %s's, answered at %s", home, calls[0].Household, calls[0].Leg(call.Household).Peer)
	}

	// Each home's phone calls out with its own number.
	dials, err := os.ReadFile(filepath.Join(scenarios, "phone_dials.xml"))
	if err != nil {
		t.Fatal(err)
	}
	denDials := filepath.Join(t.TempDir(), "den_dials.xml")
	if err := os.WriteFile(denDials, []byte(strings.ReplaceAll(string(dials), "sip:kitchen@", "sip:dad-den@")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []struct{ user, password, scenario, from string }{{"kitchen", "s3cret", "phone_dials.xml", "02079460100"}, {"dad-den", den.Password, denDials, "+442079460300"}} {
		trunkSide := g.trunk("trunk_answers.xml")
		g.dial(out.scenario, "02085550123", "-au", out.user, "-ap", out.password).wait()
		trunkSide.wait()
		if from := trunkSide.mustFind(false, "INVITE ").header("From"); !strings.Contains(from, "sip:"+out.from+"@") {
			t.Errorf("%s's call reached the trunk from %s; want %s", out.user, from, out.from)
		}
	}
	all := g.waitEnded(4)

	// Each guardian sees their own home's calls; a call of the other home is not found.
	for _, v := range []struct {
		email string
		homes []string
	}{{"son@example.org", []string{home}}, {"daughter@example.org", []string{"dad"}}, {"both@example.org", []string{home, "dad"}}} {
		c := loginAnalyst(t, "http://"+g.http, v.email)
		var list struct{ Calls []call.Call }
		c.do("GET", "/api/v1/calls", nil, &list)
		want := 0
		for _, a := range all {
			if contains(v.homes, a.Household) {
				want++
			}
		}
		if len(list.Calls) != want {
			t.Errorf("%s sees %d calls; want %d", v.email, len(list.Calls), want)
		}
		for _, seen := range list.Calls {
			if !contains(v.homes, seen.Household) {
				t.Errorf("%s sees a call of %s", v.email, seen.Household)
			}
		}
		for _, a := range all {
			var one call.Call
			code := c.do("GET", "/api/v1/calls/"+a.ID, nil, &one)
			if mine := contains(v.homes, a.Household); (code == http.StatusOK) != mine {
				t.Errorf("%s reading %s's call %s: %d", v.email, a.Household, a.ID, code)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// addGuardian makes the user with email a guardian of household too.
func addGuardian(t *testing.T, dir, email, household string) {
	t.Helper()
	db, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	u, _, err := db.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetGuardian(ctx, u.ID, household, true); err != nil {
		t.Fatal(err)
	}
}
