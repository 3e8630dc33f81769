package web

import (
	"fmt"
	"net/http"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

// The JSON API shows what the pages show, to the same people. Changes need the session's
// CSRF token in the X-CSRF-Token header (GET /api/v1/me returns it).
func (s *Server) apiRoutes() {
	s.mux.HandleFunc("GET /api/v1/me", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		site.WriteJSON(w, http.StatusOK, map[string]any{"user": v.User, "csrf_token": v.CSRFToken()})
	}))
	s.mux.HandleFunc("PUT /api/v1/me/channels", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
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
		if err := s.o.Dash.SaveChannels(r.Context(), v.ID, c); err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		site.WriteJSON(w, http.StatusOK, c)
	}))
	s.mux.HandleFunc("GET /api/v1/overview", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		gs, err := s.glances(r.Context(), v)
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		site.WriteJSON(w, http.StatusOK, map[string]any{"households": gs})
	}))
	s.mux.HandleFunc("GET /api/v1/households", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		hs, err := s.visible(r.Context(), v)
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		if hs == nil {
			hs = []dash.Household{}
		}
		site.WriteJSON(w, http.StatusOK, map[string]any{"households": hs})
	}))
	s.mux.HandleFunc("GET /api/v1/households/{id}", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		if h, ok := s.apiHousehold(w, r, v); ok {
			site.WriteJSON(w, http.StatusOK, h)
		}
	}))
	s.mux.HandleFunc("PUT /api/v1/households/{id}/settings", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		h, ok := s.apiHousehold(w, r, v)
		if !ok {
			return
		}
		var set dash.Settings
		if err := site.Decode(r, &set); err != nil {
			site.WriteError(w, http.StatusBadRequest, err)
			return
		}
		if errs := set.Check(); len(errs) > 0 {
			site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "some settings are not valid; nothing was changed", "fields": errs})
			return
		}
		if set.Allow == nil {
			set.Allow = []dash.Contact{}
		}
		if set.Block == nil {
			set.Block = []dash.Contact{}
		}
		if err := s.saveSettings(r.Context(), h, set); err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		h.Settings = set
		site.WriteJSON(w, http.StatusOK, h)
	}))
	s.mux.HandleFunc("POST /api/v1/households/{id}/block", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		h, ok := s.apiHousehold(w, r, v)
		if !ok {
			return
		}
		var c dash.Contact
		if err := site.Decode(r, &c); err != nil {
			site.WriteError(w, http.StatusBadRequest, err)
			return
		}
		if err := s.block(r.Context(), h, c.Number, c.Name); err != nil {
			site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "not blocked; nothing was changed", "fields": dash.FieldErrors{"number": err.Error()}})
			return
		}
		h, _ = s.o.Dash.Household(r.Context(), h.ID)
		site.WriteJSON(w, http.StatusOK, h)
	}))
	s.mux.HandleFunc("GET /api/v1/alerts", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		as, err := s.o.Dash.Alerts(r.Context(), v.Households(), v.Households() == nil, 200)
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		if as == nil {
			as = []dash.Alert{}
		}
		site.WriteJSON(w, http.StatusOK, map[string]any{"alerts": as})
	}))
	s.mux.HandleFunc("POST /api/v1/alerts/{id}/ack", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		if err := s.ack(r.Context(), v, r.PathValue("id")); err != nil {
			site.WriteError(w, http.StatusNotFound, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

func (s *Server) apiHousehold(w http.ResponseWriter, r *http.Request, v site.Viewer) (dash.Household, bool) {
	id := r.PathValue("id")
	h, err := s.o.Dash.Household(r.Context(), id)
	if err != nil || !v.Sees(id) {
		site.WriteError(w, http.StatusNotFound, fmt.Errorf("no household %q among yours", id))
		return h, false
	}
	return h, true
}
