package analyst

import (
	"errors"
	"net/http"

	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/web/site"
)

// The analysts' API under /api/v1/hub: what their pages show, as JSON. The operator's
// token reads it; changes need an analyst's (or admin's) session.

// apiUnblock takes a number off the shared block-list.
func (s *Analyst) apiUnblock(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if v.Operator() {
		site.WriteError(w, http.StatusForbidden, errors.New("the API token reads; unblocking needs an analyst's session"))
		return
	}
	if err := s.unblock(r, r.PathValue("number"), v); err != nil {
		site.WriteError(w, http.StatusNotFound, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiCampaigns lists the campaigns, with the hub's figures.
func (s *Analyst) apiCampaigns(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	site.WriteJSON(w, http.StatusOK, map[string]any{"campaigns": s.hub.Campaigns(), "stats": s.hub.Stats()})
}

// apiCampaign is one campaign, with its reports.
func (s *Analyst) apiCampaign(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c, reports, ok := s.campaign(w, r)
	if ok {
		site.WriteJSON(w, http.StatusOK, map[string]any{"campaign": c, "reports": reports})
	}
}

// apiConfirm adds a campaign's numbers to the shared block-list.
func (s *Analyst) apiConfirm(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if v.Operator() {
		site.WriteError(w, http.StatusForbidden, errors.New("the API token reads; confirming needs an analyst's session"))
		return
	}
	blocks, err := s.hub.Confirm(r.Context(), r.PathValue("id"), v.Name)
	if errors.Is(err, hub.ErrNoCampaign) {
		site.WriteError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	site.WriteJSON(w, http.StatusOK, map[string]any{"blocked": blocks})
}

// apiAlerts lists the community alerts sent.
func (s *Analyst) apiAlerts(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	as, err := s.hub.Store().Alerts(r.Context(), 200)
	if err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	site.WriteJSON(w, http.StatusOK, map[string]any{"alerts": as})
}

// apiSendAlert sends a community alert.
func (s *Analyst) apiSendAlert(w http.ResponseWriter, r *http.Request, v site.Viewer) {
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
	sent, err := s.hub.SendAlert(r.Context(), a)
	if fe := fieldErrors(err); fe != nil {
		site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "not sent; nothing was changed", "fields": fe})
		return
	}
	if err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	site.WriteJSON(w, http.StatusCreated, sent)
}

// apiBlocklist lists the shared block-list.
func (s *Analyst) apiBlocklist(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	bs, err := s.hub.Store().Blocks(r.Context())
	if err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	site.WriteJSON(w, http.StatusOK, map[string]any{"blocklist": bs})
}
