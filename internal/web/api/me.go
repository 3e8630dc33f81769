package api

import (
	"net/http"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

// me is who is asking, with the CSRF token their changes need.
func (s *API) me(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	site.WriteJSON(w, http.StatusOK, map[string]any{"user": v.User, "csrf_token": v.CSRFToken()})
}

// putChannels replaces the viewer's alert channels; bad ones are refused, naming each field.
func (s *API) putChannels(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	var in struct {
		Webhook       string `json:"webhook"`
		WebhookSecret string `json:"webhook_secret"`
		Email         string `json:"email"`
		Ntfy          string `json:"ntfy"`
		Phone         string `json:"phone"`
	}
	if err := site.Decode(r, &in); err != nil {
		site.WriteError(w, http.StatusBadRequest, err)
		return
	}
	c := dash.Channels{Webhook: in.Webhook, WebhookSecret: in.WebhookSecret, Email: in.Email, Ntfy: in.Ntfy, Phone: in.Phone}
	if c.WebhookSecret == "" {
		c.WebhookSecret = v.Channels.WebhookSecret // kept unless replaced
	}
	if errs := c.Check(); len(errs) > 0 {
		site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "some channels are not valid; nothing was changed", "fields": errs})
		return
	}
	c.Phone, _ = dash.CanonicalPhone(c.Phone) // checked above
	if err := s.dash.SaveChannels(r.Context(), v.ID, c); err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	site.WriteJSON(w, http.StatusOK, c)
}
