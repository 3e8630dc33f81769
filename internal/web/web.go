// Package web serves the guard's HTTP interface: /healthz and /metrics, the guardians'
// dashboard (server-rendered pages, with its CSS embedded in the binary), and the JSON API
// behind it with the same authorisation. Reads go straight to the store; a store that is
// down makes the API answer 503 and /healthz report it, while calls go on.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/analyst"
	"github.com/clearline/clearline/internal/web/site"
)

// Server is the HTTP handler.
type Server struct {
	store    store.Store
	registry *prometheus.Registry
	log      *slog.Logger
	mux      *http.ServeMux
	o        Options
	site     *site.Site
	// setup is the first-run setup while it is open (nil when there was none to do).
	setup *setupState
	// streams is closed when the server shuts down, ending the live event streams (live.go).
	streams     chan struct{}
	stopStreams func()
}

// Options are the dashboard's parts; without Dash only the API token can read calls.
type Options struct {
	Dash dash.Store
	// APIToken, when set, lets a request with "Authorization: Bearer <token>" read every
	// household's calls through the API (for the operator's own tools); it changes nothing.
	APIToken string
	// SecureCookies marks the session cookie Secure (set it behind an HTTPS proxy).
	SecureCookies bool
	// Hub, when set, adds the regional hub's pages: the public report form and API, and
	// the analysts' campaigns, alerts and block-list.
	Hub *hub.Hub
	// SettingsChanged is told when a household's settings were saved, so the guard applies them.
	SettingsChanged func(dash.Household)
	// Line is the running guard: its health on the Today page, the test call, the
	// configuration's export, and the first-run setup.
	Line Line
	// SetupCode, when set (no admin exists yet), opens the first-run setup to whoever types
	// it; SetupDone is told when the first admin has been made.
	SetupCode string
	SetupDone func()
	// TestAlert sends a household's guardians a test alert and says how many it reached.
	TestAlert func(ctx context.Context, household string) (int, error)
	// Live is the running guard's calls in progress, and a guardian's end of one.
	Live Live
}

// New builds the handler. st may report ErrUnavailable on every call.
func New(st store.Store, reg *prometheus.Registry, log *slog.Logger, o Options) *Server {
	s := &Server{store: st, registry: reg, log: log, mux: http.NewServeMux(), o: o,
		streams: make(chan struct{})}
	s.site = &site.Site{Dash: o.Dash, Log: log, APIToken: o.APIToken, SecureCookies: o.SecureCookies, Guard: o.Live != nil, SetupOpen: s.setupOpen}
	s.stopStreams = sync.OnceFunc(func() { close(s.streams) })
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("GET /api/calls", s.calls)
	s.mux.HandleFunc("GET /api/calls/{id}", s.oneCall)
	s.mux.HandleFunc("GET /api/v1/calls", s.calls)
	s.mux.HandleFunc("GET /api/v1/calls/{id}", s.oneCall)
	if o.Dash != nil {
		s.routes()
		if o.Line != nil && o.SetupCode != "" {
			s.setup = &setupState{code: o.SetupCode, sessions: map[string]string{}, expires: map[string]time.Time{},
				all: site.Limiter{Max: setupFailsAll}, done: o.SetupDone}
		}
		s.setupRoutes()
	}
	if o.Hub != nil {
		analyst.New(s.site, o.Hub).Mount(s.mux)
	}
	if o.Live != nil {
		s.liveRoutes()
	}
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type health struct {
	Status string `json:"status"`
	Store  string `json:"store"`
	// Hub is the regional hub's state where it runs in this process.
	Hub string `json:"hub,omitempty"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	h := health{Status: "ok", Store: "ok"}
	code := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		// Calls still work; say plainly what does not.
		h.Status, h.Store, code = "degraded", err.Error(), http.StatusServiceUnavailable
	}
	if s.o.Hub != nil {
		h.Hub = "ok"
		if err := s.o.Hub.Health(ctx); err != nil {
			h.Status, h.Hub, code = "degraded", err.Error(), http.StatusServiceUnavailable
		}
	}
	site.WriteJSON(w, code, h)
}

type callList struct {
	Calls []call.Call `json:"calls"`
}

func (s *Server) calls(w http.ResponseWriter, r *http.Request) {
	v, ok := s.site.Who(r)
	if !ok {
		site.WriteError(w, http.StatusUnauthorized, errors.New("log in first (or send the operator's API token)"))
		return
	}
	q, err := callQuery(r, v)
	if err != nil {
		site.WriteError(w, http.StatusBadRequest, err)
		return
	}
	calls, err := s.store.Calls(r.Context(), q)
	if err != nil {
		s.log.Error("api calls", "err", err)
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	if calls == nil {
		calls = []call.Call{}
	}
	site.WriteJSON(w, http.StatusOK, callList{Calls: calls})
}

// callQuery reads the call filters, limited to what v may see.
func callQuery(r *http.Request, v site.Viewer) (store.Query, error) {
	var q store.Query
	p := r.URL.Query()
	if val := p.Get("limit"); val != "" {
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 1000 {
			return q, fmt.Errorf("limit %q must be a number from 1 to 1000", val)
		}
		q.Limit = n
	}
	if val := p.Get("before"); val != "" {
		t, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			return q, fmt.Errorf("before %q must be an RFC 3339 time like 2026-11-25T10:00:00Z", val)
		}
		q.Before = t
	}
	if val := p.Get("since"); val != "" {
		t, err := time.Parse("2006-01-02", val)
		if err != nil {
			return q, fmt.Errorf("since %q must be a date like 2026-11-25", val)
		}
		q.Since = t
	}
	switch val := p.Get("verdict"); val {
	case "", "allow", "warn", "screen", "block":
		q.Verdict = val
	default:
		return q, fmt.Errorf("verdict %q must be allow, warn, screen or block", val)
	}
	q.Risky = p.Get("risky") == "1" || p.Get("risky") == "true"
	q.Households = v.Households()
	if h := p.Get("household"); h != "" {
		if !v.Sees(h) {
			return q, fmt.Errorf("no household %q among yours", h)
		}
		q.Households = []string{h}
	}
	return q, nil
}

func (s *Server) oneCall(w http.ResponseWriter, r *http.Request) {
	v, ok := s.site.Who(r)
	if !ok {
		site.WriteError(w, http.StatusUnauthorized, errors.New("log in first (or send the operator's API token)"))
		return
	}
	if c, ok := s.guardCall(r.PathValue("id")); ok && c.EndedAt.IsZero() && v.Sees(c.Household) {
		site.WriteJSON(w, http.StatusOK, liveOf(c, v, time.Now())) // with its live state
		return
	}
	c, err := s.store.Call(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !v.Sees(c.Household)):
		site.WriteError(w, http.StatusNotFound, fmt.Errorf("no call %q", r.PathValue("id")))
	case err != nil:
		site.WriteError(w, http.StatusServiceUnavailable, err)
	default:
		site.WriteJSON(w, http.StatusOK, c)
	}
}
