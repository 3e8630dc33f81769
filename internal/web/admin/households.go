package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/clearline/clearline/internal/config"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

// postHousehold adds a household from the admin page: its ID, name, and optionally its
// numbers (one per line, or separated by commas) and district, checked as the API checks
// them.
func (s *Admin) postHousehold(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if v.Role != dash.Admin {
		http.Error(w, "Only an admin can add households.", http.StatusForbidden)
		return
	}
	form := map[string]string{"hh_id": strings.TrimSpace(r.PostFormValue("id")), "hh_name": strings.TrimSpace(r.PostFormValue("name")),
		"hh_numbers": r.PostFormValue("numbers"), "hh_district": strings.TrimSpace(r.PostFormValue("district"))}
	numbers := strings.FieldsFunc(form["hh_numbers"], func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	for i := range numbers {
		numbers[i] = strings.TrimSpace(numbers[i])
	}
	numbers = slices.DeleteFunc(numbers, func(n string) bool { return n == "" })
	h, errs := s.checkHousehold(form["hh_id"], form["hh_name"], numbers, form["hh_district"], false)
	if len(errs) == 0 {
		_, err := s.site.Dash.CreateHousehold(r.Context(), h)
		switch {
		case errors.Is(err, dash.ErrExists) && strings.Contains(err.Error(), "household with id"):
			errs["id"] = "a household with this ID exists already"
		case errors.Is(err, dash.ErrExists):
			errs["numbers"] = err.Error()
		case err != nil:
			s.site.Fail(w, err)
			return
		}
	}
	if len(errs) > 0 {
		s.renderAdmin(w, r, v, http.StatusUnprocessableEntity, errs, form)
		return
	}
	s.told()
	http.Redirect(w, r, "/admin?flash=Household+added.", http.StatusSeeOther)
}

// postPhone adds a phone to a household from the admin page. A password made up by the
// guard is shown on the page that answers, once; it is never put in a link.
func (s *Admin) postPhone(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if v.Role != dash.Admin {
		http.Error(w, "Only an admin can add phones.", http.StatusForbidden)
		return
	}
	form := map[string]string{"ph_household": strings.TrimSpace(r.PostFormValue("household")), "ph_user": strings.TrimSpace(r.PostFormValue("user")),
		"ph_contact": strings.TrimSpace(r.PostFormValue("contact"))}
	p, err := s.addPhone(r.Context(), form["ph_household"], config.Phone{User: form["ph_user"], Password: r.PostFormValue("password"), Contact: form["ph_contact"]})
	var fe dash.FieldErrors
	switch {
	case errors.As(err, &fe):
	case errors.Is(err, dash.ErrNotFound):
		fe = dash.FieldErrors{"household": fmt.Sprintf("there is no household %q", form["ph_household"])}
	case errors.Is(err, dash.ErrExists):
		fe = dash.FieldErrors{"user": err.Error()}
	case err != nil:
		s.site.Fail(w, err)
		return
	}
	if fe != nil {
		s.renderAdmin(w, r, v, http.StatusUnprocessableEntity, fe, form)
		return
	}
	notice := fmt.Sprintf("Phone %s added to household %s.", p.User, p.Household)
	if p.Password != "" {
		notice += fmt.Sprintf(" Its password is %s — type it into the phone's SIP settings now, with the user name %s: it is not shown again.", p.Password, p.User)
	}
	s.renderAdminNotice(w, r, v, notice)
}
