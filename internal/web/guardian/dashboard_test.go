package guardian_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/web/webtest"
)

// A guardian sees their household's calls and alerts, and nothing of another household,
// on the pages or through the API.
func TestGuardianSeesOnlyTheirHousehold(t *testing.T) {
	r := webtest.NewRig(t)
	son := r.Client()
	son.Login("son@example.org")
	if code, page := son.Do("GET", "/calls/call-mum", nil, nil, ""); code != 200 || !strings.Contains(page, "cash withdrawal") || !strings.Contains(page, "441632960555 — the household") || !strings.Contains(page, `the caller&#39;s name says &#34;Police&#34;`) ||
		!strings.Contains(page, "<strong>from Metropolitan Police</strong>, and gave the ID number <strong class=\"id-number\">4721</strong>") || !strings.Contains(page, "chose to talk to them") {
		t.Errorf("own call: %d\n%s", code, page)
	}
	if code, _ := son.Do("GET", "/calls/call-gran", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("another household's call page: %d", code)
	}
	if code, _ := son.Do("GET", "/api/v1/calls/call-gran", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("another household's call by API: %d", code)
	}
	_, body := son.Do("GET", "/api/v1/calls", nil, nil, "")
	var list struct{ Calls []call.Call }
	json.Unmarshal([]byte(body), &list)
	if len(list.Calls) != 1 || list.Calls[0].ID != "call-mum" {
		t.Errorf("API call list %+v", list.Calls)
	}
	if code, _ := son.Do("GET", "/api/v1/calls?household=gran", nil, nil, ""); code != http.StatusBadRequest {
		t.Errorf("asking for another household's calls: %d", code)
	}
	if code, _ := son.Do("GET", "/households/gran", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("another household's settings: %d", code)
	}
	if code, _ := son.Do("GET", "/api/v1/alerts", nil, nil, ""); code != 200 {
		t.Errorf("alerts: %d", code)
	}
	carer := r.Client()
	carer.Login("carer@example.org")
	_, body = carer.Do("GET", "/api/v1/alerts", nil, nil, "")
	if strings.Contains(body, "call-mum") {
		t.Errorf("the carer of another household sees mum's alert: %s", body)
	}
	// The admin sees both; the operator token reads both but cannot log in to pages.
	admin := r.Client()
	admin.Login("admin@example.org")
	if code, _ := admin.Do("GET", "/calls/call-gran", nil, nil, ""); code != 200 {
		t.Errorf("admin: %d", code)
	}
	op := r.Client()
	if code, _ := op.Do("GET", "/api/calls/call-gran", nil, map[string]string{"Authorization": "Bearer operator-token"}, ""); code != 200 {
		t.Errorf("operator token: %d", code)
	}
	if code, _ := op.Do("GET", "/api/calls", nil, nil, ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d", code)
	}
}

// Blocking the caller from the call's page puts the number on the household's block-list
// and tells the guard; the CSRF token is required.
func TestBlockNumberFromCallPage(t *testing.T) {
	r := webtest.NewRig(t)
	son := r.Client()
	son.Login("son@example.org")
	form := url.Values{"number": {"+442085550199"}, "back": {"/calls/call-mum"}}
	if code, _ := son.Do("POST", "/households/mum/block", form, nil, ""); code != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", code)
	}
	if h, _ := r.DB.Household(context.Background(), "mum"); len(h.Settings.Block) != 0 {
		t.Fatalf("a refused form changed the block-list: %+v", h.Settings.Block)
	}
	form.Set("csrf", son.CSRF)
	if code, _ := son.Do("POST", "/households/mum/block", form, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("block: %d", code)
	}
	h, _ := r.DB.Household(context.Background(), "mum")
	if len(h.Settings.Block) != 1 || h.Settings.Block[0].Number != "+442085550199" {
		t.Errorf("block-list %+v", h.Settings.Block)
	}
	if len(r.Applied) != 1 || r.Applied[0].ID != "mum" {
		t.Errorf("guard told %+v", r.Applied)
	}
	if _, page := son.Do("GET", "/calls/call-mum", nil, nil, ""); !strings.Contains(page, "on the block-list") {
		t.Error("call page does not say the number is blocked")
	}
	if code, _ := son.Do("POST", "/households/gran/block", url.Values{"number": {"+442085550199"}, "csrf": {son.CSRF}}, nil, ""); code != http.StatusNotFound {
		t.Errorf("blocking for another household: %d", code)
	}
}

// Every bad value in the settings form is named next to its field, and nothing is saved.
func TestSettingsFormRejectsBadValues(t *testing.T) {
	r := webtest.NewRig(t)
	son := r.Client()
	son.Login("son@example.org")
	before, _ := r.DB.Household(context.Background(), "mum")
	form := url.Values{"csrf": {son.CSRF}, "allow": {"01632 960 001, Daughter\ngrandson"}, "block": {""}, "bank": {"the bank"}, "police": {"101"},
		"quiet_hours": {"late"}, "ask": {"sometimes"}, "warn": {"on"}, "warn_at": {"7"}, "alert": {"on"}, "alert_at": {"lots"}}
	code, page := son.Do("POST", "/households/mum/settings", form, nil, "")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", code)
	}
	for _, id := range []string{"allow-error", "bank-error", "quiet_hours-error", "ask-error", "warn_at-error", "alert_at-error"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no message %s on the page", id)
		}
	}
	if strings.Contains(page, `id="police-error"`) {
		t.Error("a good field was marked as bad")
	}
	if !strings.Contains(page, "grandson") {
		t.Error("what was typed is not shown again")
	}
	after, _ := r.DB.Household(context.Background(), "mum")
	if b1, _ := json.Marshal(before.Settings); string(b1) != mustJSON(after.Settings) || len(r.Applied) != 0 {
		t.Errorf("a rejected form changed the settings: %s", mustJSON(after.Settings))
	}
	form = url.Values{"csrf": {son.CSRF}, "allow": {"01632 960 001, Daughter"}, "block": {""}, "bank": {"0345 300 0000"}, "police": {"101"},
		"quiet_hours": {"22:00-07:00"}, "ask": {"unknown"}, "warn": {"on"}, "warn_at": {"0.6"}, "alert_at": {"0.9"}}
	if code, _ := son.Do("POST", "/households/mum/settings", form, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("good form: %d", code)
	}
	h, _ := r.DB.Household(context.Background(), "mum")
	if s := h.Settings; len(s.Allow) != 1 || s.Allow[0].Name != "Daughter" || s.Bank != "0345 300 0000" || s.WarnAt != 0.6 || s.Alert || s.QuietHours != "22:00-07:00" || s.Ask != "unknown" {
		t.Errorf("saved %+v", s)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
