package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
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
func (s *Server) setupOpen(ctx context.Context) bool {
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
	users, err := s.o.Dash.Users(ctx)
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
func (s *Server) closeSetup() {
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
func (s *Server) setupSession(r *http.Request) (string, bool) {
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

func (s *Server) setupRoutes() {
	s.mux.HandleFunc("GET /setup", s.setupGate(false, s.setupCodePage))
	s.mux.HandleFunc("POST /setup", s.setupGate(false, s.postSetupCode))
	s.mux.HandleFunc("GET /setup/line", s.setupGate(true, s.setupLinePage))
	s.mux.HandleFunc("POST /setup/line", s.setupGate(true, s.postSetupLine))
	s.mux.HandleFunc("GET /setup/phones", s.setupGate(true, s.setupPhonesPage))
	s.mux.HandleFunc("POST /setup/ring", s.setupGate(true, s.postSetupRing))
	s.mux.HandleFunc("GET /setup/you", s.setupGate(true, s.setupYouPage))
	s.mux.HandleFunc("POST /setup/you", s.setupGate(true, s.postSetupYou))
	s.mux.HandleFunc("GET /setup/clearline.yaml", s.setupGate(true, func(w http.ResponseWriter, r *http.Request) { s.site.ExportConfig(w, s.o.Line.Config()) }))
}

// setupGate serves a setup page only while setup is open (404 after), and with session
// only to the holder of a setup session; its POSTs must carry the session's CSRF token.
func (s *Server) setupGate(session bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.setupOpen(r.Context()) {
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

func (s *Server) renderSetup(w http.ResponseWriter, r *http.Request, code int, name string, errs dash.FieldErrors, sp setupPage) {
	sp.CSRF, _ = r.Context().Value(setupCSRF{}).(string)
	s.site.Render(w, code, pages, name, site.Page{Title: "Set up clearline", Flash: r.URL.Query().Get("flash"), Errors: errs, Data: sp})
}

func (s *Server) setupCodePage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.setupSession(r); ok {
		http.Redirect(w, r, "/setup/line", http.StatusSeeOther)
		return
	}
	s.renderSetup(w, r, http.StatusOK, "setup-code", nil, setupPage{Step: 1})
}

func (s *Server) postSetupCode(w http.ResponseWriter, r *http.Request) {
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
		s.log.Warn("wrong setup code", "from", addr)
		s.renderSetup(w, r, http.StatusUnauthorized, "setup-code", dash.FieldErrors{"code": "that is not the code: it is in the guard's log (journalctl -u clearline) and on its console"}, setupPage{Step: 1})
		return
	}
	tok, csrf := site.RandomToken(), site.RandomToken()
	st.mu.Lock()
	st.sessions[site.HashToken(tok)] = csrf
	st.expires[site.HashToken(tok)] = time.Now().Add(setupLife)
	st.mu.Unlock()
	s.log.Info("setup session opened", "from", addr)
	http.SetCookie(w, &http.Cookie{Name: setupCookie, Value: tok, Path: "/setup", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || s.o.SecureCookies, MaxAge: int(setupLife.Seconds())})
	http.Redirect(w, r, "/setup/line", http.StatusSeeOther)
}

// lineFields are the line form's fields, in order.
var lineFields = []string{"name", "provider", "address", "transport", "username", "password", "number", "box", "phones", "police", "bank"}

// lineForm is the line form filled in from the configuration in force. The box's address
// is the one the browser reached it at, unless the guard already listens elsewhere.
func lineForm(cfg *config.Config, r *http.Request) map[string]string {
	f := map[string]string{"name": cfg.Household.Name, "provider": "manual", "transport": cfg.Trunk.Transport,
		"username": cfg.Trunk.Username, "password": cfg.Trunk.Password, "number": cfg.Trunk.DID,
		"police": cfg.Callback.Police, "bank": cfg.Callback.Bank}
	// A provider on loopback is the defaults' placeholder, not one to offer a carer.
	if h, _, err := net.SplitHostPort(cfg.Trunk.Address); err == nil && !isLoopback(h) {
		f["address"] = cfg.Trunk.Address
		for _, p := range presets {
			if p.Address != "" && p.Address == cfg.Trunk.Address {
				f["provider"], f["address"] = p.ID, ""
			}
		}
	}
	host, _, _ := net.SplitHostPort(cfg.SIP.Listen)
	if ip := net.ParseIP(host); ip == nil || isLoopback(host) || ip.IsUnspecified() {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if h, _, err := net.SplitHostPort(a.String()); err == nil {
				host = h
			}
		}
	}
	f["box"] = host
	var names []string
	for _, p := range cfg.Phones {
		names = append(names, p.User)
	}
	if len(names) == 0 {
		names = []string{"kitchen"}
	}
	f["phones"] = strings.Join(names, "\n")
	return f
}

func (s *Server) setupLinePage(w http.ResponseWriter, r *http.Request) {
	s.renderSetup(w, r, http.StatusOK, "setup-line", nil, setupPage{Step: 2, Form: lineForm(s.o.Line.Config(), r), Extra: presets})
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

var phoneName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// setupFrom turns the line form into the setup's keys over the configuration in force,
// with the form's own problems (what the configuration cannot know: a required field).
func setupFrom(cur *config.Config, f map[string]string) (config.Setup, dash.FieldErrors) {
	errs := dash.FieldErrors{}
	set := config.SetupOf(cur)
	set.Household.Name = f["name"]
	p, ok := presetByID(f["provider"])
	if !ok {
		errs["provider"] = "choose your provider, or the last choice to type its settings in"
		p = Preset{Transport: "udp"}
	}
	t := set.Trunk
	t.Address = f["address"]
	if t.Address == "" {
		t.Address = p.Address
	}
	if t.Address == "" {
		errs["address"] = "give the provider's SIP server, like sip.example.net (from the provider's set-up instructions)"
	} else if _, _, err := net.SplitHostPort(t.Address); err != nil {
		t.Address = net.JoinHostPort(t.Address, "5060")
	}
	t.Transport = f["transport"]
	if t.Transport == "" {
		t.Transport = p.Transport
	}
	t.Username, t.Password, t.DID = f["username"], f["password"], f["number"]
	if p.Registers && t.Username == "" {
		errs["username"] = "this provider needs the account's user name: " + p.Username
	}
	if t.Username != "" && t.Password == "" {
		errs["password"] = "give the account's SIP password, from the provider"
	}
	if t.DID == "" {
		errs["number"] = "give the household's phone number, the one people ring"
	}
	set.Trunk = t
	_, port, _ := net.SplitHostPort(cur.SIP.Listen)
	set.SIP.Listen = net.JoinHostPort(f["box"], port)
	if ip := net.ParseIP(f["box"]); ip == nil || ip.IsUnspecified() {
		errs["box"] = fmt.Sprintf("%q is not this box's IP address, like 192.168.1.20", f["box"])
	}
	// Phones named before keep their passwords; new ones (and the embedded defaults'
	// placeholders) get new ones.
	known := map[string]config.Phone{}
	for _, ph := range cur.Phones {
		known[ph.User] = ph
	}
	set.Phones = nil
	seen := map[string]bool{}
	for _, line := range strings.Split(f["phones"], "\n") {
		name := strings.ToLower(strings.TrimSpace(line))
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		if !phoneName.MatchString(name) {
			errs["phones"] = fmt.Sprintf("%q: a phone's name is one word of letters and digits, like kitchen or hall", name)
			continue
		}
		ph, had := known[name]
		if !had || strings.HasPrefix(ph.Password, "change-me") {
			ph = config.Phone{User: name, Password: newPhonePassword(), Contact: ph.Contact}
		}
		set.Phones = append(set.Phones, ph)
	}
	if len(set.Phones) == 0 && errs["phones"] == "" {
		errs["phones"] = "name at least one phone, like kitchen"
	}
	set.Callback = config.Callback{Police: f["police"], Bank: f["bank"]}
	return set, errs
}

// phoneAlphabet is easy to read off a screen and type on a phone's web page.
const phoneAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newPhonePassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i, c := range b {
		b[i] = phoneAlphabet[int(c)%len(phoneAlphabet)]
	}
	return string(b)
}

// fieldOf is the line form's field for a configuration key.
func fieldOf(key string) string {
	switch {
	case key == "sip.listen":
		return "box"
	case key == "household.name":
		return "name"
	case key == "trunk.address":
		return "address"
	case key == "trunk.transport":
		return "transport"
	case key == "trunk.username":
		return "username"
	case key == "trunk.password":
		return "password"
	case key == "trunk.did":
		return "number"
	case strings.HasPrefix(key, "phones"):
		return "phones"
	case key == "callback.police":
		return "police"
	case key == "callback.bank":
		return "bank"
	}
	return "general"
}

func (s *Server) postSetupLine(w http.ResponseWriter, r *http.Request) {
	f := map[string]string{}
	for _, k := range lineFields {
		f[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	cur := s.o.Line.Config()
	set, errs := setupFrom(cur, f)
	// Every bad value is named at once: the configuration's checks run even when the form
	// has its own problems, then again (with the saving) in Apply.
	_, _, err := set.Over(cur)
	if err == nil && len(errs) == 0 {
		err = s.o.Line.Apply(r.Context(), set)
	}
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		for _, p := range ce.Problems {
			field := fieldOf(p.Key)
			msg := p.Msg
			if field == "general" || field == "phones" {
				msg = p.Key + ": " + p.Msg
			}
			if errs[field] == "" {
				errs[field] = msg
			}
		}
	case err != nil:
		errs["general"] = err.Error()
	}
	if len(errs) > 0 {
		s.renderSetup(w, r, http.StatusUnprocessableEntity, "setup-line", errs, setupPage{Step: 2, Form: f, Extra: presets})
		return
	}
	s.log.Info("setup saved", "trunk", set.Trunk.Address, "phones", len(set.Phones))
	http.Redirect(w, r, "/setup/phones", http.StatusSeeOther)
}

// phoneCard is one phone on the phones page, with each device's steps.
type phoneCard struct {
	User, Password string
	Status         guard.PhoneStatus
	Devices        []deviceCard
}

type deviceCard struct {
	Name, Where string
	Steps       [][2]string
}

type phonesData struct {
	Server, Port string
	Phones       []phoneCard
	Trunk        guard.TrunkStatus
}

func (s *Server) phones() phonesData {
	cfg := s.o.Line.Config()
	st := s.o.Line.Status()
	host, port, _ := net.SplitHostPort(cfg.SIP.Listen)
	d := phonesData{Server: host, Port: port, Trunk: st.Trunk}
	for i, p := range cfg.Phones {
		c := phoneCard{User: p.User, Password: p.Password}
		if i < len(st.Phones) && st.Phones[i].User == p.User {
			c.Status = st.Phones[i]
		}
		for _, dev := range devices {
			c.Devices = append(c.Devices, deviceCard{Name: dev.Name, Where: dev.Where, Steps: deviceSteps(dev, host, port, p.User, p.Password)})
		}
		d.Phones = append(d.Phones, c)
	}
	return d
}

func (s *Server) setupPhonesPage(w http.ResponseWriter, r *http.Request) {
	s.renderSetup(w, r, http.StatusOK, "setup-phones", nil, setupPage{Step: 3, Extra: s.phones()})
}

func (s *Server) postSetupRing(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/setup/phones?flash="+url.QueryEscape(s.ring(r.Context())), http.StatusSeeOther)
}

// ring places the test call and says how it went.
func (s *Server) ring(ctx context.Context) string {
	tc, err := s.o.Line.RingPhones(ctx)
	switch {
	case errors.Is(err, guard.ErrNoPhone):
		return "No phone is connected yet: set one up as shown below, then ring again."
	case err != nil:
		return fmt.Sprintf("The test call rang %s but did not get through: %v.", orNone(tc.Rang), err)
	}
	return fmt.Sprintf("The test call rang %s; %s answered and heard the guard. The phones work.", orNone(tc.Rang), tc.Answered)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no phone"
	}
	return strings.Join(names, ", ")
}

func (s *Server) setupYouPage(w http.ResponseWriter, r *http.Request) {
	s.renderSetup(w, r, http.StatusOK, "setup-you", nil, setupPage{Step: 4, Form: map[string]string{}, Extra: s.o.Line.Config().Alerts.SMTP.Address != ""})
}

func (s *Server) postSetupYou(w http.ResponseWriter, r *http.Request) {
	f := map[string]string{}
	for _, k := range []string{"name", "email", "password", "ntfy", "by_email", "ask"} {
		f[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	f["password"] = r.PostFormValue("password") // as typed
	smtp := s.o.Line.Config().Alerts.SMTP.Address != ""
	errs := dash.FieldErrors{}
	if f["name"] == "" {
		errs["name"] = "give your name: the dashboard and alerts use it"
	}
	if _, err := mail.ParseAddress(f["email"]); err != nil || !strings.Contains(f["email"], "@") {
		errs["email"] = "give your e-mail address: you log in with it"
	}
	if err := dash.CheckPassword(f["password"]); err != nil {
		errs["password"] = "the password " + err.Error()
	}
	ch := dash.Channels{Ntfy: f["ntfy"]}
	if f["by_email"] != "" && smtp {
		ch.Email = f["email"]
	}
	for k, v := range ch.Check() {
		errs[k] = v
	}
	if ch.Ntfy == "" && ch.Email == "" && errs["ntfy"] == "" {
		errs["ntfy"] = "choose at least one way to be told at once about a risky call"
	}
	if len(errs) > 0 {
		s.renderSetup(w, r, http.StatusUnprocessableEntity, "setup-you", errs, setupPage{Step: 4, Form: f, Extra: smtp})
		return
	}
	ctx := r.Context()
	st := s.setup
	st.finishing.Lock() // one first admin, however many setup sessions
	defer st.finishing.Unlock()
	if !s.setupOpen(ctx) {
		http.NotFound(w, r)
		return
	}
	hash, err := dash.HashPassword(f["password"])
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	household := s.o.Line.Config().Household.ID
	u, err := s.o.Dash.CreateUser(ctx, dash.User{Email: f["email"], Name: f["name"], Role: dash.Admin}, hash)
	if errors.Is(err, dash.ErrExists) {
		s.renderSetup(w, r, http.StatusUnprocessableEntity, "setup-you", dash.FieldErrors{"email": "someone already has this e-mail address"}, setupPage{Step: 4, Form: f, Extra: smtp})
		return
	}
	if err == nil {
		err = s.o.Dash.SetGuardian(ctx, u.ID, household, true)
	}
	if err == nil {
		err = s.o.Dash.SaveChannels(ctx, u.ID, ch)
	}
	if err == nil && f["ask"] != "" {
		// Callers not in the contacts are asked who they are (screening.ask: unknown).
		var h dash.Household
		if h, err = s.o.Dash.Household(ctx, household); err == nil {
			set := h.Settings
			set.Ask = "unknown"
			err = s.saveSettings(ctx, h, set)
		}
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	s.closeSetup()
	s.log.Info("setup finished: first admin added", "email", u.Email)
	http.SetCookie(w, &http.Cookie{Name: setupCookie, Value: "", Path: "/setup", MaxAge: -1, HttpOnly: true})
	if err := s.site.Login(ctx, w, r, f["email"], f["password"]); err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/?flash="+url.QueryEscape("Setup finished. Send yourself a test alert below to check it reaches you."), http.StatusSeeOther)
}

// lineData is the line's health on the Today page, for those who look after the guard's
// household; the phones' passwords only for admins.
type lineData struct {
	Household string
	Problems  []Problem
	Phones    *phonesData
}

func (s *Server) lineFor(ctx context.Context, v site.Viewer) *lineData {
	if s.o.Line == nil {
		return nil
	}
	id := s.o.Line.Config().Household.ID
	if !v.Can(id) {
		return nil
	}
	d := &lineData{Household: id, Problems: s.o.Line.Problems(ctx)}
	if v.Role == dash.Admin {
		ph := s.phones()
		d.Phones = &ph
	}
	return d
}

// postRing is "Ring the phones" on the Today page.
func (s *Server) postRing(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if s.o.Line == nil || !v.Can(s.o.Line.Config().Household.ID) {
		http.NotFound(w, r)
		return
	}
	http.Redirect(w, r, "/?flash="+url.QueryEscape(s.ring(r.Context())), http.StatusSeeOther)
}

// postTestAlert sends the household's guardians a test alert through their channels.
func (s *Server) postTestAlert(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	id := r.PathValue("id")
	if s.o.TestAlert == nil || !v.Can(id) {
		http.NotFound(w, r)
		return
	}
	n, err := s.o.TestAlert(r.Context(), id)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	http.Redirect(w, r, "/alerts?flash="+url.QueryEscape("Test alert sent to "+strconv.Itoa(n)+" people. Each delivery's state is below."), http.StatusSeeOther)
}
