package guardian_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/web/webtest"
)

// A guardian's phone for Carer Check is set on the account page or through the API: a
// short code or a non-number is refused next to its field and nothing is saved; a good
// number is kept in E.164, as the guard dials it.
func TestGuardianPhone(t *testing.T) {
	r := webtest.NewRig(t)
	son := r.Client()
	son.Login("son@example.org")
	for _, bad := range []string{"999", "grandson"} {
		code, page := son.Do("POST", "/account", url.Values{"csrf": {son.CSRF}, "phone": {bad}}, nil, "")
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="phone-error"`) {
			t.Errorf("phone %q: %d, error shown %v", bad, code, strings.Contains(page, `id="phone-error"`))
		}
	}
	if u, _, _ := r.DB.UserByEmail(context.Background(), "son@example.org"); u.Channels.Phone != "" {
		t.Errorf("a refused form saved phone %q", u.Channels.Phone)
	}
	if code, _ := son.Do("POST", "/account", url.Values{"csrf": {son.CSRF}, "phone": {"07700 900123"}}, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("good phone: %d", code)
	}
	if u, _, _ := r.DB.UserByEmail(context.Background(), "son@example.org"); u.Channels.Phone != "+447700900123" {
		t.Errorf("phone saved as %q; want +447700900123", u.Channels.Phone)
	}
	if _, page := son.Do("GET", "/account", nil, nil, ""); !strings.Contains(page, `value="&#43;447700900123"`) && !strings.Contains(page, `value="+447700900123"`) {
		t.Error("the account page does not show the saved phone")
	}

	var me struct {
		CSRF string `json:"csrf_token"`
	}
	_, body := son.Do("GET", "/api/v1/me", nil, nil, "")
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{"X-CSRF-Token": me.CSRF, "Content-Type": "application/json"}
	code, body := son.Do("PUT", "/api/v1/me/channels", nil, hdr, `{"phone": "101"}`)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `"phone"`) {
		t.Errorf("API short code: %d %s", code, body)
	}
	if code, body := son.Do("PUT", "/api/v1/me/channels", nil, hdr, `{"phone": "+44 7700 900456", "pager": "x"}`); code != http.StatusBadRequest {
		t.Errorf("API unknown field: %d %s", code, body)
	}
	if u, _, _ := r.DB.UserByEmail(context.Background(), "son@example.org"); u.Channels.Phone != "+447700900123" {
		t.Errorf("refused API calls changed the phone to %q", u.Channels.Phone)
	}
	code, body = son.Do("PUT", "/api/v1/me/channels", nil, hdr, `{"phone": "+44 7700 900456", "email": "son@example.org"}`)
	if code != http.StatusOK || !strings.Contains(body, `"phone": "+447700900456"`) {
		t.Errorf("API good phone: %d %s", code, body)
	}
	if u, _, _ := r.DB.UserByEmail(context.Background(), "son@example.org"); u.Channels.Phone != "+447700900456" || u.Channels.Email != "son@example.org" {
		t.Errorf("saved channels %+v", u.Channels)
	}
}

// A household chooses Carer Check for unknown callers and for warned ones on its page; a
// value that is not a choice is refused next to its field and nothing changes.
func TestCarerCheckChosenOnTheHouseholdPage(t *testing.T) {
	r := webtest.NewRig(t)
	son := r.Client()
	son.Login("son@example.org")
	form := func(unknown, warned string) url.Values {
		return url.Values{"csrf": {son.CSRF}, "allow": {""}, "block": {""}, "bank": {""}, "police": {"101"}, "quiet_hours": {""}, "ask": {""},
			"unknown": {unknown}, "warned": {warned}, "warn": {"on"}, "warn_at": {"0.7"}, "alert": {"on"}, "alert_at": {"0.8"}}
	}
	code, page := son.Do("POST", "/households/mum/settings", form("phone them", "carer"), nil, "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="unknown-error"`) || strings.Contains(page, `id="warned-error"`) {
		t.Errorf("bad choice: %d, unknown marked %v, warned marked %v", code, strings.Contains(page, `id="unknown-error"`), strings.Contains(page, `id="warned-error"`))
	}
	if h, _ := r.DB.Household(context.Background(), "mum"); h.Settings.Unknown != "" || h.Settings.Warned != "" || len(r.Applied) != 0 {
		t.Errorf("a refused form changed the settings: %+v", h.Settings)
	}
	if code, _ := son.Do("POST", "/households/mum/settings", form("carer", "carer"), nil, ""); code != http.StatusSeeOther {
		t.Fatalf("good form: %d", code)
	}
	h, _ := r.DB.Household(context.Background(), "mum")
	if h.Settings.Unknown != "carer" || h.Settings.Warned != "carer" {
		t.Errorf("saved %+v", h.Settings)
	}
	if _, page := son.Do("GET", "/households/mum", nil, nil, ""); !strings.Contains(page, `<option value="carer" selected>Carer Check`) {
		t.Error("the household page does not show Carer Check chosen")
	}
}
