package guardian

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/site"
)

// CallQuery reads the call filters, limited to what v may see.
func CallQuery(r *http.Request, v site.Viewer) (store.Query, error) {
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

// claimWho says in words who an asked caller said they were.
func claimWho(c *call.Claim) string {
	switch {
	case c.Organisation != "" && c.Kind == "family":
		return "the resident's " + strings.ToLower(c.Organisation)
	case c.Organisation != "":
		return "from " + c.Organisation
	case c.Kind == "unknown":
		return "from no organisation the guard knows"
	}
	return "from " + c.Kind
}

// claimChoice says what the resident chose after hearing who was calling.
func claimChoice(choice string) string {
	return map[string]string{
		"talk":        "chose to talk to them",
		"ring_police": "had the guard ring the police on 101 instead, on a fresh line (the caller was cut off)",
		"ring_bank":   "had the guard ring their bank instead, on a fresh line (the caller was cut off)",
		"refuse":      "refused the call",
		"none":        "did not choose, and the call was refused",
		"":            "was put through without a choice (the caller would not answer, and the household lets unknown callers ring)",
	}[choice]
}

type callsData struct {
	Households []dash.Household
	Household  string
	Verdict    string
	Risky      bool
	Since      string
	Calls      []call.Call
}

func (s *Dashboard) callsPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	hs, err := s.Visible(r.Context(), v)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	d := callsData{Households: hs, Household: r.URL.Query().Get("household"), Verdict: r.URL.Query().Get("verdict"),
		Risky: r.URL.Query().Get("risky") == "1", Since: r.URL.Query().Get("since")}
	q, err := CallQuery(r, v)
	if err != nil {
		s.site.Render(w, http.StatusBadRequest, pages, "calls", site.Page{Title: "Calls", V: v, Nav: "calls", Errors: dash.FieldErrors{"filter": err.Error()}, Data: d})
		return
	}
	if d.Calls, err = s.store.Calls(r.Context(), q); err != nil {
		s.site.Fail(w, err)
		return
	}
	s.site.Render(w, http.StatusOK, pages, "calls", site.Page{Title: "Calls", V: v, Nav: "calls", Data: d})
}

type callData struct {
	Call      call.Call
	Household dash.Household
	Number    string
	Blocked   bool
	// Live is the call's live state while it is in progress.
	Live *LiveCall
}

func (s *Dashboard) callPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c, live := s.GuardCall(r.PathValue("id")) // in progress, or just ended
	var err error
	if !live {
		c, err = s.store.Call(r.Context(), r.PathValue("id"))
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && !v.Sees(c.Household)) {
		http.Error(w, "There is no such call among your households.", http.StatusNotFound)
		return
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	h, _ := s.dash.Household(r.Context(), c.Household)
	d := callData{Call: c, Household: h, Number: site.Party(c.From)}
	if c.EndedAt.IsZero() && live {
		l := LiveOf(c, v, time.Now())
		d.Live = &l
	}
	for _, b := range h.Settings.Block {
		if screen.Same(b.Number, d.Number) {
			d.Blocked = true
		}
	}
	s.site.Render(w, http.StatusOK, pages, "call", site.Page{Title: "Call from " + d.Number, V: v, Nav: "calls", Flash: r.URL.Query().Get("flash"), Data: d, Live: d.Live != nil})
}
