package analyst

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/web/site"
)

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
func (s *Analyst) reportAllowed(r *http.Request) bool {
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

func (s *Analyst) reportForm(w http.ResponseWriter, r *http.Request) {
	v, _ := s.site.Who(r)
	form := map[string]string{"reporter": "resident", "contact": "call", "when": time.Now().In(site.London).Format("2006-01-02T15:04")}
	s.site.Render(w, http.StatusOK, pages, "report", site.Page{Title: "Report a scam call or visit", V: v, Nav: "report",
		Data: reportFormData{Form: form, Districts: s.hub.Districts()}})
}

// postReportForm reads the form into a report; bad values are named next to their fields
// and nothing is stored.
func (s *Analyst) postReportForm(w http.ResponseWriter, r *http.Request) {
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
	data := reportFormData{Form: form, Districts: s.hub.Districts()}
	if len(errs) > 0 {
		s.site.Render(w, http.StatusUnprocessableEntity, pages, "report", site.Page{Title: "Report a scam call or visit", V: v, Nav: "report", Errors: errs, Data: data})
		return
	}
	if _, err := s.hub.Submit(r.Context(), rep); err != nil {
		s.site.Fail(w, err)
		return
	}
	data.ID = rep.ID
	s.site.Render(w, http.StatusCreated, pages, "reported", site.Page{Title: "Thank you", V: v, Nav: "report", Data: data})
}

// postReportAPI takes a person's report as JSON (clearline-hub/1 Report; id optional,
// source person).
func (s *Analyst) postReportAPI(w http.ResponseWriter, r *http.Request) {
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
	added, err := s.hub.Submit(r.Context(), rep)
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
