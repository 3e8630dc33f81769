package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/store/sqlite"
)

// fakeLine is the running guard for the setup's tests: Apply checks as cli's does and
// keeps what it was given.
type fakeLine struct {
	cfg     *config.Config
	applied []config.Setup
}

func (f *fakeLine) Config() *config.Config { return f.cfg }
func (f *fakeLine) Apply(_ context.Context, s config.Setup) error {
	next, _, err := s.Over(f.cfg)
	if err != nil {
		return err
	}
	f.cfg = next
	f.applied = append(f.applied, s)
	return nil
}
func (f *fakeLine) RingPhones(context.Context) (guard.TestCall, error) {
	return guard.TestCall{}, guard.ErrNoPhone
}
func (f *fakeLine) Status() guard.Status               { return guard.Status{} }
func (f *fakeLine) Problems(context.Context) []Problem { return nil }

// setupRig serves a dashboard nobody can log in to yet, with setup open under code.
func setupRig(t *testing.T, code string) (*httptest.Server, *sqlite.Store, *fakeLine, *atomic.Bool) {
	t.Helper()
	db, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg, err := config.Parse([]byte("phones: []\nhousehold: {id: home, name: Home}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.EnsureHousehold(context.Background(), dash.Household{ID: "home", Name: "Home", Settings: dash.DefaultSettings()}); err != nil {
		t.Fatal(err)
	}
	line := &fakeLine{cfg: cfg}
	var done atomic.Bool
	srv := httptest.NewServer(New(db, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		Options{Dash: db, Line: line, SetupCode: code, SetupDone: func() { done.Store(true) }}))
	t.Cleanup(srv.Close)
	return srv, db, line, &done
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// postCode types code into the setup page from the loopback address from ("" for any).
func postCode(t *testing.T, srv *httptest.Server, from, code string) *http.Response {
	t.Helper()
	c := noRedirect
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c = &http.Client{CheckRedirect: noRedirect.CheckRedirect, Transport: &http.Transport{DialContext: d.DialContext}}
	}
	res, err := c.PostForm(srv.URL+"/setup", url.Values{"code": {code}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// Wrong codes are refused; five from one address lock it out (even with the right code)
// without locking out another; twenty from everywhere lock everyone out.
func TestSetupCodeRefusedAndRateLimited(t *testing.T) {
	code := NewSetupCode()
	if len(code) != 14 || strings.ContainsAny(code, "01IO") {
		t.Fatalf("code %q", code)
	}
	srv, _, _, _ := setupRig(t, code)
	for i := range 5 {
		if res := postCode(t, srv, "127.0.0.11", "AAAA-BBBB-CCC"+string(rune('A'+i))); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i, res.StatusCode)
		}
	}
	if res := postCode(t, srv, "127.0.0.11", code); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right code after five wrong ones from the same address: %d", res.StatusCode)
	}
	if res := postCode(t, srv, "127.0.0.12", strings.ToLower(strings.ReplaceAll(code, "-", " "))); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Set-Cookie"), setupCookie+"=") {
		t.Errorf("the right code from another address, typed loosely: %d %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
	for i := range setupFailsAll {
		postCode(t, srv, fmt.Sprintf("127.0.1.%d", 1+i/4), "WRONG") // four each: none locked alone
	}
	if res := postCode(t, srv, "127.0.2.1", code); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right code after %d wrong ones from everywhere: %d", setupFailsAll, res.StatusCode)
	}
}

// Without the code's session, setup pages send the browser back to the code; once an
// admin exists (made any way, here on the command line), every setup page is gone and the
// code opens nothing.
func TestSetupGoneOnceAnAdminExists(t *testing.T) {
	code := NewSetupCode()
	srv, db, _, done := setupRig(t, code)
	res, _ := noRedirect.Get(srv.URL + "/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/setup" {
		t.Errorf("/ before setup: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = noRedirect.Get(srv.URL + "/setup/line")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/setup" {
		t.Errorf("/setup/line without the code: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	hash, _ := dash.HashPassword("correct horse battery")
	if _, err := db.CreateUser(context.Background(), dash.User{Email: "admin@example.org", Name: "admin", Role: dash.Admin}, hash); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/setup", "/setup/line", "/setup/phones", "/setup/you", "/setup/clearline.yaml"} {
		if res, _ := noRedirect.Get(srv.URL + path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after an admin exists: %d", path, res.StatusCode)
		}
	}
	if res := postCode(t, srv, "", code); res.StatusCode != http.StatusNotFound {
		t.Errorf("the code after an admin exists: %d", res.StatusCode)
	}
	if !done.Load() {
		t.Error("SetupDone was not told")
	}
	res, _ = noRedirect.Get(srv.URL + "/")
	if res.Header.Get("Location") != "/login" {
		t.Errorf("/ after setup leads to %q", res.Header.Get("Location"))
	}
}

// The line form: every bad value is named by its field at once, nothing is applied; good
// values are applied once, with passwords made for the phones.
func TestSetupLineForm(t *testing.T) {
	cfg, _ := config.Parse([]byte("phones: [{user: kitchen, password: change-me-kitchen}, {user: hall, password: keep-this-one}]\n"))
	f := map[string]string{"name": "Mum's house", "provider": "sipgate", "number": "01632 960123", "box": "192.0.2.20",
		"phones": "Kitchen\nhall\nkitchen\n", "police": "101", "bank": "0345 734 5345"}
	set, errs := setupFrom(cfg, f)
	if errs["username"] == "" || !strings.Contains(errs["username"], "SIP-ID") {
		t.Errorf("a preset that registers without a user name: %v", errs)
	}
	f["username"], f["password"] = "1234567e0", "from-sipgate"
	set, errs = setupFrom(cfg, f)
	if len(errs) != 0 {
		t.Fatalf("good values refused: %v", errs)
	}
	if set.Trunk.Address != "sipgate.co.uk:5060" || set.SIP.Listen != "192.0.2.20:5060" || len(set.Phones) != 2 {
		t.Errorf("setup %+v", set)
	}
	if set.Phones[0].User != "kitchen" || len(set.Phones[0].Password) != 16 || set.Phones[0].Password == "change-me-kitchen" || set.Phones[1].Password != "keep-this-one" {
		t.Errorf("phones %+v: the placeholder replaced, the chosen password kept", set.Phones)
	}
	if _, _, err := set.Over(cfg); err != nil {
		t.Errorf("good setup over the configuration: %v", err)
	}
	f["box"], f["bank"], f["address"], f["provider"] = "0.0.0.0", "the bank", "sip..example", "manual"
	set, errs = setupFrom(cfg, f)
	_, _, err := set.Over(cfg)
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("bad values passed the configuration's check: %v", err)
	}
	fields := map[string]bool{}
	for _, p := range ce.Problems {
		fields[fieldOf(p.Key)] = true
	}
	if errs["box"] == "" || !fields["bank"] || !fields["address"] {
		t.Errorf("form problems %v, configuration problems %v", errs, ce.Problems)
	}
}

// The Today page's line card: problems for whoever looks after the guard's household, the
// phones' passwords for admins alone; "Send a test alert" for a household one looks after.
func TestLineCardOnToday(t *testing.T) {
	r := newRig(t)
	cfg, err := config.Parse([]byte("household: {id: mum, name: Mum's house}\nphones: [{user: kitchen, password: kitchen-secret-pw}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	line := &problemLine{fakeLine: fakeLine{cfg: cfg}}
	sent := ""
	r.srv = httptest.NewServer(New(r.db, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Dash: r.db, Line: line,
		TestAlert: func(_ context.Context, h string) (int, error) { sent = h; return 1, nil }}))
	t.Cleanup(r.srv.Close)
	son := r.client()
	son.login("son@example.org")
	_, page := son.do("GET", "/", nil, nil, "")
	if !strings.Contains(page, "No phone is connected") || !strings.Contains(page, "Do this") || strings.Contains(page, "kitchen-secret-pw") {
		t.Errorf("the guardian's Today page: problems shown %v, password hidden %v", strings.Contains(page, "No phone is connected"), !strings.Contains(page, "kitchen-secret-pw"))
	}
	if code, _ := son.do("POST", "/households/gran/test-alert", url.Values{"csrf": {son.csrf}}, nil, ""); code != http.StatusNotFound {
		t.Errorf("a test alert to another household: %d", code)
	}
	if code, _ := son.do("POST", "/households/mum/test-alert", url.Values{"csrf": {son.csrf}}, nil, ""); code != http.StatusSeeOther || sent != "mum" {
		t.Errorf("a test alert to their household: %d, sent to %q", code, sent)
	}
	carer := r.client()
	carer.login("carer@example.org")
	if _, page := carer.do("GET", "/", nil, nil, ""); strings.Contains(page, "Is the line working?") {
		t.Error("another household's guardian sees the guard's line")
	}
	admin := r.client()
	admin.login("admin@example.org")
	if _, page := admin.do("GET", "/", nil, nil, ""); !strings.Contains(page, "kitchen-secret-pw") || !strings.Contains(page, "Authenticate Password") {
		t.Error("the admin does not see the phone's password and device steps")
	}
	if code, body := admin.do("GET", "/admin/clearline.yaml", nil, nil, ""); code != http.StatusOK || !strings.Contains(body, "kitchen-secret-pw") {
		t.Errorf("the admin's export: %d", code)
	}
	if code, _ := son.do("GET", "/admin/clearline.yaml", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("a guardian's export: %d", code)
	}
}

type problemLine struct{ fakeLine }

func (problemLine) Problems(context.Context) []Problem {
	return []Problem{{What: "No phone is connected to the guard.", Do: "Do this."}}
}

// The line form offers what is in force, but not the defaults' loopback placeholders, and
// the box's address is the one the browser reached it at.
func TestLineFormPrefill(t *testing.T) {
	r := httptest.NewRequest("GET", "/setup/line", nil)
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.ParseIP("192.0.2.20"), Port: 8080}))
	def, _ := config.Parse([]byte("phones: []\n"))
	f := lineForm(def, r)
	if f["address"] != "" || f["box"] != "192.0.2.20" || f["phones"] != "kitchen" || f["police"] != "101" {
		t.Errorf("over the defaults: %v", f)
	}
	set, _ := config.Parse([]byte("sip: {listen: 127.0.0.1:5060}\ntrunk: {address: sipgate.co.uk:5060, username: u, password: p, did: '01632960123'}\nphones: [{user: hall, password: x}]\n"))
	f = lineForm(set, r)
	if f["provider"] != "sipgate" || f["address"] != "" || f["username"] != "u" || f["number"] != "01632960123" || f["phones"] != "hall" {
		t.Errorf("over a saved setup: %v", f)
	}
}

// The last step offers asking callers the household does not know who they are: ticked,
// the household's screening.ask is unknown, applied to the guard at once; left alone, the
// default (asking only the callers screening warns about) stays.
func TestSetupOffersAskingUnknownCallers(t *testing.T) {
	for _, ticked := range []bool{true, false} {
		code := NewSetupCode()
		srv, db, _, _ := setupRig(t, code)
		res := postCode(t, srv, "", code)
		cookies := res.Cookies()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/setup/you", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		page, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if !strings.Contains(string(body), `name="ask"`) {
			t.Fatal("the last step does not offer asking callers who they are")
		}
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(body))
		if m == nil {
			t.Fatal("no CSRF token on the last step")
		}
		form := url.Values{"csrf": {m[1]}, "name": {"Sam"}, "email": {"sam@example.org"}, "password": {"correct horse battery"}, "ntfy": {"https://ntfy.sh/mum-calls-5f2c"}}
		if ticked {
			form.Set("ask", "on")
		}
		req, _ = http.NewRequest(http.MethodPost, srv.URL+"/setup/you", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err = noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("finishing setup (ask ticked %v): %d", ticked, res.StatusCode)
		}
		h, err := db.Household(context.Background(), "home")
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if ticked {
			want = "unknown"
		}
		if h.Settings.Ask != want {
			t.Errorf("ask ticked %v: the household's screening.ask is %q, want %q", ticked, h.Settings.Ask, want)
		}
	}
}
