// Package site is what every audience of the web interface shares: who is asking (sessions
// and login, the operator's API token, CSRF tokens, roles), the pages' layout, templates
// and static files, and the JSON and error answers. The audience packages (guardian, admin,
// analyst, api) wrap their handlers in LoggedIn or API, which find the viewer once and
// refuse whoever may not go on; internal/web mounts them all on one mux.
package site

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/clearline/clearline/internal/dash"
)

// Site is the shared state of the dashboard's handlers.
type Site struct {
	// Dash is the dashboard's store of people and sessions; without it only the API token
	// is recognised.
	Dash dash.Store
	Log  *slog.Logger
	// APIToken, when set, lets "Authorization: Bearer <token>" read every household.
	APIToken string
	// SecureCookies marks the session cookie Secure (behind an HTTPS proxy).
	SecureCookies bool
	// Guard says a guard runs here, so the pages offer its calls in progress.
	Guard bool
	// SetupOpen says whether the first-run setup is open (nobody can log in yet); nil
	// when there is no setup.
	SetupOpen func(context.Context) bool

	logins Limiter
}

// Mount serves the static files, the login form and logging out.
func (s *Site) Mount(mux *http.ServeMux) {
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s.Render(w, http.StatusOK, pages, "login", Page{Title: "Log in", Data: loginData{Setup: s.setupOpen(r.Context())}})
	})
	mux.HandleFunc("POST /login", s.postLogin)
	mux.HandleFunc("POST /logout", s.LoggedIn(s.postLogout))
}

func (s *Site) setupOpen(ctx context.Context) bool {
	return s.SetupOpen != nil && s.SetupOpen(ctx)
}
