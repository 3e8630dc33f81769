// Package admin serves the admins' pages under /admin: the households, the people who
// look after them (guardians, analysts and other admins) with their passwords, and the
// configuration in force as a file. Everyone logged in reaches them through
// site.LoggedIn; each handler refuses whoever is not an admin.
package admin

import (
	"embed"
	"net/http"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

//go:embed ui
var ui embed.FS

var pages = site.Templates(ui, nil)

// Line is the running guard, whose configuration the admins may download.
type Line interface {
	Config() *config.Config
}

// Admin is the admins' pages.
type Admin struct {
	site *site.Site
	line Line
}

// New makes the admins' pages; line is nil where no guard runs.
func New(s *site.Site, line Line) *Admin { return &Admin{site: s, line: line} }

// Mount serves the admins' pages.
func (s *Admin) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin", s.site.LoggedIn(s.adminPage))
	mux.HandleFunc("POST /admin/households", s.site.LoggedIn(s.postHousehold))
	mux.HandleFunc("POST /admin/users", s.site.LoggedIn(s.postUser))
	mux.HandleFunc("POST /admin/users/{id}/remove", s.site.LoggedIn(s.postRemoveUser))
	mux.HandleFunc("POST /admin/users/{id}/password", s.site.LoggedIn(s.postSetPassword))
	mux.HandleFunc("GET /admin/clearline.yaml", s.site.LoggedIn(s.adminExport))
}

// adminExport downloads the configuration in force (admins only: it holds passwords).
func (s *Admin) adminExport(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if s.line == nil || v.Role != dash.Admin {
		http.NotFound(w, r)
		return
	}
	s.site.ExportConfig(w, s.line.Config())
}
