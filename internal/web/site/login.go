package site

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/dash"
)

const sessionLife = 12 * time.Hour

// Login checks the password and starts a session, setting its cookie.
func (s *Site) Login(ctx context.Context, w http.ResponseWriter, r *http.Request, email, password string) error {
	key := ClientIP(r) + "|" + strings.ToLower(strings.TrimSpace(email))
	if wait := s.logins.Blocked(key); wait > 0 {
		return &throttled{wait}
	}
	u, hash, err := s.Dash.UserByEmail(ctx, email)
	if err != nil || !dash.PasswordMatches(hash, password) {
		if err == nil || errors.Is(err, dash.ErrNotFound) {
			s.logins.Fail(key)
			return errBadLogin
		}
		return err
	}
	s.logins.Reset(key)
	tok, csrf := RandomToken(), RandomToken()
	if err := s.Dash.CreateSession(ctx, HashToken(tok), u.ID, csrf, time.Now().Add(sessionLife)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || s.SecureCookies, MaxAge: int(sessionLife.Seconds())})
	return nil
}

var errBadLogin = errors.New("that e-mail and password do not match")

type throttled struct{ wait time.Duration }

func (t *throttled) Error() string {
	return "too many wrong passwords: try again in " + t.wait.Round(time.Second).String()
}

// ClientIP is the address a request came from, without its port.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Site) postLogin(w http.ResponseWriter, r *http.Request) {
	email, pw := r.PostFormValue("email"), r.PostFormValue("password")
	err := s.Login(r.Context(), w, r, email, pw)
	var th *throttled
	switch {
	case err == nil:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	case errors.As(err, &th):
		s.Render(w, http.StatusTooManyRequests, pages, "login", Page{Title: "Log in", Errors: dash.FieldErrors{"password": err.Error()}, Data: loginData{Email: email}})
	case errors.Is(err, errBadLogin):
		s.Render(w, http.StatusUnauthorized, pages, "login", Page{Title: "Log in", Errors: dash.FieldErrors{"password": err.Error()}, Data: loginData{Email: email, Setup: s.setupOpen(r.Context())}})
	default:
		s.Log.Error("login", "err", err)
		http.Error(w, "The dashboard cannot reach its database just now.", http.StatusServiceUnavailable)
	}
}

// loginData is the login form's: the e-mail typed, and whether the first-run setup is open.
type loginData struct {
	Email string
	Setup bool
}

func (s *Site) postLogout(w http.ResponseWriter, r *http.Request, v Viewer) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		_ = s.Dash.DeleteSession(r.Context(), HashToken(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
