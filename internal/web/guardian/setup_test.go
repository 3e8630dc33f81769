package guardian_test

import (
	"context"
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
	"github.com/clearline/clearline/internal/web"
	"github.com/clearline/clearline/internal/web/guardian"
	"github.com/clearline/clearline/internal/web/webtest"
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
func (f *fakeLine) Status() guard.Status                   { return guard.Status{} }
func (f *fakeLine) Problems(context.Context) []web.Problem { return nil }

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
	srv := httptest.NewServer(web.New(db, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		web.Options{Dash: db, Line: line, SetupCode: code, SetupDone: func() { done.Store(true) }}))
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
	code := web.NewSetupCode()
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
	if res := postCode(t, srv, "127.0.0.12", strings.ToLower(strings.ReplaceAll(code, "-", " "))); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Set-Cookie"), guardian.SetupCookie+"=") {
		t.Errorf("the right code from another address, typed loosely: %d %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
	for i := range guardian.SetupFailsAll {
		postCode(t, srv, fmt.Sprintf("127.0.1.%d", 1+i/4), "WRONG") // four each: none locked alone
	}
	if res := postCode(t, srv, "127.0.2.1", code); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right code after %d wrong ones from everywhere: %d", guardian.SetupFailsAll, res.StatusCode)
	}
}

// Without the code's session, setup pages send the browser back to the code; once an
// admin exists (made any way, here on the command line), every setup page is gone and the
// code opens nothing.
func TestSetupGoneOnceAnAdminExists(t *testing.T) {
	code := web.NewSetupCode()
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

// The Today page's line card: problems for whoever looks after the guard's household, the
// phones' passwords for admins alone; "Send a test alert" for a household one looks after.
func TestLineCardOnToday(t *testing.T) {
	r := webtest.NewRig(t)
	cfg, err := config.Parse([]byte("household: {id: mum, name: Mum's house}\nphones: [{user: kitchen, password: kitchen-secret-pw}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	line := &problemLine{fakeLine: fakeLine{cfg: cfg}}
	sent := ""
	r.Srv = httptest.NewServer(web.New(r.DB, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)), web.Options{Dash: r.DB, Line: line,
		TestAlert: func(_ context.Context, h string) (int, error) { sent = h; return 1, nil }}))
	t.Cleanup(r.Srv.Close)
	son := r.Client()
	son.Login("son@example.org")
	_, page := son.Do("GET", "/", nil, nil, "")
	if !strings.Contains(page, "No phone is connected") || !strings.Contains(page, "Do this") || strings.Contains(page, "kitchen-secret-pw") {
		t.Errorf("the guardian's Today page: problems shown %v, password hidden %v", strings.Contains(page, "No phone is connected"), !strings.Contains(page, "kitchen-secret-pw"))
	}
	if code, _ := son.Do("POST", "/households/gran/test-alert", url.Values{"csrf": {son.CSRF}}, nil, ""); code != http.StatusNotFound {
		t.Errorf("a test alert to another household: %d", code)
	}
	if code, _ := son.Do("POST", "/households/mum/test-alert", url.Values{"csrf": {son.CSRF}}, nil, ""); code != http.StatusSeeOther || sent != "mum" {
		t.Errorf("a test alert to their household: %d, sent to %q", code, sent)
	}
	carer := r.Client()
	carer.Login("carer@example.org")
	if _, page := carer.Do("GET", "/", nil, nil, ""); strings.Contains(page, "Is the line working?") {
		t.Error("another household's guardian sees the guard's line")
	}
	admin := r.Client()
	admin.Login("admin@example.org")
	if _, page := admin.Do("GET", "/", nil, nil, ""); !strings.Contains(page, "kitchen-secret-pw") || !strings.Contains(page, "Authenticate Password") {
		t.Error("the admin does not see the phone's password and device steps")
	}
	if code, body := admin.Do("GET", "/admin/clearline.yaml", nil, nil, ""); code != http.StatusOK || !strings.Contains(body, "kitchen-secret-pw") {
		t.Errorf("the admin's export: %d", code)
	}
	if code, _ := son.Do("GET", "/admin/clearline.yaml", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("a guardian's export: %d", code)
	}
}

type problemLine struct{ fakeLine }

func (problemLine) Problems(context.Context) []web.Problem {
	return []web.Problem{{What: "No phone is connected to the guard.", Do: "Do this."}}
}

// The last step offers asking callers the household does not know who they are: ticked,
// the household's screening.ask is unknown, applied to the guard at once; left alone, the
// default (asking only the callers screening warns about) stays.
func TestSetupOffersAskingUnknownCallers(t *testing.T) {
	for _, ticked := range []bool{true, false} {
		code := web.NewSetupCode()
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
