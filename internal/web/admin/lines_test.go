package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/webtest"
)

// apiHeaders logs c in and returns the headers a change through the API needs.
func apiHeaders(c *webtest.Client, email string) map[string]string {
	c.Login(email)
	return map[string]string{"X-CSRF-Token": c.CSRF, "Content-Type": "application/json"}
}

// An admin adds a household with its numbers and a phone with a generated password; the
// guard is told each time; bad or clashing input is refused, names what is wrong, and
// stores nothing.
func TestAdminAddsHouseholdsAndPhones(t *testing.T) {
	r := webtest.NewRig(t)
	ctx := context.Background()
	admin := r.Client()
	hdr := apiHeaders(admin, "admin@example.org")

	code, body := admin.Do("POST", "/api/v1/households", nil, hdr, `{"id":"dad","name":"Dad's flat","numbers":["020 7946 0300"],"district":"Test Valley"}`)
	if code != http.StatusCreated {
		t.Fatalf("add: %d %s", code, body)
	}
	var h dash.Household
	json.Unmarshal([]byte(body), &h)
	if h.ID != "dad" || len(h.Numbers) != 1 || h.Numbers[0] != "+442079460300" || h.District != "Test Valley" || r.Lines != 1 {
		t.Errorf("added %+v (guard told %d times)", h, r.Lines)
	}
	for _, tt := range []struct{ body, field string }{
		{`{"id":"Bad Id","name":"x","numbers":["02079460301"]}`, `"id"`},
		{`{"id":"aunt","name":"","numbers":["02079460301"]}`, `"name"`},
		{`{"id":"aunt","name":"Aunt","numbers":[]}`, `"numbers"`},
		{`{"id":"aunt","name":"Aunt","numbers":["101"]}`, `short code`},
		{`{"id":"aunt","name":"Aunt","numbers":["not a number"]}`, `"numbers"`},
		{`{"id":"aunt","name":"Aunt","numbers":["02079460301","+442079460301"]}`, `given twice`},
		{`{"id":"aunt","name":"Aunt","numbers":["02079460301"],"district":"\n"}`, `"district"`},
	} {
		if code, body := admin.Do("POST", "/api/v1/households", nil, hdr, tt.body); code != http.StatusUnprocessableEntity || !strings.Contains(body, tt.field) {
			t.Errorf("%s: %d %s; want 422 naming %s", tt.body, code, body, tt.field)
		}
	}
	if code, body := admin.Do("POST", "/api/v1/households", nil, hdr, `{"id":"aunt","name":"Aunt","numbers":["02079460301"],"colour":"red"}`); code != http.StatusBadRequest || !strings.Contains(body, "colour") {
		t.Errorf("an unknown field: %d %s", code, body)
	}
	if code, body := admin.Do("POST", "/api/v1/households", nil, hdr, `{"id":"aunt","name":"Aunt","numbers":["+442079460300"]}`); code != http.StatusConflict || !strings.Contains(body, "dad") {
		t.Errorf("dad's number again: %d %s", code, body)
	}
	if code, _ := admin.Do("POST", "/api/v1/households", nil, hdr, `{"id":"dad","name":"Again","numbers":["02079460399"]}`); code != http.StatusConflict {
		t.Errorf("dad's id again: %d", code)
	}
	if _, err := r.DB.Household(ctx, "aunt"); err == nil || r.Lines != 1 {
		t.Errorf("a refused household was stored (%v) or the guard told (%d)", err, r.Lines)
	}

	code, body = admin.Do("POST", "/api/v1/households/dad/phones", nil, hdr, `{"user":"dad-den"}`)
	var p dash.Phone
	json.Unmarshal([]byte(body), &p)
	if code != http.StatusCreated || p.User != "dad-den" || p.Household != "dad" || len(p.Password) < 20 || r.Lines != 2 {
		t.Fatalf("add phone: %d %s", code, body)
	}
	stored, _ := r.DB.Phones(ctx, "dad")
	if len(stored) != 1 || stored[0].Password != p.Password {
		t.Errorf("stored %+v; want the password shown once", stored)
	}
	code, body = admin.Do("POST", "/api/v1/households/dad/phones", nil, hdr, `{"user":"dad-hall","password":"hall-secret","contact":"sip:hall@192.0.2.9:5062"}`)
	if code != http.StatusCreated || strings.Contains(body, "hall-secret") {
		t.Errorf("a phone with its own password: %d %s (the password is not echoed)", code, body)
	}
	for _, tt := range []struct {
		path, body string
		code       int
		want       string
	}{
		{"/api/v1/households/dad/phones", `{"user":"dad-den"}`, http.StatusConflict, "dad-den"},
		{"/api/v1/households/dad/phones", `{"user":"a b"}`, http.StatusUnprocessableEntity, `"user"`},
		{"/api/v1/households/dad/phones", `{"user":"x","contact":"http://x"}`, http.StatusUnprocessableEntity, `"contact"`},
		{"/api/v1/households/nobody/phones", `{"user":"y"}`, http.StatusNotFound, "nobody"},
	} {
		if code, body := admin.Do("POST", tt.path, nil, hdr, tt.body); code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("%s %s: %d %s; want %d naming %s", tt.path, tt.body, code, body, tt.code, tt.want)
		}
	}
	code, body = admin.Do("GET", "/api/v1/households/dad/phones", nil, nil, "")
	if code != http.StatusOK || !strings.Contains(body, "dad-hall") || strings.Contains(body, "hall-secret") || strings.Contains(body, p.Password) {
		t.Errorf("listed phones: %d %s", code, body)
	}
	if n := r.Lines; n != 3 {
		t.Errorf("the guard was told %d times; want once per household or phone added", n)
	}

	son := r.Client()
	sonHdr := apiHeaders(son, "son@example.org")
	if code, _ := son.Do("POST", "/api/v1/households", nil, sonHdr, `{"id":"aunt","name":"Aunt","numbers":["02079460301"]}`); code != http.StatusForbidden {
		t.Errorf("a guardian adding a household: %d", code)
	}
	if code, _ := son.Do("POST", "/api/v1/households/mum/phones", nil, sonHdr, `{"user":"mum-extra"}`); code != http.StatusForbidden {
		t.Errorf("a guardian adding a phone: %d", code)
	}
	if code, _ := son.Do("GET", "/api/v1/households/dad/phones", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("a guardian of mum reading dad's phones: %d", code)
	}
	if code, _ := admin.Do("POST", "/api/v1/households", nil, map[string]string{"Content-Type": "application/json"}, `{"id":"aunt","name":"Aunt","numbers":["02079460301"]}`); code != http.StatusForbidden {
		t.Errorf("without CSRF: %d", code)
	}
}

// The admin page adds a household with its numbers and district, and a phone whose made-up
// password it shows once; bad values are named beside their fields and nothing is stored.
func TestAdminPageAddsHouseholdsAndPhones(t *testing.T) {
	r := webtest.NewRig(t)
	ctx := context.Background()
	admin := r.Client()
	admin.Login("admin@example.org")
	code, page := admin.Do("POST", "/admin/households", url.Values{"csrf": {admin.CSRF}, "id": {"dad"}, "name": {"Dad's flat"}, "numbers": {"020 7946 0300\n020 7946 0301"}, "district": {"Test Valley"}}, nil, "")
	if code != http.StatusSeeOther || r.Lines != 1 {
		t.Fatalf("add a household: %d (guard told %d times)\n%s", code, r.Lines, page)
	}
	if h, err := r.DB.Household(ctx, "dad"); err != nil || len(h.Numbers) != 2 || h.Numbers[0] != "+442079460300" || h.District != "Test Valley" {
		t.Errorf("stored %+v, %v", h, err)
	}
	code, page = admin.Do("POST", "/admin/households", url.Values{"csrf": {admin.CSRF}, "id": {"aunt"}, "name": {"Aunt"}, "numbers": {"02079460300"}}, nil, "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="numbers-error"`) || !strings.Contains(page, "dad") {
		t.Errorf("a number dad has: %d", code)
	}
	code, page = admin.Do("POST", "/admin/phones", url.Values{"csrf": {admin.CSRF}, "household": {"dad"}, "user": {"dad-den"}}, nil, "")
	if code != http.StatusOK || !strings.Contains(page, "Phone dad-den added to household dad. Its password is ") || r.Lines != 2 {
		t.Fatalf("add a phone: %d\n%s", code, page)
	}
	stored, _ := r.DB.Phones(ctx, "dad")
	if len(stored) != 1 || !strings.Contains(page, stored[0].Password) {
		t.Errorf("the page does not show the stored password once: %+v", stored)
	}
	for _, tt := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"household": {"dad"}, "user": {"dad-den"}}, "ph-user-error"},
		{url.Values{"household": {"nobody"}, "user": {"x"}}, "ph-household-error"},
		{url.Values{"household": {"dad"}, "user": {"a b"}}, "ph-user-error"},
		{url.Values{"household": {"dad"}, "user": {"x"}, "contact": {"mailto:x"}}, "ph-contact-error"},
	} {
		tt.form.Set("csrf", admin.CSRF)
		if code, page := admin.Do("POST", "/admin/phones", tt.form, nil, ""); code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="`+tt.field+`"`) {
			t.Errorf("%v: %d, no %s", tt.form, code, tt.field)
		}
	}
	if all, _ := r.DB.Phones(ctx, ""); len(all) != 1 || r.Lines != 2 {
		t.Errorf("refused phones were stored (%d) or told (%d)", len(all), r.Lines)
	}
}
