package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clearline/clearline/internal/dash"
)

// sessionCookie holds a random token; the store keeps only its SHA-256.
const (
	sessionCookie = "clearline_session"
	sessionLife   = 12 * time.Hour
)

// viewer is who is asking: a logged-in user, or the operator's API token.
type viewer struct {
	dash.User
	csrf     string
	operator bool // the API token: sees every household, changes nothing
}

// households limits a query to what v may see: nil for everything.
func (v viewer) households() []string {
	if v.Role == dash.Admin || v.operator {
		return nil
	}
	return append([]string{}, v.Households...)
}

func (v viewer) can(household string) bool { return v.operator || v.Can(household) }

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// who finds the viewer of a request; ok is false for nobody.
func (s *Server) who(r *http.Request) (viewer, bool) {
	if s.o.APIToken != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(tok), []byte(s.o.APIToken)) == 1 {
			return viewer{User: dash.User{Name: "operator"}, operator: true}, true
		}
	}
	if s.o.Dash == nil {
		return viewer{}, false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return viewer{}, false
	}
	id, csrf, err := s.o.Dash.Session(r.Context(), hashToken(c.Value))
	if err != nil {
		return viewer{}, false
	}
	u, err := s.o.Dash.UserByID(r.Context(), id)
	if err != nil {
		return viewer{}, false
	}
	return viewer{User: u, csrf: csrf}, true
}

// csrfOK checks a state-changing request's token: the form field or the X-CSRF-Token header.
func (v viewer) csrfOK(r *http.Request) bool {
	if v.operator {
		return false // the API token reads; it does not change anything
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(v.csrf)) == 1
}

// login checks the password and starts a session, setting its cookie.
func (s *Server) login(ctx context.Context, w http.ResponseWriter, r *http.Request, email, password string) error {
	key := clientIP(r) + "|" + strings.ToLower(strings.TrimSpace(email))
	if wait := s.limiter.blocked(key); wait > 0 {
		return &throttled{wait}
	}
	u, hash, err := s.o.Dash.UserByEmail(ctx, email)
	if err != nil || !dash.PasswordMatches(hash, password) {
		if err == nil || errors.Is(err, dash.ErrNotFound) {
			s.limiter.fail(key)
			return errBadLogin
		}
		return err
	}
	s.limiter.reset(key)
	tok, csrf := randomToken(), randomToken()
	if err := s.o.Dash.CreateSession(ctx, hashToken(tok), u.ID, csrf, time.Now().Add(sessionLife)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || s.o.SecureCookies, MaxAge: int(sessionLife.Seconds())})
	return nil
}

var errBadLogin = errors.New("that e-mail and password do not match")

type throttled struct{ wait time.Duration }

func (t *throttled) Error() string {
	return "too many wrong passwords: try again in " + t.wait.Round(time.Second).String()
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter refuses a key (address and e-mail) after five wrong passwords (or max, when set)
// within 15 minutes, for the rest of those 15 minutes.
type limiter struct {
	mu    sync.Mutex
	fails map[string][]time.Time
	max   int
}

const (
	loginFails  = 5
	loginWindow = 15 * time.Minute
)

func (l *limiter) recent(key string, now time.Time) []time.Time {
	var keep []time.Time
	for _, t := range l.fails[key] {
		if now.Sub(t) < loginWindow {
			keep = append(keep, t)
		}
	}
	l.fails[key] = keep
	return keep
}

func (l *limiter) blocked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	limit := loginFails
	if l.max > 0 {
		limit = l.max
	}
	if f := l.recent(key, now); len(f) >= limit {
		return loginWindow - now.Sub(f[0])
	}
	return 0
}

func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[key] = append(l.recent(key, time.Now()), time.Now())
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// CSRFToken is the session's token, for forms.
func (v viewer) CSRFToken() string { return v.csrf }
