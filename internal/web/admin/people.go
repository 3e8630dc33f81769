package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

type adminData struct {
	// Households are listed by name, at most manyHouseholds of them; Of is how many there are.
	Households []dash.Household
	Of         int
	Users      []dash.User
	Form       map[string]string
}

// manyHouseholds is how many households the admin page lists and offers to choose from;
// beyond it, a household is typed by its ID and the list is /households.
const manyHouseholds = 50

func (s *Admin) adminPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	s.renderAdmin(w, r, v, http.StatusOK, nil, nil)
}

// adminUser finds the person in the path for an admin's change; it answers itself when
// that cannot be done.
func (s *Admin) adminUser(w http.ResponseWriter, r *http.Request, v site.Viewer) (dash.User, bool) {
	if v.Role != dash.Admin {
		http.Error(w, "Only an admin can manage people.", http.StatusForbidden)
		return dash.User{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return dash.User{}, false
	}
	u, err := s.site.Dash.UserByID(r.Context(), id)
	if err != nil {
		http.NotFound(w, r)
		return dash.User{}, false
	}
	return u, true
}

// postRemoveUser removes a person; an admin cannot remove themselves (someone must be
// left to manage the dashboard).
func (s *Admin) postRemoveUser(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	u, ok := s.adminUser(w, r, v)
	if !ok {
		return
	}
	msg := u.Name + " removed: they can no longer log in or get alerts."
	if u.ID == v.ID {
		msg = "You cannot remove yourself; ask another admin."
	} else if err := s.site.Dash.RemoveUser(r.Context(), u.ID); err != nil {
		s.site.Fail(w, err)
		return
	}
	http.Redirect(w, r, "/admin?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

// postSetPassword gives a person a new password (one they forgot); bad ones are refused.
func (s *Admin) postSetPassword(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	u, ok := s.adminUser(w, r, v)
	if !ok {
		return
	}
	hash, err := dash.HashPassword(r.PostFormValue("password"))
	if err != nil {
		s.renderAdmin(w, r, v, http.StatusUnprocessableEntity, dash.FieldErrors{fmt.Sprintf("password_%d", u.ID): err.Error()}, nil)
		return
	}
	if err := s.site.Dash.SetPassword(r.Context(), u.ID, hash); err != nil {
		s.site.Fail(w, err)
		return
	}
	http.Redirect(w, r, "/admin?flash="+url.QueryEscape("New password set for "+u.Name+"; their sessions have ended."), http.StatusSeeOther)
}

func (s *Admin) renderAdmin(w http.ResponseWriter, r *http.Request, v site.Viewer, code int, errs dash.FieldErrors, form map[string]string) {
	s.render(w, r, v, code, errs, form, r.URL.Query().Get("flash"))
}

// renderAdminNotice shows the admin page with notice, which must not go into a link (it
// may hold a password).
func (s *Admin) renderAdminNotice(w http.ResponseWriter, r *http.Request, v site.Viewer, notice string) {
	s.render(w, r, v, http.StatusOK, nil, nil, notice)
}

func (s *Admin) render(w http.ResponseWriter, r *http.Request, v site.Viewer, code int, errs dash.FieldErrors, form map[string]string, flash string) {
	if v.Role != dash.Admin {
		http.Error(w, "Only an admin can manage households and guardians.", http.StatusForbidden)
		return
	}
	hs, err := s.site.Dash.Directory(r.Context(), nil)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	us, err := s.site.Dash.Users(r.Context())
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	of := len(hs)
	if of > manyHouseholds {
		hs = hs[:manyHouseholds]
	}
	s.site.Render(w, code, pages, "admin", site.Page{Title: "Households and guardians", V: v, Nav: "admin", Errors: errs, Flash: flash,
		Data: adminData{Households: hs, Of: of, Users: us, Form: form}})
}

func (s *Admin) postUser(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if v.Role != dash.Admin {
		http.Error(w, "Only an admin can add guardians.", http.StatusForbidden)
		return
	}
	form := map[string]string{"email": strings.TrimSpace(r.PostFormValue("email")), "name": strings.TrimSpace(r.PostFormValue("name")),
		"role": r.PostFormValue("role"), "household": r.PostFormValue("household")}
	u, errs := s.addUser(r.Context(), form, r.PostFormValue("password"))
	if len(errs) > 0 {
		scoped := dash.FieldErrors{} // the page has two forms: these are the person form's
		for k, msg := range errs {
			scoped["user_"+k] = msg
		}
		s.renderAdmin(w, r, v, http.StatusUnprocessableEntity, scoped, form)
		return
	}
	http.Redirect(w, r, "/admin?flash="+url.QueryEscape(u.Name+" added."), http.StatusSeeOther)
}

func (s *Admin) addUser(ctx context.Context, form map[string]string, password string) (dash.User, dash.FieldErrors) {
	errs := dash.FieldErrors{}
	if _, err := mail.ParseAddress(form["email"]); err != nil {
		errs["email"] = "is not an e-mail address"
	} else if _, _, err := s.site.Dash.UserByEmail(ctx, form["email"]); err == nil {
		errs["email"] = "someone with this e-mail exists already"
	}
	if form["name"] == "" {
		errs["name"] = "give their name, as the household knows them"
	}
	role := dash.Role(form["role"])
	if role != dash.Admin && role != dash.Guardian && role != dash.Analyst {
		errs["role"] = "must be guardian, analyst or admin"
	}
	if err := dash.CheckPassword(password); err != nil {
		errs["password"] = err.Error()
	}
	if h := form["household"]; h != "" {
		if _, err := s.site.Dash.Household(ctx, h); err != nil {
			errs["household"] = "no such household"
		}
	} else if role == dash.Guardian {
		errs["household"] = "choose the household they look after"
	}
	if len(errs) > 0 {
		return dash.User{}, errs
	}
	hash, err := dash.HashPassword(password)
	if err != nil {
		return dash.User{}, dash.FieldErrors{"password": err.Error()}
	}
	u, err := s.site.Dash.CreateUser(ctx, dash.User{Email: form["email"], Name: form["name"], Role: role}, hash)
	if errors.Is(err, dash.ErrExists) {
		return u, dash.FieldErrors{"email": "someone with this e-mail exists already"}
	}
	if err != nil {
		return u, dash.FieldErrors{"email": err.Error()}
	}
	if h := form["household"]; h != "" {
		if err := s.site.Dash.SetGuardian(ctx, u.ID, h, true); err != nil {
			return u, dash.FieldErrors{"household": err.Error()}
		}
	}
	return u, nil
}
