package guardian

import (
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strings"

	"github.com/clearline/clearline/internal/dash"
)

func (s *Dashboard) setupYouPage(w http.ResponseWriter, r *http.Request) {
	s.renderSetup(w, r, http.StatusOK, "setup-you", nil, setupPage{Step: 4, Form: map[string]string{}, Extra: s.o.Line.Config().Alerts.SMTP.Address != ""})
}

func (s *Dashboard) postSetupYou(w http.ResponseWriter, r *http.Request) {
	f := map[string]string{}
	for _, k := range []string{"name", "email", "password", "ntfy", "by_email", "ask"} {
		f[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	f["password"] = r.PostFormValue("password") // as typed
	smtp := s.o.Line.Config().Alerts.SMTP.Address != ""
	errs := dash.FieldErrors{}
	if f["name"] == "" {
		errs["name"] = "give your name: the dashboard and alerts use it"
	}
	if _, err := mail.ParseAddress(f["email"]); err != nil || !strings.Contains(f["email"], "@") {
		errs["email"] = "give your e-mail address: you log in with it"
	}
	if err := dash.CheckPassword(f["password"]); err != nil {
		errs["password"] = "the password " + err.Error()
	}
	ch := dash.Channels{Ntfy: f["ntfy"]}
	if f["by_email"] != "" && smtp {
		ch.Email = f["email"]
	}
	for k, v := range ch.Check() {
		errs[k] = v
	}
	if ch.Ntfy == "" && ch.Email == "" && errs["ntfy"] == "" {
		errs["ntfy"] = "choose at least one way to be told at once about a risky call"
	}
	if len(errs) > 0 {
		s.renderSetup(w, r, http.StatusUnprocessableEntity, "setup-you", errs, setupPage{Step: 4, Form: f, Extra: smtp})
		return
	}
	ctx := r.Context()
	st := s.setup
	st.finishing.Lock() // one first admin, however many setup sessions
	defer st.finishing.Unlock()
	if !s.SetupOpen(ctx) {
		http.NotFound(w, r)
		return
	}
	hash, err := dash.HashPassword(f["password"])
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	household := s.o.Line.Config().Household.ID
	u, err := s.dash.CreateUser(ctx, dash.User{Email: f["email"], Name: f["name"], Role: dash.Admin}, hash)
	if errors.Is(err, dash.ErrExists) {
		s.renderSetup(w, r, http.StatusUnprocessableEntity, "setup-you", dash.FieldErrors{"email": "someone already has this e-mail address"}, setupPage{Step: 4, Form: f, Extra: smtp})
		return
	}
	if err == nil {
		err = s.dash.SetGuardian(ctx, u.ID, household, true)
	}
	if err == nil {
		err = s.dash.SaveChannels(ctx, u.ID, ch)
	}
	if err == nil && f["ask"] != "" {
		// Callers not in the contacts are asked who they are (screening.ask: unknown).
		var h dash.Household
		if h, err = s.dash.Household(ctx, household); err == nil {
			set := h.Settings
			set.Ask = "unknown"
			err = s.SaveSettings(ctx, h, set)
		}
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	s.closeSetup()
	s.site.Log.Info("setup finished: first admin added", "email", u.Email)
	http.SetCookie(w, &http.Cookie{Name: setupCookie, Value: "", Path: "/setup", MaxAge: -1, HttpOnly: true})
	if err := s.site.Login(ctx, w, r, f["email"], f["password"]); err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/?flash="+url.QueryEscape("Setup finished. Send yourself a test alert below to check it reaches you."), http.StatusSeeOther)
}
