package api

import (
	"fmt"
	"net/http"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

// overview is each household's day, as the Today page shows it (the ones at most risk,
// when there are many), and how many households the viewer looks after.
func (s *API) overview(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	gs, of, err := s.g.Glances(r.Context(), v)
	if err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	site.WriteJSON(w, http.StatusOK, map[string]any{"households": gs, "of": of})
}

// households lists the households the viewer may see; with ?sort=risk, the one at most
// risk today first, each with its day so far ("today").
func (s *API) households(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	switch sort := r.URL.Query().Get("sort"); sort {
	case "":
	case "risk":
		st, err := s.g.Standings(r.Context(), v)
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		site.WriteJSON(w, http.StatusOK, map[string]any{"households": st})
		return
	default:
		site.WriteError(w, http.StatusBadRequest, fmt.Errorf("sort %q: the households sort only by risk (sort=risk)", sort))
		return
	}
	all, err := s.dash.Households(r.Context()) // with their settings
	if err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	hs := []dash.Household{}
	for _, h := range all {
		if v.Sees(h.ID) {
			hs = append(hs, h)
		}
	}
	site.WriteJSON(w, http.StatusOK, map[string]any{"households": hs})
}

// household is one of the viewer's households.
func (s *API) household(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if h, ok := s.apiHousehold(w, r, v); ok {
		site.WriteJSON(w, http.StatusOK, h)
	}
}

// putSettings replaces a household's settings; bad ones are refused, naming each field.
func (s *API) putSettings(w http.ResponseWriter, r *http.Request, v site.Viewer) {
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
	if err := s.g.SaveSettings(r.Context(), h, set); err != nil {
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	h.Settings = set
	site.WriteJSON(w, http.StatusOK, h)
}

// block puts a number on a household's block-list.
func (s *API) block(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	h, ok := s.apiHousehold(w, r, v)
	if !ok {
		return
	}
	var c dash.Contact
	if err := site.Decode(r, &c); err != nil {
		site.WriteError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.g.Block(r.Context(), h, c.Number, c.Name); err != nil {
		site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "not blocked; nothing was changed", "fields": dash.FieldErrors{"number": err.Error()}})
		return
	}
	h, _ = s.dash.Household(r.Context(), h.ID)
	site.WriteJSON(w, http.StatusOK, h)
}

func (s *API) apiHousehold(w http.ResponseWriter, r *http.Request, v site.Viewer) (dash.Household, bool) {
	id := r.PathValue("id")
	h, err := s.dash.Household(r.Context(), id)
	if err != nil || !v.Sees(id) {
		site.WriteError(w, http.StatusNotFound, fmt.Errorf("no household %q among yours", id))
		return h, false
	}
	return h, true
}
