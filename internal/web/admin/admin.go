// Package admin serves the admins' pages under /admin: the households, the people who
// look after them (guardians, analysts and other admins) with their passwords, and the
// configuration in force as a file; and the admins' API for adding households and their
// phones (POST /api/v1/households, /api/v1/households/{id}/phones). Everyone logged in reaches them through
// site.LoggedIn; each handler refuses whoever is not an admin.
package admin

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

//go:embed ui
var ui embed.FS

var pages = site.Templates(ui, template.FuncMap{
	// dict makes a template's argument of key, value pairs.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
})

// Line is the running guard, whose configuration the admins may download.
type Line interface {
	Config() *config.Config
}

// Admin is the admins' pages.
type Admin struct {
	site *site.Site
	line Line
	// linesChanged is told when a household or a phone was added, so the guard serves it.
	linesChanged func()
}

// New makes the admins' pages; line is nil where no guard runs, linesChanged nil where no
// guard is told.
func New(s *site.Site, line Line, linesChanged func()) *Admin {
	return &Admin{site: s, line: line, linesChanged: linesChanged}
}

// Mount serves the admins' pages.
func (s *Admin) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin", s.site.LoggedIn(s.adminPage))
	mux.HandleFunc("POST /admin/households", s.site.LoggedIn(s.postHousehold))
	mux.HandleFunc("POST /admin/phones", s.site.LoggedIn(s.postPhone))
	mux.HandleFunc("POST /admin/users", s.site.LoggedIn(s.postUser))
	mux.HandleFunc("POST /admin/users/{id}/remove", s.site.LoggedIn(s.postRemoveUser))
	mux.HandleFunc("POST /admin/users/{id}/password", s.site.LoggedIn(s.postSetPassword))
	mux.HandleFunc("GET /admin/clearline.yaml", s.site.LoggedIn(s.adminExport))
	s.mountLines(mux)
}

// adminExport downloads the configuration in force (admins only: it holds passwords).
func (s *Admin) adminExport(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if s.line == nil || v.Role != dash.Admin {
		http.NotFound(w, r)
		return
	}
	s.site.ExportConfig(w, s.line.Config())
}
