package api

import (
	"net/http"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

// alerts lists the alerts of the viewer's households.
func (s *API) alerts(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	as, err := s.dash.Alerts(r.Context(), v.Households(), v.Households() == nil, 200)
	if err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	if as == nil {
		as = []dash.Alert{}
	}
	site.WriteJSON(w, http.StatusOK, map[string]any{"alerts": as})
}

// ack acknowledges an alert.
func (s *API) ack(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if err := s.g.Ack(r.Context(), v, r.PathValue("id")); err != nil {
		site.WriteError(w, http.StatusNotFound, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
