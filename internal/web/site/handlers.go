package site

import (
	"errors"
	"net/http"
)

// Handler serves a request for a known viewer.
type Handler func(http.ResponseWriter, *http.Request, Viewer)

// LoggedIn wraps a page that needs a logged-in viewer (the API token is not one); POSTs
// must carry the CSRF token. Nobody is sent to log in, or to the setup while it is open.
func (s *Site) LoggedIn(h Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.Who(r)
		if !ok || v.operator {
			to := "/login"
			if s.setupOpen(r.Context()) {
				to = "/setup" // nobody can log in yet
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !v.CSRFOK(r) {
			http.Error(w, "This form has expired. Go back, reload the page and try again.", http.StatusForbidden)
			return
		}
		h(w, r, v)
	}
}

// API wraps a JSON handler: a viewer is required, and changes need the CSRF header.
func (s *Site) API(h Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.Who(r)
		if !ok {
			WriteError(w, http.StatusUnauthorized, errors.New("log in first"))
			return
		}
		if r.Method != http.MethodGet && !v.CSRFOK(r) {
			WriteError(w, http.StatusForbidden, errors.New("changes need the X-CSRF-Token header from GET /api/v1/me"))
			return
		}
		h(w, r, v)
	}
}

// Fail answers a page whose data could not be read.
func (s *Site) Fail(w http.ResponseWriter, err error) {
	s.Log.Error("dashboard", "err", err)
	http.Error(w, "The dashboard cannot reach its database just now; calls are not affected.", http.StatusServiceUnavailable)
}
