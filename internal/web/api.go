package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/clearline/clearline/internal/dash"
)

// The JSON API shows what the pages show, to the same people. Changes need the session's
// CSRF token in the X-CSRF-Token header (GET /api/v1/me returns it).
func (s *Server) apiRoutes() {
	s.mux.HandleFunc("GET /api/v1/me", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		writeJSON(w, http.StatusOK, map[string]any{"user": v.User, "csrf_token": v.csrf})
	}))
	s.mux.HandleFunc("PUT /api/v1/me/channels", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		var in struct {
			Webhook       string `json:"webhook"`
			WebhookSecret string `json:"webhook_secret"`
			Email         string `json:"email"`
			Ntfy          string `json:"ntfy"`
			Phone         string `json:"phone"`
		}
		if err := decode(r, &in); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		c := dash.Channels{Webhook: in.Webhook, WebhookSecret: in.WebhookSecret, Email: in.Email, Ntfy: in.Ntfy, Phone: in.Phone}
		if c.WebhookSecret == "" {
			c.WebhookSecret = v.Channels.WebhookSecret // kept unless replaced
		}
		if errs := c.Check(); len(errs) > 0 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "some channels are not valid; nothing was changed", "fields": errs})
			return
		}
		c.Phone, _ = dash.CanonicalPhone(c.Phone) // checked above
		if err := s.o.Dash.SaveChannels(r.Context(), v.ID, c); err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	}))
	s.mux.HandleFunc("GET /api/v1/overview", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		gs, err := s.glances(r.Context(), v)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"households": gs})
	}))
	s.mux.HandleFunc("GET /api/v1/households", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		hs, err := s.visible(r.Context(), v)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		if hs == nil {
			hs = []dash.Household{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"households": hs})
	}))
	s.mux.HandleFunc("GET /api/v1/households/{id}", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		if h, ok := s.apiHousehold(w, r, v); ok {
			writeJSON(w, http.StatusOK, h)
		}
	}))
	s.mux.HandleFunc("PUT /api/v1/households/{id}/settings", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		h, ok := s.apiHousehold(w, r, v)
		if !ok {
			return
		}
		var set dash.Settings
		if err := decode(r, &set); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		if errs := set.Check(); len(errs) > 0 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "some settings are not valid; nothing was changed", "fields": errs})
			return
		}
		if set.Allow == nil {
			set.Allow = []dash.Contact{}
		}
		if set.Block == nil {
			set.Block = []dash.Contact{}
		}
		if err := s.saveSettings(r.Context(), h, set); err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		h.Settings = set
		writeJSON(w, http.StatusOK, h)
	}))
	s.mux.HandleFunc("POST /api/v1/households/{id}/block", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		h, ok := s.apiHousehold(w, r, v)
		if !ok {
			return
		}
		var c dash.Contact
		if err := decode(r, &c); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		if err := s.block(r.Context(), h, c.Number, c.Name); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "not blocked; nothing was changed", "fields": dash.FieldErrors{"number": err.Error()}})
			return
		}
		h, _ = s.o.Dash.Household(r.Context(), h.ID)
		writeJSON(w, http.StatusOK, h)
	}))
	s.mux.HandleFunc("GET /api/v1/alerts", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		as, err := s.o.Dash.Alerts(r.Context(), v.households(), v.households() == nil, 200)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		if as == nil {
			as = []dash.Alert{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"alerts": as})
	}))
	s.mux.HandleFunc("POST /api/v1/alerts/{id}/ack", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		if err := s.ack(r.Context(), v, r.PathValue("id")); err != nil {
			writeError(w, http.StatusNotFound, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// api wraps a JSON handler: a viewer is required, and changes need the CSRF header.
func (s *Server) api(h func(http.ResponseWriter, *http.Request, viewer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.who(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, errors.New("log in first"))
			return
		}
		if r.Method != http.MethodGet && !v.csrfOK(r) {
			writeError(w, http.StatusForbidden, errors.New("changes need the X-CSRF-Token header from GET /api/v1/me"))
			return
		}
		h(w, r, v)
	}
}

func (s *Server) apiHousehold(w http.ResponseWriter, r *http.Request, v viewer) (dash.Household, bool) {
	id := r.PathValue("id")
	h, err := s.o.Dash.Household(r.Context(), id)
	if err != nil || !v.can(id) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no household %q among yours", id))
		return h, false
	}
	return h, true
}

// decode reads one JSON object of at most 64 KiB, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the body is not the JSON expected: %v", err)
	}
	return nil
}
