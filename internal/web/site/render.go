package site

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
)

//go:embed ui
var ui embed.FS

var static, _ = fs.Sub(ui, "ui/static")

// pages are the site's own: the login form.
var pages = Templates(ui, nil)

// London is the time zone the pages show times in.
var London = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return l
}()

// funcs are the template functions every page may use.
var funcs = template.FuncMap{
	"when":   func(t time.Time) string { return t.In(London).Format("Mon 2 Jan 15:04:05") },
	"clock":  func(t time.Time) string { return t.In(London).Format("15:04:05.000") },
	"party":  Party,
	"pct":    func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"words":  func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"pounds": func(p int64) string { return fmt.Sprintf("£%d.%02d", p/100, p%100) },
	"date":   func(t time.Time) string { return t.In(London).Format("Mon 2 Jan 2006") },
	"join":   strings.Join,
	"since":  Since,
	"checked": func(b bool) template.HTMLAttr {
		if b {
			return "checked"
		}
		return ""
	},
}

// Templates parses an audience's pages (ui/pages/*.html in fsys, with the partials in
// ui/partials/*.html they use) each into the site's layout, with more template functions;
// the map is keyed by the page's file name without .html. It panics on a bad template,
// as it runs when the program starts.
func Templates(fsys fs.FS, more template.FuncMap) Pages {
	layout := template.Must(template.New("layout.html").Funcs(funcs).Funcs(more).ParseFS(ui, "ui/layout.html"))
	if partials, _ := fs.Glob(fsys, "ui/partials/*.html"); len(partials) > 0 {
		layout = template.Must(layout.ParseFS(fsys, partials...))
	}
	out := Pages{}
	names, _ := fs.Glob(fsys, "ui/pages/*.html")
	for _, n := range names {
		t := template.Must(template.Must(layout.Clone()).ParseFS(fsys, n))
		out[strings.TrimSuffix(n[len("ui/pages/"):], ".html")] = t
	}
	return out
}

// Pages are an audience's templates by name.
type Pages map[string]*template.Template

// Page is what every template gets.
type Page struct {
	Title  string
	V      Viewer
	Nav    string
	Flash  string
	Errors dash.FieldErrors
	Data   any
	// Live pages keep themselves up to date: reloaded every few seconds without
	// JavaScript, told of changes by the live event stream with it (static/live.js).
	Live bool
	// Guard says a guard runs here, so there are calls in progress to show (Calls now).
	Guard bool
}

// Render answers with the page called name in the layout.
func (s *Site) Render(w http.ResponseWriter, code int, pages Pages, name string, p Page) {
	if p.Errors == nil {
		p.Errors = dash.FieldErrors{}
	}
	p.Guard = s.Guard
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if err := pages[name].ExecuteTemplate(w, "layout.html", p); err != nil {
		s.Log.Error("template", "page", name, "err", err)
	}
}

// Party shows a SIP address as the number or name in it.
func Party(uri string) string {
	if s := call.Party(uri); s != "" {
		return s
	}
	return "withheld"
}

// Since says how long ago t was, as a carer reads it: "45 s", "3 min 05 s", "1 h 02 min".
func Since(t time.Time) string {
	s := int(time.Since(t).Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", max(s, 0))
	case s < 3600:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	}
	return fmt.Sprintf("%d h %02d min", s/3600, s%3600/60)
}
