package guardian

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/web/site"
)

// First-run setup. While nobody can log in (no admin exists), the dashboard's pages lead to
// /setup, where a one-time code — printed in the guard's log and on its console, never sent
// over the network — opens a setup session. Its forms take the provider, the household's
// number, the phones and the numbers for safe call-back, checked exactly as the
// configuration file is and put into force at once; its last page makes the first person,
// an admin who looks after the household, and ends setup for good: from then on every
// /setup address answers 404 and the code opens nothing.

// Line is the running guard as the dashboard sees it; package cli implements it.
type Line interface {
	// Config is the configuration in force.
	Config() *config.Config
	// Apply checks the setup's keys over the configuration in force as the file would be
	// checked (bad values come back as a *config.Error), saves them and puts them into
	// force without a restart. Nothing changes when it fails.
	Apply(ctx context.Context, s config.Setup) error
	// RingPhones is the test call: every phone rings, the one that answers hears a prompt.
	RingPhones(ctx context.Context) (guard.TestCall, error)
	// Status is the provider's registration and the phones' as they are now.
	Status() guard.Status
	// Problems says in plain words what is wrong with the line, and what to do.
	Problems(ctx context.Context) []Problem
}

// Problem is something wrong with the line a carer can act on.
type Problem struct {
	What, Do string
}

const (
	setupCookie = "clearline_setup"
	setupLife   = 2 * time.Hour
	// setupFailsAll is how many wrong codes, from every address together, stop all
	// attempts for 15 minutes (five from one address stop that address).
	setupFailsAll = 20
)

// setupState is the one-time code and the setup sessions it opened.
type setupState struct {
	mu       sync.Mutex
	code     string            // normalised; "" once setup is over
	sessions map[string]string // token hash → CSRF token
	expires  map[string]time.Time
	byAddr   site.Limiter
	all      site.Limiter
	done     func()
	// finishing lets one setup session at a time make the first admin.
	finishing sync.Mutex
}

// codeAlphabet leaves out 0, 1, I and O, which are read as each other.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewSetupCode makes a one-time setup code: 12 symbols of 32 (60 bits), as XXXX-XXXX-XXXX.
func NewSetupCode() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return sb.String()
}

// normaliseCode reads a code as typed: any case, with or without dashes and spaces.
func normaliseCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t':
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
}

// setupOpen says whether the first-run setup is open: a code was made and no admin exists.
// The first time it finds an admin it closes setup for good.
func (s *Dashboard) SetupOpen(ctx context.Context) bool {
	st := s.setup
	if st == nil {
		return false
	}
	st.mu.Lock()
	open := st.code != ""
	st.mu.Unlock()
	if !open {
		return false
	}
	users, err := s.dash.Users(ctx)
	if err != nil {
		return false // cannot tell: setup stays shut until the store answers
	}
	for _, u := range users {
		if u.Role == dash.Admin {
			s.closeSetup()
			return false
		}
	}
	return true
}

// closeSetup ends setup: the code and every setup session stop working.
func (s *Dashboard) closeSetup() {
	st := s.setup
	st.mu.Lock()
	was := st.code != ""
	st.code, st.sessions, st.expires = "", map[string]string{}, map[string]time.Time{}
	st.mu.Unlock()
	if was && st.done != nil {
		st.done()
	}
}

// setupSession finds the request's setup session and its CSRF token.
func (s *Dashboard) setupSession(r *http.Request) (string, bool) {
	c, err := r.Cookie(setupCookie)
	if err != nil {
		return "", false
	}
	st := s.setup
	st.mu.Lock()
	defer st.mu.Unlock()
	h := site.HashToken(c.Value)
	csrf, ok := st.sessions[h]
	if ok && time.Now().After(st.expires[h]) {
		delete(st.sessions, h)
		return "", false
	}
	return csrf, ok
}

func (s *Dashboard) mountSetup(mux *http.ServeMux) {
	mux.HandleFunc("GET /setup", s.setupGate(false, s.setupCodePage))
	mux.HandleFunc("POST /setup", s.setupGate(false, s.postSetupCode))
	mux.HandleFunc("GET /setup/line", s.setupGate(true, s.setupLinePage))
	mux.HandleFunc("POST /setup/line", s.setupGate(true, s.postSetupLine))
	mux.HandleFunc("GET /setup/phones", s.setupGate(true, s.setupPhonesPage))
	mux.HandleFunc("POST /setup/ring", s.setupGate(true, s.postSetupRing))
	mux.HandleFunc("GET /setup/you", s.setupGate(true, s.setupYouPage))
	mux.HandleFunc("POST /setup/you", s.setupGate(true, s.postSetupYou))
	mux.HandleFunc("GET /setup/clearline.yaml", s.setupGate(true, func(w http.ResponseWriter, r *http.Request) { s.site.ExportConfig(w, s.o.Line.Config()) }))
}

// setupGate serves a setup page only while setup is open (404 after), and with session
// only to the holder of a setup session; its POSTs must carry the session's CSRF token.
func (s *Dashboard) setupGate(session bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.SetupOpen(r.Context()) {
			http.NotFound(w, r)
			return
		}
		if session {
			csrf, ok := s.setupSession(r)
			if !ok {
				http.Redirect(w, r, "/setup", http.StatusSeeOther)
				return
			}
			if r.Method == http.MethodPost && subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(csrf)) != 1 {
				http.Error(w, "This form has expired. Go back, reload the page and try again.", http.StatusForbidden)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), setupCSRF{}, csrf))
		}
		h(w, r)
	}
}

type setupCSRF struct{}

// setupPage is what every setup template gets.
type setupPage struct {
	CSRF  string
	Step  int
	Form  map[string]string
	Extra any
}

func (s *Dashboard) renderSetup(w http.ResponseWriter, r *http.Request, code int, name string, errs dash.FieldErrors, sp setupPage) {
	sp.CSRF, _ = r.Context().Value(setupCSRF{}).(string)
	s.site.Render(w, code, pages, name, site.Page{Title: "Set up clearline", Flash: r.URL.Query().Get("flash"), Errors: errs, Data: sp})
}

func (s *Dashboard) setupCodePage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.setupSession(r); ok {
		http.Redirect(w, r, "/setup/line", http.StatusSeeOther)
		return
	}
	s.renderSetup(w, r, http.StatusOK, "setup-code", nil, setupPage{Step: 1})
}

func (s *Dashboard) postSetupCode(w http.ResponseWriter, r *http.Request) {
	st := s.setup
	addr := site.ClientIP(r)
	wait := max(st.byAddr.Blocked(addr), st.all.Blocked("*"))
	if wait > 0 {
		s.renderSetup(w, r, http.StatusTooManyRequests, "setup-code", dash.FieldErrors{"code": "too many wrong codes: try again in " + wait.Round(time.Second).String()}, setupPage{Step: 1})
		return
	}
	got := normaliseCode(r.PostFormValue("code"))
	st.mu.Lock()
	want := normaliseCode(st.code)
	st.mu.Unlock()
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		st.byAddr.Fail(addr)
		st.all.Fail("*")
		s.site.Log.Warn("wrong setup code", "from", addr)
		s.renderSetup(w, r, http.StatusUnauthorized, "setup-code", dash.FieldErrors{"code": "that is not the code: it is in the guard's log (journalctl -u clearline) and on its console"}, setupPage{Step: 1})
		return
	}
	tok, csrf := site.RandomToken(), site.RandomToken()
	st.mu.Lock()
	st.sessions[site.HashToken(tok)] = csrf
	st.expires[site.HashToken(tok)] = time.Now().Add(setupLife)
	st.mu.Unlock()
	s.site.Log.Info("setup session opened", "from", addr)
	http.SetCookie(w, &http.Cookie{Name: setupCookie, Value: tok, Path: "/setup", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || s.site.SecureCookies, MaxAge: int(setupLife.Seconds())})
	http.Redirect(w, r, "/setup/line", http.StatusSeeOther)
}
