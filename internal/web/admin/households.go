package admin

import (
	"net/http"
	"strings"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

func (s *Admin) postHousehold(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	id, name := strings.TrimSpace(r.PostFormValue("id")), strings.TrimSpace(r.PostFormValue("name"))
	errs := dash.FieldErrors{}
	if !dash.ValidID(id) {
		errs["id"] = "must be 1 to 40 lowercase letters, digits or dashes, like mum-house"
	}
	if name == "" || len(name) > 80 {
		errs["name"] = "give the household a name of up to 80 characters"
	}
	if v.Role != dash.Admin {
		http.Error(w, "Only an admin can add households.", http.StatusForbidden)
		return
	}
	if len(errs) == 0 {
		if _, err := s.site.Dash.Household(r.Context(), id); err == nil {
			errs["id"] = "a household with this ID exists already"
		}
	}
	if len(errs) > 0 {
		s.renderAdmin(w, r, v, http.StatusUnprocessableEntity, errs, map[string]string{"hh_id": id, "hh_name": name})
		return
	}
	if _, err := s.site.Dash.EnsureHousehold(r.Context(), dash.Household{ID: id, Name: name, Settings: dash.DefaultSettings()}); err != nil {
		s.site.Fail(w, err)
		return
	}
	http.Redirect(w, r, "/admin?flash=Household+added.", http.StatusSeeOther)
}
