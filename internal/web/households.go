package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/screen"
)

// Admins add households and their phones; the guard serves them from its next call
// (Options.LinesChanged), without a restart.
func (s *Server) householdRoutes() {
	s.mux.HandleFunc("POST /api/v1/households", s.api(s.changer(func(w http.ResponseWriter, r *http.Request, v viewer) {
		var in struct {
			ID       string   `json:"id"`
			Name     string   `json:"name"`
			Numbers  []string `json:"numbers"`
			District string   `json:"district"`
		}
		if err := decode(r, &in); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		h, errs := s.checkHousehold(in.ID, in.Name, in.Numbers, in.District)
		if len(errs) > 0 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "the household is not valid; nothing was added", "fields": errs})
			return
		}
		h, err := s.o.Dash.CreateHousehold(r.Context(), h)
		if errors.Is(err, dash.ErrExists) {
			writeError(w, http.StatusConflict, fmt.Errorf("nothing was added: %w", err))
			return
		}
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		s.linesChanged()
		writeJSON(w, http.StatusCreated, h)
	})))
	s.mux.HandleFunc("POST /api/v1/households/{id}/phones", s.api(s.changer(func(w http.ResponseWriter, r *http.Request, v viewer) {
		h, ok := s.apiHousehold(w, r, v)
		if !ok {
			return
		}
		var in struct {
			User     string `json:"user"`
			Password string `json:"password"`
			Contact  string `json:"contact"`
		}
		if err := decode(r, &in); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		generated := in.Password == ""
		if generated {
			in.Password = newSIPPassword()
		}
		if errs := (config.Phone{User: in.User, Password: in.Password, Contact: in.Contact}).Check(); len(errs) > 0 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "the phone is not valid; nothing was added", "fields": errs})
			return
		}
		if s.fileHas(func(c *config.Config) bool {
			for _, p := range c.Phones {
				if p.User == in.User {
					return true
				}
			}
			return false
		}) {
			writeError(w, http.StatusConflict, fmt.Errorf("nothing was added: %w: the configuration file has a phone %s", dash.ErrExists, in.User))
			return
		}
		p, err := s.o.Dash.AddPhone(r.Context(), dash.Phone{User: in.User, Household: h.ID, Password: in.Password, Contact: in.Contact})
		if errors.Is(err, dash.ErrExists) {
			writeError(w, http.StatusConflict, fmt.Errorf("nothing was added: %w", err))
			return
		}
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		s.linesChanged()
		if !generated {
			p.Password = "" // shown only when the guard made it up
		}
		writeJSON(w, http.StatusCreated, p)
	})))
	s.mux.HandleFunc("GET /api/v1/households/{id}/phones", s.api(func(w http.ResponseWriter, r *http.Request, v viewer) {
		h, ok := s.apiHousehold(w, r, v)
		if !ok {
			return
		}
		ps, err := s.o.Dash.Phones(r.Context(), h.ID)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		for i := range ps {
			ps[i].Password = ""
		}
		writeJSON(w, http.StatusOK, map[string]any{"phones": ps})
	}))
}

// changer lets only admins through: the operator's token reads everything and changes
// nothing, and a guardian manages their households, not the guard's list of them.
func (s *Server) changer(h func(http.ResponseWriter, *http.Request, viewer)) func(http.ResponseWriter, *http.Request, viewer) {
	return func(w http.ResponseWriter, r *http.Request, v viewer) {
		if v.Role != dash.Admin || v.operator {
			writeError(w, http.StatusForbidden, errors.New("only an admin can add households and phones"))
			return
		}
		h(w, r, v)
	}
}

// checkHousehold checks a new household and writes its numbers in E.164.
func (s *Server) checkHousehold(id, name string, numbers []string, district string) (dash.Household, dash.FieldErrors) {
	errs := dash.FieldErrors{}
	if !dash.ValidID(id) {
		errs["id"] = fmt.Sprintf("%q must be 1 to 40 lowercase letters, digits or dashes, like mum-house", id)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		errs["name"] = "give the name guardians see, up to 100 characters"
	}
	if err := config.CheckDistrict(district); err != nil {
		errs["district"] = err.Error()
	}
	h := dash.Household{ID: id, Name: name, District: district, Settings: dash.DefaultSettings(), Numbers: []string{}}
	if len(numbers) == 0 {
		errs["numbers"] = "give at least one number the household's calls come in on"
	}
	seen := map[string]bool{}
	for _, n := range numbers {
		c, err := dash.CanonicalPhone(n)
		switch {
		case err != nil:
			errs["numbers"] = err.Error()
		case c == "":
			errs["numbers"] = "an empty number"
		case seen[c]:
			errs["numbers"] = fmt.Sprintf("%s is given twice", n)
		case s.fileHas(func(cfg *config.Config) bool { return cfg.Trunk.DID != "" && screen.Same(cfg.Trunk.DID, c) }):
			errs["numbers"] = fmt.Sprintf("%s is the configuration file's household's number (trunk.did)", n)
		}
		seen[c] = true
		h.Numbers = append(h.Numbers, c)
	}
	return h, errs
}

// fileHas says whether the configuration in force has what has asks about.
func (s *Server) fileHas(has func(*config.Config) bool) bool {
	return s.o.Line != nil && has(s.o.Line.Config())
}

func (s *Server) linesChanged() {
	if s.o.LinesChanged != nil {
		s.o.LinesChanged()
	}
}

// newSIPPassword is a phone's generated digest secret: 128 random bits, typed into a
// phone's settings once.
func newSIPPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
