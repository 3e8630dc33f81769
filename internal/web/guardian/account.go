package guardian

import (
	"net/http"
	"strings"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

func (s *Dashboard) accountPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	s.site.Render(w, http.StatusOK, pages, "account", site.Page{Title: "Your alerts", V: v, Nav: "account", Flash: r.URL.Query().Get("flash"), Data: v.Channels})
}

func (s *Dashboard) postAccount(w http.ResponseWriter, r *http.Request, v site.Viewer) {
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
	if err := s.dash.SaveChannels(r.Context(), v.ID, c); err != nil {
		s.site.Fail(w, err)
		return
	}
	http.Redirect(w, r, "/account?flash=Saved.", http.StatusSeeOther)
}
