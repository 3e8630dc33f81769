package site

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/clearline/clearline/internal/dash"
)

// Viewer is who is asking: a logged-in user, or the operator's API token.
type Viewer struct {
	dash.User
	csrf     string
	operator bool // the API token: sees every household, changes nothing
}

// Households limits a query to what v may see: nil for everything.
func (v Viewer) Households() []string {
	if v.Role == dash.Admin || v.operator {
		return nil
	}
	return append([]string{}, v.User.Households...)
}

// Sees says whether v may see the household: the operator's token sees every one.
func (v Viewer) Sees(household string) bool { return v.operator || v.Can(household) }

// Operator says whether v is the operator's API token.
func (v Viewer) Operator() bool { return v.operator }

// CSRFToken is the session's token, for forms.
func (v Viewer) CSRFToken() string { return v.csrf }

// CSRFOK checks a state-changing request's token: the form field or the X-CSRF-Token header.
func (v Viewer) CSRFOK(r *http.Request) bool {
	if v.operator {
		return false // the API token reads; it does not change anything
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(v.csrf)) == 1
}

// sessionCookie holds a random token; the store keeps only its SHA-256.
const sessionCookie = "clearline_session"

// Who finds the viewer of a request; ok is false for nobody.
func (s *Site) Who(r *http.Request) (Viewer, bool) {
	if s.APIToken != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(tok), []byte(s.APIToken)) == 1 {
			return Viewer{User: dash.User{Name: "operator"}, operator: true}, true
		}
	}
	if s.Dash == nil {
		return Viewer{}, false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return Viewer{}, false
	}
	id, csrf, err := s.Dash.Session(r.Context(), HashToken(c.Value))
	if err != nil {
		return Viewer{}, false
	}
	u, err := s.Dash.UserByID(r.Context(), id)
	if err != nil {
		return Viewer{}, false
	}
	return Viewer{User: u, csrf: csrf}, true
}

// RandomToken is 256 random bits, for a session's cookie or CSRF token.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what is kept of a token: its SHA-256, in hex.
func HashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}
