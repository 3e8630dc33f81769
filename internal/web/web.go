// Package web serves the guard's HTTP interface: /healthz and /metrics, and the dashboard
// of server-rendered pages (CSS embedded in the binary) with the JSON API behind it under
// the same authorisation. It mounts one package per audience over the shared site
// (package site: sessions, login, CSRF, roles, templates, JSON answers):
//
//   - guardian: the guardians' pages (Today, calls, a call's story, calls now and ending
//     one, alerts, settings and lists, their alert channels) and the first-run setup;
//   - admin: the admins' pages (households, people, passwords, the configuration);
//   - analyst: the regional hub's pages and API for analysts, and its public report form;
//   - api: the JSON API for scripts and the operator's token.
//
// Reads go straight to the store; a store that is down makes the API answer 503 and
// /healthz report it, while calls go on.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/admin"
	"github.com/clearline/clearline/internal/web/analyst"
	"github.com/clearline/clearline/internal/web/api"
	"github.com/clearline/clearline/internal/web/guardian"
	"github.com/clearline/clearline/internal/web/site"
)

// Server is the HTTP handler.
type Server struct {
	store    store.Store
	registry *prometheus.Registry
	mux      *http.ServeMux
	o        Options
	api      *api.API
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
	// LinesChanged is told when an admin added a household or a phone, so the guard serves
	// it; it returns once the guard does.
	LinesChanged func()
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

// Line is the running guard as the dashboard sees it; package cli implements it.
type Line = guardian.Line

// Problem is something wrong with the line a carer can act on.
type Problem = guardian.Problem

// Live is the running guard's calls in progress, and a guardian's end of one.
type Live = guardian.Live

// NewSetupCode makes a one-time code for the first-run setup.
func NewSetupCode() string { return guardian.NewSetupCode() }

// New builds the handler. st may report ErrUnavailable on every call.
func New(st store.Store, reg *prometheus.Registry, log *slog.Logger, o Options) *Server {
	s := &Server{store: st, registry: reg, mux: http.NewServeMux(), o: o}
	sh := &site.Site{Dash: o.Dash, Log: log, APIToken: o.APIToken, SecureCookies: o.SecureCookies, Guard: o.Live != nil}
	g := guardian.New(sh, guardian.Options{Store: st, SettingsChanged: o.SettingsChanged, Line: o.Line, SetupCode: o.SetupCode,
		SetupDone: o.SetupDone, TestAlert: o.TestAlert, Live: o.Live})
	sh.SetupOpen = g.SetupOpen
	s.api = api.New(sh, g, st)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.api.MountCalls(s.mux)
	if o.Dash != nil {
		sh.Mount(s.mux)
		g.Mount(s.mux)
		admin.New(sh, o.Line, o.LinesChanged).Mount(s.mux)
		s.api.Mount(s.mux)
	}
	if o.Hub != nil {
		analyst.New(sh, o.Hub).Mount(s.mux)
	}
	if o.Live != nil {
		s.api.MountLive(s.mux)
		if o.Dash != nil {
			g.MountLive(s.mux)
		}
	}
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// StopStreams ends the live event streams (the server is shutting down: they would hold
// its shutdown up).
func (s *Server) StopStreams() { s.api.StopStreams() }

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
