// Package guardian serves the guardians' dashboard: each household's day (Today), its
// calls and a call's story, the calls going on now and ending one, alerts, the
// household's settings and lists, the guardian's own alert channels, the line's health
// and test call, and the first-run setup that makes the first admin. Guardians see only
// their households; admins see every one; the operator's token sees no page. The JSON
// API (package api) calls the same operations, which are exported for it.
package guardian

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/site"
)

//go:embed ui
var ui embed.FS

var pages = site.Templates(ui, template.FuncMap{
	"riskPlot":       riskPlot,
	"dayPlot":        dayPlot,
	"claimWho":       claimWho,
	"claimAuthority": func(c *call.Claim) bool { return c.Kind == "police" || c.Kind == "bank" || c.Kind == "government" },
	"claimChoice":    claimChoice,
})

// Options are the dashboard's parts besides the shared site: the calls' store, and the
// running guard's parts as web.Options describes them (each may be nil).
type Options struct {
	Store           store.Store
	SettingsChanged func(dash.Household)
	Line            Line
	SetupCode       string
	SetupDone       func()
	TestAlert       func(ctx context.Context, household string) (int, error)
	Live            Live
}

// Dashboard is the guardians' pages, and the operations the API shares with them.
type Dashboard struct {
	site  *site.Site
	dash  dash.Store
	store store.Store
	o     Options
	// setup is the first-run setup while it is open (nil when there was none to do).
	setup *setupState
}

// New makes the guardians' dashboard; s.Dash may be nil, leaving only what the operator's
// token reads (the calls).
func New(s *site.Site, o Options) *Dashboard {
	d := &Dashboard{site: s, dash: s.Dash, store: o.Store, o: o}
	if s.Dash != nil && o.Line != nil && o.SetupCode != "" {
		d.setup = &setupState{code: o.SetupCode, sessions: map[string]string{}, expires: map[string]time.Time{},
			all: site.Limiter{Max: setupFailsAll}, done: o.SetupDone}
	}
	return d
}

// Mount serves the guardians' pages and the first-run setup.
func (s *Dashboard) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.site.LoggedIn(s.overview))
	mux.HandleFunc("GET /calls", s.site.LoggedIn(s.callsPage))
	mux.HandleFunc("GET /calls/{id}", s.site.LoggedIn(s.callPage))
	mux.HandleFunc("GET /alerts", s.site.LoggedIn(s.alertsPage))
	mux.HandleFunc("POST /alerts/{id}/ack", s.site.LoggedIn(s.ackAlert))
	mux.HandleFunc("GET /households", s.site.LoggedIn(s.householdsPage))
	mux.HandleFunc("GET /households/{id}", s.site.LoggedIn(s.householdPage))
	mux.HandleFunc("POST /households/{id}/settings", s.site.LoggedIn(s.postSettings))
	mux.HandleFunc("POST /households/{id}/block", s.site.LoggedIn(s.postBlock))
	mux.HandleFunc("GET /account", s.site.LoggedIn(s.accountPage))
	mux.HandleFunc("POST /account", s.site.LoggedIn(s.postAccount))
	mux.HandleFunc("POST /line/ring", s.site.LoggedIn(s.postRing))
	mux.HandleFunc("POST /households/{id}/test-alert", s.site.LoggedIn(s.postTestAlert))
	s.mountSetup(mux)
}

// MountLive serves the page of calls going on now, and ending one (where a guard runs).
func (s *Dashboard) MountLive(mux *http.ServeMux) {
	mux.HandleFunc("GET /live", s.site.LoggedIn(s.livePage))
	mux.HandleFunc("POST /calls/{id}/end", s.site.LoggedIn(s.postEnd))
}

// Visible lists the households v may see, by name, without their settings.
func (s *Dashboard) Visible(ctx context.Context, v site.Viewer) ([]dash.Household, error) {
	return s.dash.Directory(ctx, v.Households())
}
