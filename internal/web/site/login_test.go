package site_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/web/webtest"
)

func TestLoginRefusesWrongPasswordsAndThrottles(t *testing.T) {
	r := webtest.NewRig(t)
	c := r.Client()
	for i := range 5 {
		code, page := c.Do("POST", "/login", url.Values{"email": {"son@example.org"}, "password": {"wrong password!"}}, nil, "")
		if code != http.StatusUnauthorized || !strings.Contains(page, "do not match") {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	code, page := c.Do("POST", "/login", url.Values{"email": {"son@example.org"}, "password": {"correct horse battery"}}, nil, "")
	if code != http.StatusTooManyRequests || !strings.Contains(page, "too many wrong passwords") {
		t.Errorf("sixth attempt, right password: %d", code)
	}
	if code, _ := c.Do("GET", "/", nil, nil, ""); code != http.StatusSeeOther {
		t.Errorf("overview without a session: %d, want a redirect to /login", code)
	}
}
