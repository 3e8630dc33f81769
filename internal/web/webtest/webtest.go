// Package webtest serves the dashboard for the tests of internal/web and its audience
// packages: a real SQLite store with two households, their guardians and an admin, calls
// and an alert (NewRig); a real regional hub behind it (NewHubRig); the guard's calls in
// progress (LiveRig); and a browser-like client that logs in and keeps its cookies.
package webtest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/hub/hubsql"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/web"
)

// Main runs a package's tests with the cheapest bcrypt cost (the cost is not what they
// are about).
func Main(m *testing.M) {
	dash.BcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}

// Rig is a dashboard served over a real SQLite store.
type Rig struct {
	T       testing.TB
	DB      *sqlite.Store
	Srv     *httptest.Server
	Applied []dash.Household // households whose settings were saved, in order
	Lines   int              // times the guard was told households or phones were added
}

// NewRig serves the dashboard over a real SQLite store with two households, a guardian for
// each, an admin, a warned call to each household, and an alert for "mum".
func NewRig(t testing.TB) *Rig {
	t.Helper()
	db, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &Rig{T: t, DB: db}
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
	s := web.New(db, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)), web.Options{Dash: db, APIToken: "operator-token",
		SettingsChanged: func(h dash.Household) { r.Applied = append(r.Applied, h) }, LinesChanged: func() { r.Lines++ }})
	r.Srv = httptest.NewServer(s)
	t.Cleanup(r.Srv.Close)
	return r
}

// Client is a browser-like client with its own cookies, not following redirects.
type Client struct {
	t testing.TB
	r *Rig
	// HTTP keeps the cookies and does not follow redirects.
	HTTP *http.Client
	// CSRF is the session's token, once logged in.
	CSRF string
}

// Client is a new browser, logged in as nobody.
func (r *Rig) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: r.T, r: r, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Do sends a request (a form when form is not nil, else body) and returns the status and body.
func (c *Client) Do(method, path string, form url.Values, hdr map[string]string, body string) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	} else if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.r.Srv.URL+path, rd)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Login logs in as email (every rig's password is "correct horse battery") and reads the CSRF token.
func (c *Client) Login(email string) {
	c.t.Helper()
	code, _ := c.Do("POST", "/login", url.Values{"email": {email}, "password": {"correct horse battery"}}, nil, "")
	if code != http.StatusSeeOther {
		c.t.Fatalf("login %s: %d", email, code)
	}
	_, page := c.Do("GET", "/account", nil, nil, "")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no CSRF token on the account page:\n%s", page)
	}
	c.CSRF = m[1]
}

// NewHubRig is NewRig with a real hub behind the pages (an embedded NATS server with
// JetStream, the hub's SQLite store) and an analyst, analyst@example.org.
func NewHubRig(t *testing.T) (*Rig, *hub.Hub) {
	t.Helper()
	r := NewRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	srv, err := hub.StartServer(hub.ServerOptions{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := hub.Connect("test", srv, "")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	st, err := hubsql.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(ctx, hub.Options{Store: st, JS: js})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; nc.Close(); srv.Shutdown(); st.Close() })
	hash, _ := dash.HashPassword("correct horse battery")
	if _, err := r.DB.CreateUser(ctx, dash.User{Email: "analyst@example.org", Name: "Ann Analyst", Role: dash.Analyst}, hash); err != nil {
		t.Fatal(err)
	}
	r.Srv.Close()
	s := web.New(r.DB, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)), web.Options{Dash: r.DB, Hub: h, APIToken: "operator-token"})
	r.Srv = httptest.NewServer(s)
	t.Cleanup(r.Srv.Close)
	return r, h
}

// Itoa writes an ID as the pages and API do.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }
