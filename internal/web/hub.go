package web

import (
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/web/site"
)

// The regional hub's pages: a public form (and API) for people to report a call or a
// doorstep visit, and the analysts' pages — campaigns, their spread, the reports behind
// them, CSV export, confirming numbers for the shared block-list, community alerts.

func (s *Server) hubRoutes() {
	s.mux.HandleFunc("GET /report", s.reportForm)
	s.mux.HandleFunc("POST /report", s.postReportForm)
	s.mux.HandleFunc("POST /api/v1/reports", s.postReportAPI)
	if s.o.Dash == nil {
		return
	}
	s.mux.HandleFunc("GET /hub", s.site.LoggedIn(s.analyst(s.hubPage)))
	s.mux.HandleFunc("GET /hub/campaigns/{id}", s.site.LoggedIn(s.analyst(s.campaignPage)))
	s.mux.HandleFunc("GET /hub/campaigns/{id}/reports.csv", s.site.LoggedIn(s.analyst(s.campaignCSV)))
	s.mux.HandleFunc("POST /hub/campaigns/{id}/confirm", s.site.LoggedIn(s.analyst(s.postConfirm)))
	s.mux.HandleFunc("POST /hub/alerts", s.site.LoggedIn(s.analyst(s.postCommunityAlert)))
	s.mux.HandleFunc("POST /hub/blocklist/remove", s.site.LoggedIn(s.analyst(s.postUnblock)))
	s.mux.HandleFunc("DELETE /api/v1/hub/blocklist/{number}", s.site.API(s.analyst(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		if v.Operator() {
			site.WriteError(w, http.StatusForbidden, errors.New("the API token reads; unblocking needs an analyst's session"))
			return
		}
		if err := s.unblock(r, r.PathValue("number"), v); err != nil {
			site.WriteError(w, http.StatusNotFound, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	s.mux.HandleFunc("GET /api/v1/hub/campaigns", s.site.API(s.analyst(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		site.WriteJSON(w, http.StatusOK, map[string]any{"campaigns": s.o.Hub.Campaigns(), "stats": s.o.Hub.Stats()})
	})))
	s.mux.HandleFunc("GET /api/v1/hub/campaigns/{id}", s.site.API(s.analyst(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		c, reports, ok := s.campaign(w, r)
		if ok {
			site.WriteJSON(w, http.StatusOK, map[string]any{"campaign": c, "reports": reports})
		}
	})))
	s.mux.HandleFunc("POST /api/v1/hub/campaigns/{id}/confirm", s.site.API(s.analyst(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		if v.Operator() {
			site.WriteError(w, http.StatusForbidden, errors.New("the API token reads; confirming needs an analyst's session"))
			return
		}
		blocks, err := s.o.Hub.Confirm(r.Context(), r.PathValue("id"), v.Name)
		if errors.Is(err, hub.ErrNoCampaign) {
			site.WriteError(w, http.StatusNotFound, err)
			return
		}
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		site.WriteJSON(w, http.StatusOK, map[string]any{"blocked": blocks})
	})))
	s.mux.HandleFunc("GET /api/v1/hub/alerts", s.site.API(s.analyst(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		as, err := s.o.Hub.Store().Alerts(r.Context(), 200)
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		site.WriteJSON(w, http.StatusOK, map[string]any{"alerts": as})
	})))
	s.mux.HandleFunc("POST /api/v1/hub/alerts", s.site.API(s.analyst(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		if v.Operator() {
			site.WriteError(w, http.StatusForbidden, errors.New("the API token reads; alerts need an analyst's session"))
			return
		}
		var a hub.CommunityAlert
		if err := site.Decode(r, &a); err != nil {
			site.WriteError(w, http.StatusBadRequest, err)
			return
		}
		a.ID, a.By = "", v.Name
		sent, err := s.o.Hub.SendAlert(r.Context(), a)
		if fe := fieldErrors(err); fe != nil {
			site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "not sent; nothing was changed", "fields": fe})
			return
		}
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		site.WriteJSON(w, http.StatusCreated, sent)
	})))
	s.mux.HandleFunc("GET /api/v1/hub/blocklist", s.site.API(s.analyst(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		bs, err := s.o.Hub.Store().Blocks(r.Context())
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		site.WriteJSON(w, http.StatusOK, map[string]any{"blocklist": bs})
	})))
}

// analyst lets analysts, admins and the operator's token through; guardians get 404.
func (s *Server) analyst(h func(http.ResponseWriter, *http.Request, site.Viewer)) func(http.ResponseWriter, *http.Request, site.Viewer) {
	return func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		if v.Role != dash.Analyst && v.Role != dash.Admin && !v.Operator() {
			http.NotFound(w, r)
			return
		}
		h(w, r, v)
	}
}

// fieldErrors turns a report's or alert's joined FieldErrors into a map, or nil.
func fieldErrors(err error) dash.FieldErrors {
	if err == nil {
		return nil
	}
	out := dash.FieldErrors{}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var fe hub.FieldError
		if !errors.As(e, &fe) {
			return nil
		}
		if _, seen := out[fe.Field]; !seen {
			out[fe.Field] = fe.Problem
		}
	}
	return out
}

// reportLimit bounds reports from one address when nobody is logged in: a burst of
// reportBurst, then one every reportEvery. Logged-in users and the operator's token are
// not limited (a 101 call handler's system files many).
type reportLimit struct {
	mu sync.Mutex
	by map[string]*rate.Limiter
}

const (
	reportBurst = 20
	reportEvery = time.Minute
)

func (l *reportLimit) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.by == nil || len(l.by) > 100_000 {
		l.by = map[string]*rate.Limiter{}
	}
	lim, ok := l.by[ip]
	if !ok {
		lim = rate.NewLimiter(rate.Every(reportEvery), reportBurst)
		l.by[ip] = lim
	}
	return lim.Allow()
}

// reportAllowed applies the limit to anonymous reports.
func (s *Server) reportAllowed(r *http.Request) bool {
	if _, ok := s.site.Who(r); ok {
		return true
	}
	return s.reportLimit.allow(site.ClientIP(r))
}

const tooManyReports = "Too many reports from this address just now; try again in a few minutes. If someone is in danger, ring 999."

func newReportID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "p-" + time.Now().UTC().Format("20060102") + "-" + hex.EncodeToString(b)
}

// reportFormData is what the report form shows: the values typed, and the districts known.
type reportFormData struct {
	Form      map[string]string
	Districts []string
	ID        string
}

var reportFields = []string{"reporter", "contact", "when", "district", "number", "claimed", "officer", "force", "badge_number", "asked_for", "loss", "words"}

func (s *Server) reportForm(w http.ResponseWriter, r *http.Request) {
	v, _ := s.site.Who(r)
	form := map[string]string{"reporter": "resident", "contact": "call", "when": time.Now().In(site.London).Format("2006-01-02T15:04")}
	s.site.Render(w, http.StatusOK, pages, "report", site.Page{Title: "Report a scam call or visit", V: v, Nav: "report",
		Data: reportFormData{Form: form, Districts: s.o.Hub.Districts()}})
}

// postReportForm reads the form into a report; bad values are named next to their fields
// and nothing is stored.
func (s *Server) postReportForm(w http.ResponseWriter, r *http.Request) {
	v, _ := s.site.Who(r)
	if !s.reportAllowed(r) {
		http.Error(w, tooManyReports, http.StatusTooManyRequests)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	form := map[string]string{}
	for _, f := range reportFields {
		form[f] = r.PostFormValue(f)
	}
	rep := hub.Report{V: hub.Version, ID: newReportID(), Source: hub.FromPerson, Reporter: form["reporter"], Contact: form["contact"],
		District: form["district"], Number: form["number"], Claimed: form["claimed"], Officer: form["officer"], Force: form["force"],
		BadgeNumber: form["badge_number"], AskedFor: form["asked_for"], Words: form["words"], Verdict: "reported"}
	errs := dash.FieldErrors{}
	if at, err := time.ParseInLocation("2006-01-02T15:04", form["when"], site.London); err != nil {
		errs["when"] = "give the date and time, like 2026-11-20 14:05"
	} else {
		rep.At = at.UTC()
	}
	if l := strings.TrimSpace(strings.NewReplacer("£", "", ",", "").Replace(form["loss"])); l != "" {
		pounds, err := strconv.ParseFloat(l, 64)
		if err != nil || pounds < 0 {
			errs["loss"] = "give the amount lost in pounds, like 2500 or 2,500.00"
		} else {
			rep.LossPence = int64(pounds*100 + 0.5)
		}
	}
	err := rep.Check(time.Now())
	for k, p := range fieldErrors(err) {
		if k == "at" {
			k = "when"
		}
		if k == "loss_pence" {
			k = "loss"
		}
		if _, seen := errs[k]; !seen {
			errs[k] = p
		}
	}
	data := reportFormData{Form: form, Districts: s.o.Hub.Districts()}
	if len(errs) > 0 {
		s.site.Render(w, http.StatusUnprocessableEntity, pages, "report", site.Page{Title: "Report a scam call or visit", V: v, Nav: "report", Errors: errs, Data: data})
		return
	}
	if _, err := s.o.Hub.Submit(r.Context(), rep); err != nil {
		s.site.Fail(w, err)
		return
	}
	data.ID = rep.ID
	s.site.Render(w, http.StatusCreated, pages, "reported", site.Page{Title: "Thank you", V: v, Nav: "report", Data: data})
}

// postReportAPI takes a person's report as JSON (clearline-hub/1 Report; id optional,
// source person).
func (s *Server) postReportAPI(w http.ResponseWriter, r *http.Request) {
	if !s.reportAllowed(r) {
		site.WriteError(w, http.StatusTooManyRequests, errors.New(tooManyReports))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		site.WriteError(w, http.StatusBadRequest, err)
		return
	}
	// What the JSON leaves out (the ID, source, version, verdict) is filled in.
	rep := hub.Report{V: hub.Version, ID: newReportID(), Source: hub.FromPerson, Verdict: "reported"}
	err = hub.DecodeReport(body, &rep, time.Now())
	if err == nil && rep.Source != hub.FromPerson {
		err = hub.FieldError{Field: "source", Problem: "reports through this API come from people: leave it out or write \"person\""}
	}
	if err != nil {
		fe := fieldErrors(err)
		if fe == nil {
			fe = dash.FieldErrors{"report": err.Error()}
		}
		site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "report refused; nothing was stored", "fields": fe})
		return
	}
	added, err := s.o.Hub.Submit(r.Context(), rep)
	if err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	code := http.StatusCreated
	if !added {
		code = http.StatusOK
	}
	site.WriteJSON(w, code, map[string]any{"id": rep.ID, "stored": added, "duplicate": !added})
}

// hubView is the analysts' front page.
type hubView struct {
	Campaigns []campaign.Campaign
	Stats     hub.Stats
	Alerts    []hub.AlertReach
	Blocks    []hub.Block
}

func (s *Server) hubPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	ctx := r.Context()
	d := hubView{Campaigns: s.o.Hub.Campaigns(), Stats: s.o.Hub.Stats()}
	var err error
	if d.Alerts, err = s.o.Hub.Store().Alerts(ctx, 20); err == nil {
		d.Blocks, err = s.o.Hub.Store().Blocks(ctx)
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	s.site.Render(w, http.StatusOK, pages, "hub", site.Page{Title: "Campaigns", V: v, Nav: "hub", Flash: r.URL.Query().Get("flash"), Data: d})
}

// campaign finds the campaign in the path with its reports; it writes the error itself.
func (s *Server) campaign(w http.ResponseWriter, r *http.Request) (campaign.Campaign, []hub.Report, bool) {
	c, ok := s.o.Hub.Campaign(r.PathValue("id"))
	if !ok {
		http.Error(w, "No such campaign (it may have merged into another: see the list).", http.StatusNotFound)
		return c, nil, false
	}
	reports, err := s.o.Hub.Store().Reports(r.Context(), c.Reports)
	if err != nil {
		s.site.Fail(w, err)
		return c, nil, false
	}
	return c, reports, true
}

// campaignView is one campaign's page.
type campaignView struct {
	C        campaign.Campaign
	Reports  []hub.Report
	Map      any
	Chart    any
	Alert    map[string]string
	Blocked  map[string]bool
	AllBlock bool
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c, reports, ok := s.campaign(w, r)
	if !ok {
		return
	}
	s.renderCampaign(w, r, v, http.StatusOK, c, reports, nil, nil)
}

func (s *Server) renderCampaign(w http.ResponseWriter, r *http.Request, v site.Viewer, code int, c campaign.Campaign, reports []hub.Report, errs dash.FieldErrors, alert map[string]string) {
	blocks, err := s.o.Hub.Store().Blocks(r.Context())
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	d := campaignView{C: c, Reports: reports, Map: districtMap(c, reports), Chart: districtDays(c, reports), Alert: alert, Blocked: map[string]bool{}}
	for _, b := range blocks {
		d.Blocked[b.Number] = true
	}
	d.AllBlock = !slices.ContainsFunc(c.Numbers, func(n string) bool { return !d.Blocked[n] })
	if d.Alert == nil {
		d.Alert = draftAlert(c, reports)
	}
	s.site.Render(w, code, pages, "campaign", site.Page{Title: "Campaign " + c.ID, V: v, Nav: "hub", Errors: errs, Flash: r.URL.Query().Get("flash"), Data: d})
}

// draftAlert pre-fills a community alert from the campaign: what the callers say, what to do.
func draftAlert(c campaign.Campaign, reports []hub.Report) map[string]string {
	var districts []string
	for _, d := range c.Districts {
		districts = append(districts, d.New...)
	}
	who := "a police officer"
	for _, r := range reports {
		if r.Claimed == "bank" {
			who = "your bank's fraud team"
			break
		}
	}
	var says []string
	for k := range c.Indicators {
		if p, ok := indicatorPhrases[k]; ok {
			says = append(says, p)
		}
	}
	slices.Sort(says)
	body := fmt.Sprintf("Callers are ringing homes in %s pretending to be %s.", strings.Join(districts, ", "), who)
	if len(says) > 0 {
		body += " They " + strings.Join(says, "; ") + "."
	}
	if len(c.Numbers) > 0 {
		body += " Numbers used: " + strings.Join(c.Numbers, ", ") + "."
	}
	body += " The police and your bank will never ask you to withdraw cash, hand over cards or PINs, or move money." +
		" Hang up, wait five minutes, and call back on a number you trust from another phone. Report it on 101."
	return map[string]string{"title": "Scam calls: people pretending to be " + who, "body": body, "districts": strings.Join(districts, "\n")}
}

var indicatorPhrases = map[string]string{
	"cash_withdrawal": "ask you to withdraw cash", "courier_collection": "send a courier to collect cash or cards",
	"card_or_pin_request": "ask for your PIN or bank card", "safe_account_transfer": "ask you to move money to a \"safe account\"",
	"high_value_purchase": "ask you to buy gold, watches or gift cards", "secrecy": "tell you not to tell your bank or family",
	"callback_trick": "tell you to ring 101 to check, but stay on the line", "urgency_or_threat": "threaten arrest or say you must act now",
	"remote_access": "ask to get onto your computer or phone", "personal_details": "ask for passwords or codes sent by text",
	"dictated_number": "give you a number to ring them back on", "unexpected_problem": "say there is an order, a charge, a virus or a refund you knew nothing about",
	"call_to_action": "tell you to press 1 or ring them back", "unusual_payment": "ask to be paid in gift cards, vouchers, crypto or by money transfer",
}

func (s *Server) postConfirm(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	id := r.PathValue("id")
	blocks, err := s.o.Hub.Confirm(r.Context(), id, v.Name)
	if errors.Is(err, hub.ErrNoCampaign) {
		http.Error(w, "No such campaign.", http.StatusNotFound)
		return
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	msg := fmt.Sprintf("%d numbers added to the shared block-list; every guard blocks them from its next call.", len(blocks))
	http.Redirect(w, r, "/hub/campaigns/"+id+"?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

func (s *Server) postCommunityAlert(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	form := map[string]string{"title": r.PostFormValue("title"), "body": r.PostFormValue("body"), "districts": r.PostFormValue("districts"), "campaign": r.PostFormValue("campaign")}
	a := hub.CommunityAlert{Campaign: form["campaign"], Title: form["title"], Body: form["body"], By: v.Name}
	for _, d := range strings.FieldsFunc(form["districts"], func(r rune) bool { return r == '\n' || r == ',' }) {
		if d = strings.TrimSpace(d); d != "" {
			a.Districts = append(a.Districts, d)
		}
	}
	sent, err := s.o.Hub.SendAlert(r.Context(), a)
	if fe := fieldErrors(err); fe != nil {
		if c, ok := s.o.Hub.Campaign(a.Campaign); ok {
			reports, rerr := s.o.Hub.Store().Reports(r.Context(), c.Reports)
			if rerr != nil {
				s.site.Fail(w, rerr)
				return
			}
			s.renderCampaign(w, r, v, http.StatusUnprocessableEntity, c, reports, fe, form)
			return
		}
		http.Error(w, "Alert not sent: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	msg := fmt.Sprintf("Alert %s sent to %s.", sent.ID, strings.Join(sent.Districts, ", "))
	if a.Campaign != "" {
		http.Redirect(w, r, "/hub/campaigns/"+a.Campaign+"?flash="+url.QueryEscape(msg), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/hub?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

// unblock takes a number off the shared block-list (a spoofed number may belong to someone
// innocent); it must be on the list.
func (s *Server) unblock(r *http.Request, number string, v site.Viewer) error {
	n, err := screen.Canonical(number)
	if err != nil {
		return err
	}
	if err := s.o.Hub.Unblock(r.Context(), n); err != nil {
		return err
	}
	s.log.Info("shared block-list: number removed", "number", n, "by", v.Name)
	return nil
}

func (s *Server) postUnblock(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	msg := "Removed from the shared block-list: every guard lets it ring from its next call."
	if err := s.unblock(r, r.PostFormValue("number"), v); err != nil {
		msg = "Not removed: " + err.Error()
	}
	http.Redirect(w, r, "/hub?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

// campaignCSV exports a campaign's reports, one per line, for forwarding to the national
// fraud reporting service.
func (s *Server) campaignCSV(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c, reports, ok := s.campaign(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="campaign-%s.csv"`, c.ID))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"campaign", "report_id", "date_time_utc", "district", "contact", "caller_number", "claimed_to_be", "officer_name",
		"force", "badge_number", "asked_for", "loss_gbp", "indicators", "verdict", "source", "reporter", "account"})
	for _, rp := range reports {
		loss := ""
		if rp.LossPence > 0 {
			loss = fmt.Sprintf("%d.%02d", rp.LossPence/100, rp.LossPence%100)
		}
		_ = cw.Write(safeCells(c.ID, rp.ID, rp.At.UTC().Format(time.RFC3339), rp.District, rp.Contact, rp.Number, rp.Claimed, rp.Officer,
			rp.Force, rp.BadgeNumber, rp.AskedFor, loss, strings.Join(rp.Indicators, " "), rp.Verdict, rp.Source, rp.Reporter, rp.Words))
	}
	cw.Flush()
}

// safeCells keeps spreadsheet programs from running a cell as a formula: a cell starting
// with = @ or a tab, or with + or - not followed by digits only, gets a leading quote.
func safeCells(cells ...string) []string {
	for i, c := range cells {
		if c == "" {
			continue
		}
		switch c[0] {
		case '=', '@', '\t', '\r':
			cells[i] = "'" + c
		case '+', '-':
			if strings.Trim(c[1:], "0123456789") != "" || len(c) == 1 {
				cells[i] = "'" + c
			}
		}
	}
	return cells
}
