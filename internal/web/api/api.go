// Package api serves the JSON API under /api/v1 (and the older /api/calls), for scripts,
// the operator's tools and the live pages' script: what the guardians' pages show and do,
// as JSON, to the same people. A session's changes need its CSRF token in the
// X-CSRF-Token header (GET /api/v1/me returns it); the operator's API token reads every
// household's calls and changes nothing. The analysts' API under /api/v1/hub is package
// analyst's.
package api

import (
	"net/http"
	"sync"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/guardian"
	"github.com/clearline/clearline/internal/web/site"
)

// API is the JSON API over the guardians' dashboard g.
type API struct {
	site  *site.Site
	g     *guardian.Dashboard
	dash  dash.Store
	store store.Store
	// streams is closed when the server shuts down, ending the live event streams.
	streams     chan struct{}
	stopStreams func()
}

// New makes the API over g; st holds the calls.
func New(s *site.Site, g *guardian.Dashboard, st store.Store) *API {
	a := &API{site: s, g: g, dash: s.Dash, store: st, streams: make(chan struct{})}
	a.stopStreams = sync.OnceFunc(func() { close(a.streams) })
	return a
}

// MountCalls serves the calls, which the operator's token reads even without a dashboard.
func (s *API) MountCalls(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/calls", s.calls)
	mux.HandleFunc("GET /api/calls/{id}", s.oneCall)
	mux.HandleFunc("GET /api/v1/calls", s.calls)
	mux.HandleFunc("GET /api/v1/calls/{id}", s.oneCall)
}

// Mount serves the rest of what the guardians' pages show: the viewer, the households and
// their settings, alerts.
func (s *API) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/me", s.site.API(s.me))
	mux.HandleFunc("PUT /api/v1/me/channels", s.site.API(s.putChannels))
	mux.HandleFunc("GET /api/v1/overview", s.site.API(s.overview))
	mux.HandleFunc("GET /api/v1/households", s.site.API(s.households))
	mux.HandleFunc("GET /api/v1/households/{id}", s.site.API(s.household))
	mux.HandleFunc("PUT /api/v1/households/{id}/settings", s.site.API(s.putSettings))
	mux.HandleFunc("POST /api/v1/households/{id}/block", s.site.API(s.block))
	mux.HandleFunc("GET /api/v1/alerts", s.site.API(s.alerts))
	mux.HandleFunc("POST /api/v1/alerts/{id}/ack", s.site.API(s.ack))
}
