package guardian

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/site"
)

type overviewData struct {
	Glances []Glance
	// Of is how many households the viewer looks after: more than Glances when they are
	// more than glanceLimit.
	Of   int
	Line *lineData
	// Live are the calls going on now.
	Live []LiveCall
}

// Glance is one household's day.
type Glance struct {
	Household            dash.Household
	Calls, Blocked       int
	Warned, Risky, Alert int
	Days                 []Day
}

// Day is one day's calls to a household, by verdict.
type Day struct {
	Date                       time.Time
	Allow, Warn, Screen, Block int
	Risky                      int
}

// glanceLimit is how many households Today shows at a glance; a viewer who looks after
// more sees the ones at most risk today, and the list of them all (/households).
const glanceLimit = 12

// Glances is the last 14 days of each household v may see, with today's counts — of the
// glanceLimit at most risk today, when v sees more — and how many v sees.
func (s *Dashboard) Glances(ctx context.Context, v site.Viewer) ([]Glance, int, error) {
	hs, err := s.Visible(ctx, v)
	if err != nil {
		return nil, 0, err
	}
	of := len(hs)
	if of > glanceLimit {
		st, err := s.Standings(ctx, v)
		if err != nil {
			return nil, 0, err
		}
		hs = hs[:0]
		for _, h := range st[:glanceLimit] {
			hs = append(hs, h.Household)
		}
	}
	today := startOfToday()
	var out []Glance
	for _, h := range hs {
		g := Glance{Household: h}
		calls, err := s.store.Calls(ctx, store.Query{Households: []string{h.ID}, Since: today.AddDate(0, 0, -13), Limit: 1000})
		if err != nil {
			return nil, 0, err
		}
		g.Days = make([]Day, 14)
		for i := range g.Days {
			g.Days[i].Date = today.AddDate(0, 0, i-13)
		}
		for _, c := range calls {
			i := int(c.StartedAt.In(site.London).Sub(today.AddDate(0, 0, -13)).Hours() / 24)
			if i < 0 || i > 13 {
				continue
			}
			d := &g.Days[i]
			risky := c.Risk != nil && c.Risk.Level >= 0.5
			switch c.Verdict {
			case "block":
				d.Block++
			case "warn":
				d.Warn++
			case "screen":
				d.Screen++
			default:
				d.Allow++
			}
			if risky {
				d.Risky++
			}
			if i == 13 {
				g.Calls++
				if c.Outcome == call.Blocked {
					g.Blocked++
				}
				if c.Verdict == "warn" || warned(c) {
					g.Warned++
				}
				if risky || c.Verdict == "block" || c.Verdict == "warn" || c.Verdict == "screen" {
					g.Risky++
				}
			}
		}
		if g.Alert, err = s.dash.OpenAlerts(ctx, h.ID); err != nil {
			return nil, 0, err
		}
		out = append(out, g)
	}
	return out, of, nil
}

func warned(c call.Call) bool {
	if c.Risk == nil {
		return false
	}
	for _, i := range c.Risk.Interventions {
		if i.Kind == "warning" {
			return true
		}
	}
	return false
}

func (s *Dashboard) overview(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if v.Role == dash.Analyst {
		http.Redirect(w, r, "/hub", http.StatusSeeOther)
		return
	}
	gs, of, err := s.Glances(r.Context(), v)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	s.site.Render(w, http.StatusOK, pages, "overview", site.Page{Title: "Today", V: v, Nav: "today", Flash: r.URL.Query().Get("flash"),
		Data: overviewData{Glances: gs, Of: of, Line: s.lineFor(r.Context(), v), Live: s.LiveFor(v)}})
}

// lineData is the line's health on the Today page, for those who look after the guard's
// household; the phones' passwords only for admins.
type lineData struct {
	Household string
	Problems  []Problem
	Phones    *phonesData
}

func (s *Dashboard) lineFor(ctx context.Context, v site.Viewer) *lineData {
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
func (s *Dashboard) postRing(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if s.o.Line == nil || !v.Can(s.o.Line.Config().Household.ID) {
		http.NotFound(w, r)
		return
	}
	http.Redirect(w, r, "/?flash="+url.QueryEscape(s.ring(r.Context())), http.StatusSeeOther)
}

// postTestAlert sends the household's guardians a test alert through their channels.
func (s *Dashboard) postTestAlert(w http.ResponseWriter, r *http.Request, v site.Viewer) {
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
