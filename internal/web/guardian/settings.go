package guardian

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/web/site"
)

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

func (s *Dashboard) household(w http.ResponseWriter, r *http.Request, v site.Viewer) (dash.Household, bool) {
	id := r.PathValue("id")
	if !v.Sees(id) {
		http.Error(w, "There is no such household among yours.", http.StatusNotFound)
		return dash.Household{}, false
	}
	h, err := s.dash.Household(r.Context(), id)
	if err != nil {
		http.Error(w, "There is no such household among yours.", http.StatusNotFound)
		return h, false
	}
	return h, true
}

func (s *Dashboard) householdPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	h, ok := s.household(w, r, v)
	if !ok {
		return
	}
	s.site.Render(w, http.StatusOK, pages, "household", site.Page{Title: h.Name, V: v, Nav: "households", Flash: r.URL.Query().Get("flash"), Data: formOf(h)})
}

func (s *Dashboard) postSettings(w http.ResponseWriter, r *http.Request, v site.Viewer) {
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
	if err := s.SaveSettings(r.Context(), h, set); err != nil {
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

// SaveSettings saves a household's settings and tells the guard.
func (s *Dashboard) SaveSettings(ctx context.Context, h dash.Household, set dash.Settings) error {
	if err := s.dash.SaveSettings(ctx, h.ID, set); err != nil {
		return err
	}
	h.Settings = set
	if s.o.SettingsChanged != nil {
		s.o.SettingsChanged(h)
	}
	return nil
}

func (s *Dashboard) postBlock(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	h, ok := s.household(w, r, v)
	if !ok {
		return
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/calls/") {
		back = "/households/" + h.ID
	}
	if err := s.Block(r.Context(), h, r.PostFormValue("number"), r.PostFormValue("name")); err != nil {
		http.Redirect(w, r, back+"?flash="+url.QueryEscape("Not blocked: "+err.Error()), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, back+"?flash="+url.QueryEscape("Blocked: this number will not ring again."), http.StatusSeeOther)
}

// Block puts number on the household's block-list (nothing changes when it is there already).
func (s *Dashboard) Block(ctx context.Context, h dash.Household, number, name string) error {
	set, changed, err := h.Settings.WithBlocked(number, name)
	if err != nil || !changed {
		return err
	}
	return s.SaveSettings(ctx, h, set)
}
