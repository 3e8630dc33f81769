package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/web/site"
)

// mountLines serves the admins' API for households and their phones; the guard serves
// what they add from its next call (linesChanged), without a restart.
func (s *Admin) mountLines(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/households", s.site.API(s.changer(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		var in struct {
			ID       string   `json:"id"`
			Name     string   `json:"name"`
			Numbers  []string `json:"numbers"`
			District string   `json:"district"`
		}
		if err := site.Decode(r, &in); err != nil {
			site.WriteError(w, http.StatusBadRequest, err)
			return
		}
		h, errs := s.checkHousehold(in.ID, in.Name, in.Numbers, in.District, true)
		if len(errs) > 0 {
			site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "the household is not valid; nothing was added", "fields": errs})
			return
		}
		h, err := s.site.Dash.CreateHousehold(r.Context(), h)
		if errors.Is(err, dash.ErrExists) {
			site.WriteError(w, http.StatusConflict, fmt.Errorf("nothing was added: %w", err))
			return
		}
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		s.told()
		site.WriteJSON(w, http.StatusCreated, h)
	})))
	mux.HandleFunc("POST /api/v1/households/{id}/phones", s.site.API(s.changer(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		var in struct {
			User     string `json:"user"`
			Password string `json:"password"`
			Contact  string `json:"contact"`
		}
		if err := site.Decode(r, &in); err != nil {
			site.WriteError(w, http.StatusBadRequest, err)
			return
		}
		p, err := s.addPhone(r.Context(), r.PathValue("id"), config.Phone{User: in.User, Password: in.Password, Contact: in.Contact})
		var fe dash.FieldErrors
		switch {
		case errors.As(err, &fe):
			site.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "the phone is not valid; nothing was added", "fields": fe})
		case errors.Is(err, dash.ErrNotFound):
			site.WriteError(w, http.StatusNotFound, err)
		case errors.Is(err, dash.ErrExists):
			site.WriteError(w, http.StatusConflict, fmt.Errorf("nothing was added: %w", err))
		case err != nil:
			site.WriteError(w, http.StatusServiceUnavailable, err)
		default:
			site.WriteJSON(w, http.StatusCreated, p)
		}
	})))
	mux.HandleFunc("GET /api/v1/households/{id}/phones", s.site.API(func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		h, ok := s.household(w, r, v)
		if !ok {
			return
		}
		ps, err := s.site.Dash.Phones(r.Context(), h.ID)
		if err != nil {
			site.WriteError(w, http.StatusServiceUnavailable, err)
			return
		}
		for i := range ps {
			ps[i].Password = ""
		}
		site.WriteJSON(w, http.StatusOK, map[string]any{"phones": ps})
	}))
}

// addPhone adds a phone to household, making up its password when none is given: the
// phone comes back with the password only then. Bad values are a dash.FieldErrors; a
// user name already a phone's wraps dash.ErrExists, a household that does not exist
// dash.ErrNotFound. The guard is told.
func (s *Admin) addPhone(ctx context.Context, household string, in config.Phone) (dash.Phone, error) {
	if _, err := s.site.Dash.Household(ctx, household); err != nil {
		return dash.Phone{}, fmt.Errorf("%w: no household %q", dash.ErrNotFound, household)
	}
	generated := in.Password == ""
	if generated {
		in.Password = newSIPPassword()
	}
	if errs := in.Check(); len(errs) > 0 {
		return dash.Phone{}, dash.FieldErrors(errs)
	}
	if s.fileHas(func(c *config.Config) bool {
		return slices.ContainsFunc(c.Phones, func(p config.Phone) bool { return p.User == in.User })
	}) {
		return dash.Phone{}, fmt.Errorf("%w: the configuration file has a phone %s", dash.ErrExists, in.User)
	}
	p, err := s.site.Dash.AddPhone(ctx, dash.Phone{User: in.User, Household: household, Password: in.Password, Contact: in.Contact})
	if err != nil {
		return p, err
	}
	s.told()
	if !generated {
		p.Password = "" // shown only when the guard made it up
	}
	return p, nil
}

// changer lets only admins through: the operator's token reads everything and changes
// nothing, and a guardian manages their households, not the guard's list of them.
func (s *Admin) changer(h site.Handler) site.Handler {
	return func(w http.ResponseWriter, r *http.Request, v site.Viewer) {
		if v.Role != dash.Admin || v.Operator() {
			site.WriteError(w, http.StatusForbidden, errors.New("only an admin can add households and phones"))
			return
		}
		h(w, r, v)
	}
}

// checkHousehold checks a new household and writes its numbers in E.164; needNumbers
// refuses one with none (through the API, where a household is added to be called).
func (s *Admin) checkHousehold(id, name string, numbers []string, district string, needNumbers bool) (dash.Household, dash.FieldErrors) {
	errs := dash.FieldErrors{}
	if !dash.ValidID(id) {
		errs["id"] = "must be 1 to 40 lowercase letters, digits or dashes, like mum-house"
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 80 {
		errs["name"] = "give the household a name of up to 80 characters"
	}
	if err := config.CheckDistrict(district); err != nil {
		errs["district"] = err.Error()
	}
	h := dash.Household{ID: id, Name: name, District: district, Settings: dash.DefaultSettings(), Numbers: []string{}}
	if len(numbers) == 0 && needNumbers {
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
func (s *Admin) fileHas(has func(*config.Config) bool) bool {
	return s.line != nil && has(s.line.Config())
}

// told tells the guard a household or a phone was added.
func (s *Admin) told() {
	if s.linesChanged != nil {
		s.linesChanged()
	}
}

// newSIPPassword is a phone's generated digest secret: 128 random bits, typed into a
// phone's settings once.
func newSIPPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// household is the household named in the path, if v may see it.
func (s *Admin) household(w http.ResponseWriter, r *http.Request, v site.Viewer) (dash.Household, bool) {
	id := r.PathValue("id")
	h, err := s.site.Dash.Household(r.Context(), id)
	if err != nil || !v.Sees(id) {
		site.WriteError(w, http.StatusNotFound, fmt.Errorf("no household %q among yours", id))
		return h, false
	}
	return h, true
}
