package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/admin"
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

func (s *Server) routes() {
	s.site.Mount(s.mux)
	s.mux.HandleFunc("GET /{$}", s.site.LoggedIn(s.overview))
	s.mux.HandleFunc("GET /calls", s.site.LoggedIn(s.callsPage))
	s.mux.HandleFunc("GET /calls/{id}", s.site.LoggedIn(s.callPage))
	s.mux.HandleFunc("GET /alerts", s.site.LoggedIn(s.alertsPage))
	s.mux.HandleFunc("POST /alerts/{id}/ack", s.site.LoggedIn(s.ackAlert))
	s.mux.HandleFunc("GET /households/{id}", s.site.LoggedIn(s.householdPage))
	s.mux.HandleFunc("POST /households/{id}/settings", s.site.LoggedIn(s.postSettings))
	s.mux.HandleFunc("POST /households/{id}/block", s.site.LoggedIn(s.postBlock))
	s.mux.HandleFunc("GET /account", s.site.LoggedIn(s.accountPage))
	s.mux.HandleFunc("POST /account", s.site.LoggedIn(s.postAccount))
	admin.New(s.site, s.o.Line).Mount(s.mux)
	s.mux.HandleFunc("POST /line/ring", s.site.LoggedIn(s.postRing))
	s.mux.HandleFunc("POST /households/{id}/test-alert", s.site.LoggedIn(s.postTestAlert))
	s.apiRoutes()
}

// visible lists the households v may see.
func (s *Server) visible(ctx context.Context, v site.Viewer) ([]dash.Household, error) {
	all, err := s.o.Dash.Households(ctx)
	if err != nil {
		return nil, err
	}
	var out []dash.Household
	for _, h := range all {
		if v.Sees(h.ID) {
			out = append(out, h)
		}
	}
	return out, nil
}

type overviewData struct {
	Glances []glance
	Line    *lineData
	// Live are the calls going on now.
	Live []liveCall
}

// glance is one household's day.
type glance struct {
	Household            dash.Household
	Calls, Blocked       int
	Warned, Risky, Alert int
	Days                 []day
}

type day struct {
	Date                       time.Time
	Allow, Warn, Screen, Block int
	Risky                      int
}

func (s *Server) glances(ctx context.Context, v site.Viewer) ([]glance, error) {
	hs, err := s.visible(ctx, v)
	if err != nil {
		return nil, err
	}
	now := time.Now().In(site.London)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, site.London)
	var out []glance
	for _, h := range hs {
		g := glance{Household: h}
		calls, err := s.store.Calls(ctx, store.Query{Households: []string{h.ID}, Since: today.AddDate(0, 0, -13), Limit: 1000})
		if err != nil {
			return nil, err
		}
		g.Days = make([]day, 14)
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
		if g.Alert, err = s.o.Dash.OpenAlerts(ctx, h.ID); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
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

func (s *Server) overview(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if v.Role == dash.Analyst {
		http.Redirect(w, r, "/hub", http.StatusSeeOther)
		return
	}
	gs, err := s.glances(r.Context(), v)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	s.site.Render(w, http.StatusOK, pages, "overview", site.Page{Title: "Today", V: v, Nav: "today", Flash: r.URL.Query().Get("flash"),
		Data: overviewData{Glances: gs, Line: s.lineFor(r.Context(), v), Live: s.liveFor(v)}})
}

type callsData struct {
	Households []dash.Household
	Household  string
	Verdict    string
	Risky      bool
	Since      string
	Calls      []call.Call
}

func (s *Server) callsPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	hs, err := s.visible(r.Context(), v)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	d := callsData{Households: hs, Household: r.URL.Query().Get("household"), Verdict: r.URL.Query().Get("verdict"),
		Risky: r.URL.Query().Get("risky") == "1", Since: r.URL.Query().Get("since")}
	q, err := callQuery(r, v)
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
	Live *liveCall
}

func (s *Server) callPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c, live := s.guardCall(r.PathValue("id")) // in progress, or just ended
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
	h, _ := s.o.Dash.Household(r.Context(), c.Household)
	d := callData{Call: c, Household: h, Number: site.Party(c.From)}
	if c.EndedAt.IsZero() && live {
		l := liveOf(c, v, time.Now())
		d.Live = &l
	}
	for _, b := range h.Settings.Block {
		if screen.Same(b.Number, d.Number) {
			d.Blocked = true
		}
	}
	s.site.Render(w, http.StatusOK, pages, "call", site.Page{Title: "Call from " + d.Number, V: v, Nav: "calls", Flash: r.URL.Query().Get("flash"), Data: d, Live: d.Live != nil})
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	as, err := s.o.Dash.Alerts(r.Context(), v.Households(), v.Role == dash.Admin, 200)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	s.site.Render(w, http.StatusOK, pages, "alerts", site.Page{Title: "Alerts", V: v, Nav: "alerts", Flash: r.URL.Query().Get("flash"), Data: as})
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if err := s.ack(r.Context(), v, r.PathValue("id")); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	http.Redirect(w, r, "/alerts", http.StatusSeeOther)
}

func (s *Server) ack(ctx context.Context, v site.Viewer, idText string) error {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return fmt.Errorf("no alert %q", idText)
	}
	a, err := s.o.Dash.Alert(ctx, id)
	if err != nil || !v.Sees(a.HouseholdID) {
		return fmt.Errorf("no alert %d among your households", id)
	}
	return s.o.Dash.AckAlert(ctx, id, v.Name)
}

// settingsForm is the settings page's form as typed, so a rejected form shows what was typed.
type settingsForm struct {
	Household                              dash.Household
	Allow, Block, Bank, Police, Quiet, Ask string
	Unknown, Warned                        string
	Warn, Alert                            bool
	WarnAt, AlertAt                        string
}

func formOf(h dash.Household) settingsForm {
	st := h.Settings
	return settingsForm{Household: h, Allow: contactsText(st.Allow), Block: contactsText(st.Block), Bank: st.Bank, Police: st.Police,
		Quiet: st.QuietHours, Ask: st.Ask, Unknown: st.Unknown, Warned: st.Warned, Warn: st.Warn, Alert: st.Alert, WarnAt: strconv.FormatFloat(st.WarnAt, 'f', -1, 64), AlertAt: strconv.FormatFloat(st.AlertAt, 'f', -1, 64)}
}

func contactsText(cs []dash.Contact) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Number)
		if c.Name != "" {
			b.WriteString(", " + c.Name)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// parseContacts reads one "number, name" per line.
func parseContacts(text string) ([]dash.Contact, error) {
	out := []dash.Contact{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		num, name, _ := strings.Cut(line, ",")
		num, name = strings.TrimSpace(num), strings.TrimSpace(name)
		if _, err := screen.Canonical(num); err != nil {
			return nil, fmt.Errorf("line %d: %v", i+1, err)
		}
		out = append(out, dash.Contact{Number: num, Name: name})
	}
	return out, nil
}

func (s *Server) household(w http.ResponseWriter, r *http.Request, v site.Viewer) (dash.Household, bool) {
	id := r.PathValue("id")
	if !v.Sees(id) {
		http.Error(w, "There is no such household among yours.", http.StatusNotFound)
		return dash.Household{}, false
	}
	h, err := s.o.Dash.Household(r.Context(), id)
	if err != nil {
		http.Error(w, "There is no such household among yours.", http.StatusNotFound)
		return h, false
	}
	return h, true
}

func (s *Server) householdPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	h, ok := s.household(w, r, v)
	if !ok {
		return
	}
	s.site.Render(w, http.StatusOK, pages, "household", site.Page{Title: h.Name, V: v, Nav: "households", Flash: r.URL.Query().Get("flash"), Data: formOf(h)})
}

func (s *Server) postSettings(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	h, ok := s.household(w, r, v)
	if !ok {
		return
	}
	f := settingsForm{Household: h, Allow: r.PostFormValue("allow"), Block: r.PostFormValue("block"), Bank: strings.TrimSpace(r.PostFormValue("bank")),
		Police: strings.TrimSpace(r.PostFormValue("police")), Quiet: strings.TrimSpace(r.PostFormValue("quiet_hours")), Ask: r.PostFormValue("ask"),
		Unknown: r.PostFormValue("unknown"), Warned: r.PostFormValue("warned"),
		Warn: r.PostFormValue("warn") == "on", Alert: r.PostFormValue("alert") == "on", WarnAt: r.PostFormValue("warn_at"), AlertAt: r.PostFormValue("alert_at")}
	set, errs := settingsOf(f)
	if len(errs) > 0 {
		s.site.Render(w, http.StatusUnprocessableEntity, pages, "household", site.Page{Title: h.Name, V: v, Nav: "households", Errors: errs, Data: f})
		return
	}
	if err := s.saveSettings(r.Context(), h, set); err != nil {
		s.site.Fail(w, err)
		return
	}
	http.Redirect(w, r, "/households/"+h.ID+"?flash=Saved.", http.StatusSeeOther)
}

// settingsOf checks a settings form; every field with a bad value gets its message.
func settingsOf(f settingsForm) (dash.Settings, dash.FieldErrors) {
	errs := dash.FieldErrors{}
	set := dash.Settings{Bank: f.Bank, Police: f.Police, QuietHours: f.Quiet, Ask: f.Ask, Unknown: f.Unknown, Warned: f.Warned, Warn: f.Warn, Alert: f.Alert}
	var err error
	if set.Allow, err = parseContacts(f.Allow); err != nil {
		errs["allow"] = err.Error()
	}
	if set.Block, err = parseContacts(f.Block); err != nil {
		errs["block"] = err.Error()
	}
	for _, t := range []struct {
		field, text string
		to          *float64
	}{{"warn_at", f.WarnAt, &set.WarnAt}, {"alert_at", f.AlertAt, &set.AlertAt}} {
		if *t.to, err = strconv.ParseFloat(strings.TrimSpace(t.text), 64); err != nil {
			errs[t.field] = "must be a number between 0 and 1, like 0.7"
		}
	}
	for k, msg := range set.Check() {
		if _, taken := errs[k]; !taken {
			errs[k] = msg
		}
	}
	return set, errs
}

func (s *Server) saveSettings(ctx context.Context, h dash.Household, set dash.Settings) error {
	if err := s.o.Dash.SaveSettings(ctx, h.ID, set); err != nil {
		return err
	}
	h.Settings = set
	if s.o.SettingsChanged != nil {
		s.o.SettingsChanged(h)
	}
	return nil
}

func (s *Server) postBlock(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	h, ok := s.household(w, r, v)
	if !ok {
		return
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/calls/") {
		back = "/households/" + h.ID
	}
	if err := s.block(r.Context(), h, r.PostFormValue("number"), r.PostFormValue("name")); err != nil {
		http.Redirect(w, r, back+"?flash="+url.QueryEscape("Not blocked: "+err.Error()), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, back+"?flash="+url.QueryEscape("Blocked: this number will not ring again."), http.StatusSeeOther)
}

func (s *Server) block(ctx context.Context, h dash.Household, number, name string) error {
	set, changed, err := h.Settings.WithBlocked(number, name)
	if err != nil || !changed {
		return err
	}
	return s.saveSettings(ctx, h, set)
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	s.site.Render(w, http.StatusOK, pages, "account", site.Page{Title: "Your alerts", V: v, Nav: "account", Flash: r.URL.Query().Get("flash"), Data: v.Channels})
}

func (s *Server) postAccount(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c := dash.Channels{Webhook: strings.TrimSpace(r.PostFormValue("webhook")), WebhookSecret: strings.TrimSpace(r.PostFormValue("webhook_secret")),
		Email: strings.TrimSpace(r.PostFormValue("email")), Ntfy: strings.TrimSpace(r.PostFormValue("ntfy")),
		Phone: strings.TrimSpace(r.PostFormValue("phone"))}
	if c.WebhookSecret == "" {
		c.WebhookSecret = v.Channels.WebhookSecret // kept unless replaced
	}
	if errs := c.Check(); len(errs) > 0 {
		s.site.Render(w, http.StatusUnprocessableEntity, pages, "account", site.Page{Title: "Your alerts", V: v, Nav: "account", Errors: errs, Data: c})
		return
	}
	if err := s.o.Dash.SaveChannels(r.Context(), v.ID, c); err != nil {
		s.site.Fail(w, err)
		return
	}
	http.Redirect(w, r, "/account?flash=Saved.", http.StatusSeeOther)
}
