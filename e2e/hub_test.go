package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/cli"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

// webhookInbox records the community alerts a guardian's webhook receives.
type webhookInbox struct {
	mu     sync.Mutex
	titles []string
	ids    map[string]int // how many times each delivery ID (X-Clearline-Delivery) came
	srv    *httptest.Server
}

func newInbox(t *testing.T) *webhookInbox {
	in := &webhookInbox{ids: map[string]int{}}
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ Title string }
		_ = json.NewDecoder(r.Body).Decode(&p)
		in.mu.Lock()
		in.titles = append(in.titles, p.Title)
		in.ids[r.Header.Get("X-Clearline-Delivery")]++
		in.mu.Unlock()
	}))
	t.Cleanup(in.srv.Close)
	return in
}

// deliveries is how many times each delivery ID came.
func (in *webhookInbox) deliveries() map[string]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return maps.Clone(in.ids)
}

func (in *webhookInbox) got() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.titles...)
}

// addUser adds a user to the SQLite accounts in dir (a guard's or the hub's data
// directory), a guardian of household with a webhook when inbox is given.
func addUser(t *testing.T, dir, email string, role dash.Role, household string, inbox *webhookInbox) {
	t.Helper()
	ctx := context.Background()
	db, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, _ := dash.HashPassword("correct horse battery")
	u, err := db.CreateUser(ctx, dash.User{Email: email, Name: strings.Split(email, "@")[0], Role: role}, hash)
	if err != nil {
		t.Fatal(err)
	}
	if household != "" {
		if err := db.SetGuardian(ctx, u.ID, household, true); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveChannels(ctx, u.ID, dash.Channels{Webhook: inbox.srv.URL, WebhookSecret: "0123456789abcdef"}); err != nil {
			t.Fatal(err)
		}
	}
}

// analystClient logs in to the hub's dashboard at base and keeps the session and CSRF token.
type analystClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func loginAnalyst(t *testing.T, base, email string) *analystClient {
	jar, _ := cookiejar.New(nil)
	a := &analystClient{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res, err := a.c.PostForm(base+"/login", url.Values{"email": {email}, "password": {"correct horse battery"}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("analyst login: %v %v", res, err)
	}
	res.Body.Close()
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	a.do("GET", "/api/v1/me", nil, &me)
	a.csrf = me.CSRF
	return a
}

func (a *analystClient) do(method, path string, body, out any) int {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("X-CSRF-Token", a.csrf)
	res, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
	}
	return res.StatusCode
}

// natsCluster starts a NATS cluster of nodes servers with JetStream in this process, stopped
// when the test ends, and gives their client URLs joined by commas.
func natsCluster(t *testing.T, nodes int) string {
	t.Helper()
	var urls, routes []string
	var opts []hub.ServerOptions
	for i := range nodes {
		o := hub.ServerOptions{Listen: freeTCP(t), StoreDir: filepath.Join(t.TempDir(), "n"), Name: "n" + strconv.Itoa(i),
			Cluster: "clearline-e2e", ClusterListen: freeTCP(t)}
		urls, routes = append(urls, "nats://"+o.Listen), append(routes, "nats-route://"+o.ClusterListen)
		opts = append(opts, o)
	}
	var wg sync.WaitGroup
	for i := range opts {
		opts[i].Routes = routes
		wg.Go(func() {
			s, err := hub.StartServer(opts[i])
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(s.Shutdown)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return strings.Join(urls, ",")
}

// startHub runs the hub alone (clearline hub) on the NATS cluster at natsURL, its store on
// PostgreSQL, until the test ends; it gives the hub's web address and its data directory.
func startHub(t *testing.T, natsURL string) (httpBase, dataDir string) {
	t.Helper()
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	dataDir = t.TempDir()
	cfg.DataDir, cfg.HTTP.Listen, cfg.HTTP.APIToken = dataDir, freeTCP(t), apiToken
	cfg.Hub.NATS, cfg.Hub.Replicas, cfg.Hub.Database = natsURL, 3, pgtest.URL(t)
	cfg.Database = guardDatabase(t) // the analysts' accounts
	databases.Store(dataDir, cfg.Database)
	httpBase = "http://" + cfg.HTTP.Listen
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cli.ServeHub(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("hub log:\n%s", tail(logs.String(), 40))
		}
	})
	waitHTTP(t, httpBase+"/report", logs)
	return httpBase, dataDir
}

func freeTCP(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The whole hub with real guards: callers spoofing a police name ring homes in Winchester
// and Test Valley through two guards; their reports become one campaign on the hub; an
// analyst's alert for Winchester reaches the Winchester guardian's webhook and not Test
// Valley's; after the analyst confirms the campaign, the number is blocked by a third
// guard, in Eastleigh, on its next call. Twice: with the hub embedded in the Winchester
// guard (clearline run, SQLite), and with clearline hub alone on PostgreSQL and a
// three-node NATS cluster.
func TestHubRoundTripThroughGuards(t *testing.T) {
	for _, variant := range []string{"embedded", "hub-postgres-cluster"} {
		t.Run(variant, func(t *testing.T) { hubRoundTrip(t, variant) })
	}
}

func hubRoundTrip(t *testing.T, variant string) {
	const spoofer = "+441632960555"
	var natsURL, hubHTTP, hubData string
	link := func(district string) func(*config.Config, *guard) {
		return func(c *config.Config, _ *guard) {
			c.Household.District = district
			c.Hub.Run, c.Hub.NATS = false, natsURL
		}
	}
	var win *guard
	switch variant {
	case "embedded":
		listen := freeTCP(t)
		natsURL = "nats://" + listen
		win = startGuard(t, func(c *config.Config, _ *guard) {
			c.Household.District = "Winchester"
			c.Hub.Run, c.Hub.Listen = true, listen
		})
		hubHTTP, hubData = "http://"+win.http, win.cfg.DataDir
	default:
		natsURL = natsCluster(t, 3)
		hubHTTP, hubData = startHub(t, natsURL)
		win = startGuard(t, link("Winchester"))
	}
	tv := startGuard(t, link("Test Valley"))
	east := startGuard(t, link("Eastleigh"))
	addUser(t, hubData, "analyst@example.org", dash.Analyst, "", nil)
	winInbox, tvInbox := newInbox(t), newInbox(t)
	addUser(t, win.cfg.DataDir, "son@example.org", dash.Guardian, "home", winInbox)
	addUser(t, tv.cfg.DataDir, "daughter@example.org", dash.Guardian, "home", tvInbox)

	// The spoofer rings Winchester and Test Valley; both guards warn and let it through.
	var phones, callers []*sipp
	for _, g := range []*guard{win, tv} {
		phones = append(phones, g.phone("phone_answers.xml"))
		callers = append(callers, g.callerAs(spoofer, "Hampshire Police Fraud", "caller_hangs_up.xml"))
	}
	for i := range callers {
		callers[i].wait()
		phones[i].wait()
	}
	for _, g := range []*guard{win, tv} {
		if c := g.waitEnded(1)[0]; c.Verdict != "warn" {
			t.Fatalf("the spoofed call was %q; want warn", c.Verdict)
		}
	}

	a := loginAnalyst(t, hubHTTP, "analyst@example.org")
	var campaign struct {
		ID        string
		Reports   []string
		Numbers   []string
		Districts []struct {
			New   []string
			Total int
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list struct {
			Campaigns []json.RawMessage
		}
		a.do("GET", "/api/v1/hub/campaigns", nil, &list)
		if len(list.Campaigns) == 1 {
			_ = json.Unmarshal(list.Campaigns[0], &campaign)
			if len(campaign.Reports) == 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no campaign of two reports on the hub: %d campaigns", len(list.Campaigns))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The spread is kept day by day (UTC): the two calls may fall either side of midnight.
	var reached []string
	for _, d := range campaign.Districts {
		reached = append(reached, d.New...)
	}
	if len(reached) != 2 || len(campaign.Numbers) != 1 || campaign.Numbers[0] != spoofer {
		t.Errorf("campaign reached %q with numbers %q", reached, campaign.Numbers)
	}

	if code := a.do("POST", "/api/v1/hub/alerts", map[string]any{"campaign": campaign.ID, "districts": []string{"Winchester"},
		"title": "Fake police calls in Winchester", "body": "Hang up, and ring 101 from another phone."}, nil); code != http.StatusCreated {
		t.Fatalf("alert: %d", code)
	}
	deadline = time.Now().Add(20 * time.Second)
	for len(winInbox.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the Winchester guardian's webhook got no alert")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := winInbox.got(); len(got) != 1 || got[0] != "Fake police calls in Winchester" {
		t.Errorf("Winchester webhook got %q", got)
	}
	var alerts struct {
		Alerts []struct{ Households, Guardians int }
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		a.do("GET", "/api/v1/hub/alerts", nil, &alerts)
		if len(alerts.Alerts) == 1 && alerts.Alerts[0].Households == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert reach never recorded: %+v", alerts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if got := tvInbox.got(); len(got) != 0 {
		t.Errorf("Test Valley's guardian got Winchester's alert: %q", got)
	}

	var confirmed struct{ Blocked []hub.Block }
	if code := a.do("POST", "/api/v1/hub/campaigns/"+campaign.ID+"/confirm", struct{}{}, &confirmed); code != http.StatusOK || len(confirmed.Blocked) != 1 {
		t.Fatalf("confirm: %d %+v", code, confirmed)
	}
	time.Sleep(2 * time.Second) // the aim: in force on every guard within two seconds
	caller := east.callerAs(spoofer, "Jean Smith", "caller_stays.xml")
	caller.wait()
	c := east.waitEnded(1)[0]
	if c.Outcome != call.Blocked || !strings.Contains(strings.Join(c.Reasons, " "), "community block-list") {
		t.Errorf("Eastleigh's call from the campaign's number: outcome %q, reasons %q", c.Outcome, c.Reasons)
	}
	if n := east.metric("clearline_shared_blocklist_numbers"); n != 1 {
		t.Errorf("Eastleigh's /metrics shows %v shared numbers in force; want 1", n)
	}
	if n := tv.metric("clearline_hub_reports_sent_total"); n != 1 {
		t.Errorf("Test Valley's /metrics shows %v reports sent; want 1", n)
	}
	if !strings.Contains(fmt.Sprint(c.Reasons), campaign.ID) {
		t.Errorf("the block does not name the campaign %s: %q", campaign.ID, c.Reasons)
	}
}

func waitHTTP(t *testing.T, u string, logs *syncBuffer) {
	deadline := time.Now().Add(40 * time.Second)
	for {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
