// Package analyst serves the regional hub: its public report form (and API) for people to
// report a call or a doorstep visit, and the analysts' pages and API — campaigns, their
// spread, the reports behind them, CSV export, confirming numbers for the shared
// block-list, community alerts. The report form is open to anyone (anonymous reports are
// rate-limited per address); the rest lets analysts, admins and the operator's token
// through (the token only reads), and answers anyone else 404.
package analyst

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/web/site"
)

//go:embed ui
var ui embed.FS

var pages = site.Templates(ui, template.FuncMap{
	"districtCount": func(c campaign.Campaign) int {
		if len(c.Districts) == 0 {
			return 0
		}
		return c.Districts[len(c.Districts)-1].Total
	},
})

// Analyst is the hub's pages and API.
type Analyst struct {
	site *site.Site
	hub  *hub.Hub
	// reportLimit bounds anonymous reports to the hub per address.
	reportLimit reportLimit
}

// New makes the hub's pages over h.
func New(s *site.Site, h *hub.Hub) *Analyst { return &Analyst{site: s, hub: h} }

// Mount serves the report form; with people to log in, the analysts' pages and API too.
func (s *Analyst) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /report", s.reportForm)
	mux.HandleFunc("POST /report", s.postReportForm)
	mux.HandleFunc("POST /api/v1/reports", s.postReportAPI)
	if s.site.Dash == nil {
		return
	}
	mux.HandleFunc("GET /hub", s.site.LoggedIn(s.analyst(s.hubPage)))
	mux.HandleFunc("GET /hub/campaigns/{id}", s.site.LoggedIn(s.analyst(s.campaignPage)))
	mux.HandleFunc("GET /hub/campaigns/{id}/reports.csv", s.site.LoggedIn(s.analyst(s.campaignCSV)))
	mux.HandleFunc("POST /hub/campaigns/{id}/confirm", s.site.LoggedIn(s.analyst(s.postConfirm)))
	mux.HandleFunc("POST /hub/alerts", s.site.LoggedIn(s.analyst(s.postCommunityAlert)))
	mux.HandleFunc("POST /hub/blocklist/remove", s.site.LoggedIn(s.analyst(s.postUnblock)))
	mux.HandleFunc("DELETE /api/v1/hub/blocklist/{number}", s.site.API(s.analyst(s.apiUnblock)))
	mux.HandleFunc("GET /api/v1/hub/campaigns", s.site.API(s.analyst(s.apiCampaigns)))
	mux.HandleFunc("GET /api/v1/hub/campaigns/{id}", s.site.API(s.analyst(s.apiCampaign)))
	mux.HandleFunc("POST /api/v1/hub/campaigns/{id}/confirm", s.site.API(s.analyst(s.apiConfirm)))
	mux.HandleFunc("GET /api/v1/hub/alerts", s.site.API(s.analyst(s.apiAlerts)))
	mux.HandleFunc("POST /api/v1/hub/alerts", s.site.API(s.analyst(s.apiSendAlert)))
	mux.HandleFunc("GET /api/v1/hub/blocklist", s.site.API(s.analyst(s.apiBlocklist)))
}

// analyst lets analysts, admins and the operator's token through; guardians get 404.
func (s *Analyst) analyst(h site.Handler) site.Handler {
	return func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		if v.Role != dash.Analyst && v.Role != dash.Admin && !v.Operator() {
			http.NotFound(w, r)
			return
		}
		h(w, r, v)
	}
}
