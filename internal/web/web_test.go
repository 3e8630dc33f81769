package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	dash.BcryptCost = bcrypt.MinCost // the cost is not what these tests are about
	os.Exit(m.Run())
}

type rig struct {
	t       *testing.T
	db      *sqlite.Store
	srv     *httptest.Server
	applied []dash.Household
	lines   int // times LinesChanged was told
}

// newRig serves the dashboard over a real SQLite store with two households, a guardian for
// each, an admin, a warned call to each household, and an alert for "mum".
func newRig(t *testing.T) *rig {
	t.Helper()
	db, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{t: t, db: db}
	ctx := context.Background()
	for _, h := range []dash.Household{{ID: "mum", Name: "Mum's house", Settings: dash.DefaultSettings()}, {ID: "gran", Name: "Gran's flat", Settings: dash.DefaultSettings()}} {
		if _, err := db.EnsureHousehold(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ email, role, household string }{{"son@example.org", "guardian", "mum"}, {"carer@example.org", "guardian", "gran"}, {"admin@example.org", "admin", ""}} {
		hash, _ := dash.HashPassword("correct horse battery")
		created, err := db.CreateUser(ctx, dash.User{Email: u.email, Name: strings.Split(u.email, "@")[0], Role: dash.Role(u.role)}, hash)
		if err != nil {
			t.Fatal(err)
		}
		if u.household != "" {
			db.SetGuardian(ctx, created.ID, u.household, true)
		}
	}
	now := time.Now().UTC()
	for _, c := range []call.Call{
		{ID: "call-mum", Household: "mum", Direction: call.Inbound, From: "sip:+442085550199@trunk", To: "sip:kitchen@guard", StartedAt: now, EndedAt: now.Add(time.Minute),
			Outcome: call.Completed, EndedBy: call.ByCaller, Verdict: "warn", Reasons: []string{`the caller's name says "Police"`},
			Risk: &call.Risk{Analyser: "pocketsphinx/domain", Level: 0.95, Verdict: "scam", Timeline: []call.RiskPoint{{T: 5, Risk: 0.1, Text: "this is the police"}, {T: 20, Risk: 0.95, Text: "withdraw the cash"}},
				Indicators: []call.Finding{{Kind: "cash_withdrawal", Evidence: "withdraw the cash", T: 20}}, Dictated: []string{"+441632960555"},
				Interventions: []call.Intervention{{Kind: "alert", T: 20, Risk: 0.95, Reason: "risk 0.95: cash withdrawal"}}},
			Claim: &call.Claim{Kind: "police", Organisation: "Metropolitan Police", IDNumber: "4721", NameAudio: true, Answered: true, Choice: "talk"}},
		{ID: "call-gran", Household: "gran", Direction: call.Inbound, From: "sip:+442085550111@trunk", StartedAt: now, Outcome: call.Blocked, Verdict: "block"},
	} {
		kind := call.CallEnded
		if c.Household == "mum" {
			kind = call.CallAlert
		}
		if err := db.Write(ctx, store.Batch{Events: []call.Event{{CallID: c.ID, Kind: kind, At: now, Call: c}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.TakeAlerts(ctx, "alerts", func(seq int64, kind, household, id string, _ []byte) (*dash.Alert, bool) {
		return &dash.Alert{HouseholdID: household, CallID: id, At: now, Title: "Possible scam call to " + household, Body: "call them now"}, kind == "call.alert"
	}, func(string) ([]dash.User, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	s := New(db, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Dash: db, APIToken: "operator-token",
		SettingsChanged: func(h dash.Household) { r.applied = append(r.applied, h) }, LinesChanged: func() { r.lines++ }})
	r.srv = httptest.NewServer(s)
	t.Cleanup(r.srv.Close)
	return r
}

// client is a browser-like client with its own cookies, not following redirects.
type client struct {
	t    *testing.T
	r    *rig
	http *http.Client
	csrf string
}

func (r *rig) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: r.t, r: r, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values, hdr map[string]string, body string) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	} else if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.r.srv.URL+path, rd)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) login(email string) {
	c.t.Helper()
	code, _ := c.do("POST", "/login", url.Values{"email": {email}, "password": {"correct horse battery"}}, nil, "")
	if code != http.StatusSeeOther {
		c.t.Fatalf("login %s: %d", email, code)
	}
	_, page := c.do("GET", "/account", nil, nil, "")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no CSRF token on the account page:\n%s", page)
	}
	c.csrf = m[1]
}

func TestLoginRefusesWrongPasswordsAndThrottles(t *testing.T) {
	r := newRig(t)
	c := r.client()
	for i := range 5 {
		code, page := c.do("POST", "/login", url.Values{"email": {"son@example.org"}, "password": {"wrong password!"}}, nil, "")
		if code != http.StatusUnauthorized || !strings.Contains(page, "do not match") {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	code, page := c.do("POST", "/login", url.Values{"email": {"son@example.org"}, "password": {"correct horse battery"}}, nil, "")
	if code != http.StatusTooManyRequests || !strings.Contains(page, "too many wrong passwords") {
		t.Errorf("sixth attempt, right password: %d", code)
	}
	if code, _ := c.do("GET", "/", nil, nil, ""); code != http.StatusSeeOther {
		t.Errorf("overview without a session: %d, want a redirect to /login", code)
	}
}

// A guardian sees their household's calls and alerts, and nothing of another household,
// on the pages or through the API.
func TestGuardianSeesOnlyTheirHousehold(t *testing.T) {
	r := newRig(t)
	son := r.client()
	son.login("son@example.org")
	if code, page := son.do("GET", "/calls/call-mum", nil, nil, ""); code != 200 || !strings.Contains(page, "cash withdrawal") || !strings.Contains(page, "441632960555 — the household") || !strings.Contains(page, `the caller&#39;s name says &#34;Police&#34;`) ||
		!strings.Contains(page, "<strong>from Metropolitan Police</strong>, and gave the ID number <strong class=\"id-number\">4721</strong>") || !strings.Contains(page, "chose to talk to them") {
		t.Errorf("own call: %d\n%s", code, page)
	}
	if code, _ := son.do("GET", "/calls/call-gran", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("another household's call page: %d", code)
	}
	if code, _ := son.do("GET", "/api/v1/calls/call-gran", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("another household's call by API: %d", code)
	}
	_, body := son.do("GET", "/api/v1/calls", nil, nil, "")
	var list struct{ Calls []call.Call }
	json.Unmarshal([]byte(body), &list)
	if len(list.Calls) != 1 || list.Calls[0].ID != "call-mum" {
		t.Errorf("API call list %+v", list.Calls)
	}
	if code, _ := son.do("GET", "/api/v1/calls?household=gran", nil, nil, ""); code != http.StatusBadRequest {
		t.Errorf("asking for another household's calls: %d", code)
	}
	if code, _ := son.do("GET", "/households/gran", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("another household's settings: %d", code)
	}
	if code, _ := son.do("GET", "/api/v1/alerts", nil, nil, ""); code != 200 {
		t.Errorf("alerts: %d", code)
	}
	carer := r.client()
	carer.login("carer@example.org")
	_, body = carer.do("GET", "/api/v1/alerts", nil, nil, "")
	if strings.Contains(body, "call-mum") {
		t.Errorf("the carer of another household sees mum's alert: %s", body)
	}
	// The admin sees both; the operator token reads both but cannot log in to pages.
	admin := r.client()
	admin.login("admin@example.org")
	if code, _ := admin.do("GET", "/calls/call-gran", nil, nil, ""); code != 200 {
		t.Errorf("admin: %d", code)
	}
	op := r.client()
	if code, _ := op.do("GET", "/api/calls/call-gran", nil, map[string]string{"Authorization": "Bearer operator-token"}, ""); code != 200 {
		t.Errorf("operator token: %d", code)
	}
	if code, _ := op.do("GET", "/api/calls", nil, nil, ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d", code)
	}
}

// Blocking the caller from the call's page puts the number on the household's block-list
// and tells the guard; the CSRF token is required.
func TestBlockNumberFromCallPage(t *testing.T) {
	r := newRig(t)
	son := r.client()
	son.login("son@example.org")
	form := url.Values{"number": {"+442085550199"}, "back": {"/calls/call-mum"}}
	if code, _ := son.do("POST", "/households/mum/block", form, nil, ""); code != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", code)
	}
	if h, _ := r.db.Household(context.Background(), "mum"); len(h.Settings.Block) != 0 {
		t.Fatalf("a refused form changed the block-list: %+v", h.Settings.Block)
	}
	form.Set("csrf", son.csrf)
	if code, _ := son.do("POST", "/households/mum/block", form, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("block: %d", code)
	}
	h, _ := r.db.Household(context.Background(), "mum")
	if len(h.Settings.Block) != 1 || h.Settings.Block[0].Number != "+442085550199" {
		t.Errorf("block-list %+v", h.Settings.Block)
	}
	if len(r.applied) != 1 || r.applied[0].ID != "mum" {
		t.Errorf("guard told %+v", r.applied)
	}
	if _, page := son.do("GET", "/calls/call-mum", nil, nil, ""); !strings.Contains(page, "on the block-list") {
		t.Error("call page does not say the number is blocked")
	}
	if code, _ := son.do("POST", "/households/gran/block", url.Values{"number": {"+442085550199"}, "csrf": {son.csrf}}, nil, ""); code != http.StatusNotFound {
		t.Errorf("blocking for another household: %d", code)
	}
}

// Every bad value in the settings form is named next to its field, and nothing is saved.
func TestSettingsFormRejectsBadValues(t *testing.T) {
	r := newRig(t)
	son := r.client()
	son.login("son@example.org")
	before, _ := r.db.Household(context.Background(), "mum")
	form := url.Values{"csrf": {son.csrf}, "allow": {"01632 960 001, Daughter\ngrandson"}, "block": {""}, "bank": {"the bank"}, "police": {"101"},
		"quiet_hours": {"late"}, "ask": {"sometimes"}, "warn": {"on"}, "warn_at": {"7"}, "alert": {"on"}, "alert_at": {"lots"}}
	code, page := son.do("POST", "/households/mum/settings", form, nil, "")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", code)
	}
	for _, id := range []string{"allow-error", "bank-error", "quiet_hours-error", "ask-error", "warn_at-error", "alert_at-error"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no message %s on the page", id)
		}
	}
	if strings.Contains(page, `id="police-error"`) {
		t.Error("a good field was marked as bad")
	}
	if !strings.Contains(page, "grandson") {
		t.Error("what was typed is not shown again")
	}
	after, _ := r.db.Household(context.Background(), "mum")
	if b1, _ := json.Marshal(before.Settings); string(b1) != mustJSON(after.Settings) || len(r.applied) != 0 {
		t.Errorf("a rejected form changed the settings: %s", mustJSON(after.Settings))
	}
	form = url.Values{"csrf": {son.csrf}, "allow": {"01632 960 001, Daughter"}, "block": {""}, "bank": {"0345 300 0000"}, "police": {"101"},
		"quiet_hours": {"22:00-07:00"}, "ask": {"unknown"}, "warn": {"on"}, "warn_at": {"0.6"}, "alert_at": {"0.9"}}
	if code, _ := son.do("POST", "/households/mum/settings", form, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("good form: %d", code)
	}
	h, _ := r.db.Household(context.Background(), "mum")
	if s := h.Settings; len(s.Allow) != 1 || s.Allow[0].Name != "Daughter" || s.Bank != "0345 300 0000" || s.WarnAt != 0.6 || s.Alert || s.QuietHours != "22:00-07:00" || s.Ask != "unknown" {
		t.Errorf("saved %+v", s)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// The API refuses bad settings with the fields named, needs the CSRF header, and acks alerts.
func TestAPISettingsAndAck(t *testing.T) {
	r := newRig(t)
	son := r.client()
	son.login("son@example.org")
	_, me := son.do("GET", "/api/v1/me", nil, nil, "")
	var who struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal([]byte(me), &who)
	hdr := map[string]string{"X-CSRF-Token": who.CSRF, "Content-Type": "application/json"}
	if code, _ := son.do("PUT", "/api/v1/households/mum/settings", nil, map[string]string{"Content-Type": "application/json"}, `{"warn_at":0.5,"alert_at":0.8}`); code != http.StatusForbidden {
		t.Errorf("without CSRF: %d", code)
	}
	code, body := son.do("PUT", "/api/v1/households/mum/settings", nil, hdr, `{"warn_at":2,"alert_at":0.8,"bank":"x","ask":"sometimes"}`)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "warn_at") || !strings.Contains(body, "bank") || !strings.Contains(body, `"ask": "must be never, unknown, warned or always`) {
		t.Errorf("bad settings: %d %s", code, body)
	}
	if code, body := son.do("PUT", "/api/v1/households/mum/settings", nil, hdr, `{"warn_at":"high"}`); code != http.StatusBadRequest {
		t.Errorf("wrong type: %d %s", code, body)
	}
	if code, body := son.do("PUT", "/api/v1/households/mum/settings", nil, hdr, `{"warn_at":0.5,"alert_at":0.8,"colour":"red"}`); code != http.StatusBadRequest || !strings.Contains(body, "colour") {
		t.Errorf("unknown field: %d %s", code, body)
	}
	if h, _ := r.db.Household(context.Background(), "mum"); h.Settings.WarnAt != 0.7 {
		t.Errorf("refused requests changed warn_at to %v", h.Settings.WarnAt)
	}
	_, list := son.do("GET", "/api/v1/alerts", nil, nil, "")
	var as struct{ Alerts []dash.Alert }
	json.Unmarshal([]byte(list), &as)
	if len(as.Alerts) != 1 {
		t.Fatalf("alerts %s", list)
	}
	if code, _ := son.do("POST", "/api/v1/alerts/"+itoa(as.Alerts[0].ID)+"/ack", nil, hdr, ""); code != http.StatusNoContent {
		t.Errorf("ack: %d", code)
	}
	a, _ := r.db.Alert(context.Background(), as.Alerts[0].ID)
	if a.AckedBy != "son" || a.AckedAt.IsZero() {
		t.Errorf("alert after ack %+v", a)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// The alert-channel and admin forms name each bad value next to its field and save nothing.
func TestAccountAndAdminFormsRejectBadValues(t *testing.T) {
	r := newRig(t)
	son := r.client()
	son.login("son@example.org")
	code, page := son.do("POST", "/account", url.Values{"csrf": {son.csrf}, "email": {"not an address"}, "ntfy": {"ftp://x"},
		"webhook": {"http://hooks.example.org/x"}, "webhook_secret": {"short"}}, nil, "")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad channels: %d", code)
	}
	for _, id := range []string{"email-error", "ntfy-error", "webhook_secret-error"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no message %s", id)
		}
	}
	if u, _, _ := r.db.UserByEmail(context.Background(), "son@example.org"); u.Channels != (dash.Channels{}) {
		t.Errorf("a refused form saved channels %+v", u.Channels)
	}
	if code, _ := son.do("POST", "/admin/users", url.Values{"csrf": {son.csrf}, "email": {"x@example.org"}}, nil, ""); code != http.StatusForbidden {
		t.Errorf("a guardian adding people: %d", code)
	}
	admin := r.client()
	admin.login("admin@example.org")
	code, page = admin.do("POST", "/admin/users", url.Values{"csrf": {admin.csrf}, "email": {"son@example.org"}, "name": {""},
		"password": {"short"}, "role": {"guardian"}, "household": {"nowhere"}}, nil, "")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad person: %d", code)
	}
	for _, id := range []string{"email-error", "password-error", "household-error"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no message %s", id)
		}
	}
	code, page = admin.do("POST", "/admin/households", url.Values{"csrf": {admin.csrf}, "id": {"Mum's House"}, "name": {""}}, nil, "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="id-error"`) || !strings.Contains(page, `id="name-error"`) {
		t.Errorf("bad household: %d", code)
	}
	if code, _ = admin.do("POST", "/admin/households", url.Values{"csrf": {admin.csrf}, "id": {"mum"}, "name": {"Again"}}, nil, ""); code != http.StatusUnprocessableEntity {
		t.Errorf("a second household with a taken ID: %d", code)
	}
	users, _ := r.db.Users(context.Background())
	hs, _ := r.db.Households(context.Background())
	if len(users) != 3 || len(hs) != 2 {
		t.Errorf("refused forms added people or households: %d users, %d households", len(users), len(hs))
	}
	// A good guardian is added and can log in.
	if code, _ := admin.do("POST", "/admin/users", url.Values{"csrf": {admin.csrf}, "email": {"daughter@example.org"}, "name": {"Daughter"},
		"password": {"correct horse battery"}, "role": {"guardian"}, "household": {"mum"}}, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("good person: %d", code)
	}
	d := r.client()
	d.login("daughter@example.org")
	if code, _ := d.do("GET", "/calls/call-mum", nil, nil, ""); code != 200 {
		t.Errorf("the new guardian's household call: %d", code)
	}
}

// An admin gives a person a new password (a bad one is refused next to the field and
// changes nothing) and removes a person, who is logged out and gets no more alerts; an
// admin cannot remove themselves.
func TestAdminSetsPasswordsAndRemovesPeople(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	son, _, err := r.db.UserByEmail(ctx, "son@example.org")
	if err != nil {
		t.Fatal(err)
	}
	admin := r.client()
	admin.login("admin@example.org")
	sonBrowser := r.client()
	sonBrowser.login("son@example.org")

	id := itoa(son.ID)
	code, page := admin.do("POST", "/admin/users/"+id+"/password", url.Values{"csrf": {admin.csrf}, "password": {"short"}}, nil, "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="password_`+id+`-error"`) {
		t.Fatalf("short password: %d", code)
	}
	if code, _ := sonBrowser.do("GET", "/calls", nil, nil, ""); code != http.StatusOK {
		t.Errorf("a refused password change ended the session: %d", code)
	}
	if code, _ := admin.do("POST", "/admin/users/"+id+"/password", url.Values{"csrf": {admin.csrf}, "password": {"a brand new passphrase"}}, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("new password: %d", code)
	}
	if code, _ := sonBrowser.do("GET", "/calls", nil, nil, ""); code != http.StatusSeeOther {
		t.Errorf("the old session still works after the password changed: %d", code)
	}
	if code, _ := r.client().do("POST", "/login", url.Values{"email": {"son@example.org"}, "password": {"a brand new passphrase"}}, nil, ""); code != http.StatusSeeOther {
		t.Errorf("login with the new password: %d", code)
	}

	sonBrowser.login("carer@example.org") // any session, to check removal ends the son's
	if code, _ := admin.do("POST", "/admin/users/"+id+"/remove", url.Values{"csrf": {admin.csrf}}, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("remove: %d", code)
	}
	if code, _ := r.client().do("POST", "/login", url.Values{"email": {"son@example.org"}, "password": {"a brand new passphrase"}}, nil, ""); code == http.StatusSeeOther {
		t.Error("a removed person logged in")
	}
	if gs, _ := r.db.Guardians(ctx, "mum"); len(gs) != 0 {
		t.Errorf("mum's guardians after removing her son: %+v", gs)
	}
	if _, page := admin.do("GET", "/admin", nil, nil, ""); strings.Contains(page, "son@example.org") {
		t.Error("the removed person is still listed")
	}
	me, _, _ := r.db.UserByEmail(ctx, "admin@example.org")
	admin.do("POST", "/admin/users/"+itoa(me.ID)+"/remove", url.Values{"csrf": {admin.csrf}}, nil, "")
	if _, err := r.db.UserByID(ctx, me.ID); err != nil {
		t.Errorf("the admin removed themselves: %v", err)
	}
	guardian := r.client()
	guardian.login("carer@example.org")
	if code, _ := guardian.do("POST", "/admin/users/"+itoa(me.ID)+"/remove", url.Values{"csrf": {guardian.csrf}}, nil, ""); code != http.StatusForbidden {
		t.Errorf("a guardian removing the admin: %d", code)
	}
}
