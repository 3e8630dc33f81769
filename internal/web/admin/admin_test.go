package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/webtest"
)

// The alert-channel and admin forms name each bad value next to its field and save nothing.
func TestAccountAndAdminFormsRejectBadValues(t *testing.T) {
	r := webtest.NewRig(t)
	son := r.Client()
	son.Login("son@example.org")
	code, page := son.Do("POST", "/account", url.Values{"csrf": {son.CSRF}, "email": {"not an address"}, "ntfy": {"ftp://x"},
		"webhook": {"http://hooks.example.org/x"}, "webhook_secret": {"short"}}, nil, "")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad channels: %d", code)
	}
	for _, id := range []string{"email-error", "ntfy-error", "webhook_secret-error"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no message %s", id)
		}
	}
	if u, _, _ := r.DB.UserByEmail(context.Background(), "son@example.org"); u.Channels != (dash.Channels{}) {
		t.Errorf("a refused form saved channels %+v", u.Channels)
	}
	if code, _ := son.Do("POST", "/admin/users", url.Values{"csrf": {son.CSRF}, "email": {"x@example.org"}}, nil, ""); code != http.StatusForbidden {
		t.Errorf("a guardian adding people: %d", code)
	}
	admin := r.Client()
	admin.Login("admin@example.org")
	code, page = admin.Do("POST", "/admin/users", url.Values{"csrf": {admin.CSRF}, "email": {"son@example.org"}, "name": {""},
		"password": {"short"}, "role": {"guardian"}, "household": {"nowhere"}}, nil, "")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad person: %d", code)
	}
	for _, id := range []string{"email-error", "password-error", "household-error"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no message %s", id)
		}
	}
	code, page = admin.Do("POST", "/admin/households", url.Values{"csrf": {admin.CSRF}, "id": {"Mum's House"}, "name": {""}}, nil, "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="id-error"`) || !strings.Contains(page, `id="name-error"`) {
		t.Errorf("bad household: %d", code)
	}
	if code, _ = admin.Do("POST", "/admin/households", url.Values{"csrf": {admin.CSRF}, "id": {"mum"}, "name": {"Again"}}, nil, ""); code != http.StatusUnprocessableEntity {
		t.Errorf("a second household with a taken ID: %d", code)
	}
	users, _ := r.DB.Users(context.Background())
	hs, _ := r.DB.Households(context.Background())
	if len(users) != 3 || len(hs) != 2 {
		t.Errorf("refused forms added people or households: %d users, %d households", len(users), len(hs))
	}
	// A good guardian is added and can log in.
	if code, _ := admin.Do("POST", "/admin/users", url.Values{"csrf": {admin.CSRF}, "email": {"daughter@example.org"}, "name": {"Daughter"},
		"password": {"correct horse battery"}, "role": {"guardian"}, "household": {"mum"}}, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("good person: %d", code)
	}
	d := r.Client()
	d.Login("daughter@example.org")
	if code, _ := d.Do("GET", "/calls/call-mum", nil, nil, ""); code != 200 {
		t.Errorf("the new guardian's household call: %d", code)
	}
}

// An admin gives a person a new password (a bad one is refused next to the field and
// changes nothing) and removes a person, who is logged out and gets no more alerts; an
// admin cannot remove themselves.
func TestAdminSetsPasswordsAndRemovesPeople(t *testing.T) {
	r := webtest.NewRig(t)
	ctx := context.Background()
	son, _, err := r.DB.UserByEmail(ctx, "son@example.org")
	if err != nil {
		t.Fatal(err)
	}
	admin := r.Client()
	admin.Login("admin@example.org")
	sonBrowser := r.Client()
	sonBrowser.Login("son@example.org")

	id := webtest.Itoa(son.ID)
	code, page := admin.Do("POST", "/admin/users/"+id+"/password", url.Values{"csrf": {admin.CSRF}, "password": {"short"}}, nil, "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="password_`+id+`-error"`) {
		t.Fatalf("short password: %d", code)
	}
	if code, _ := sonBrowser.Do("GET", "/calls", nil, nil, ""); code != http.StatusOK {
		t.Errorf("a refused password change ended the session: %d", code)
	}
	if code, _ := admin.Do("POST", "/admin/users/"+id+"/password", url.Values{"csrf": {admin.CSRF}, "password": {"a brand new passphrase"}}, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("new password: %d", code)
	}
	if code, _ := sonBrowser.Do("GET", "/calls", nil, nil, ""); code != http.StatusSeeOther {
		t.Errorf("the old session still works after the password changed: %d", code)
	}
	if code, _ := r.Client().Do("POST", "/login", url.Values{"email": {"son@example.org"}, "password": {"a brand new passphrase"}}, nil, ""); code != http.StatusSeeOther {
		t.Errorf("login with the new password: %d", code)
	}

	sonBrowser.Login("carer@example.org") // any session, to check removal ends the son's
	if code, _ := admin.Do("POST", "/admin/users/"+id+"/remove", url.Values{"csrf": {admin.CSRF}}, nil, ""); code != http.StatusSeeOther {
		t.Fatalf("remove: %d", code)
	}
	if code, _ := r.Client().Do("POST", "/login", url.Values{"email": {"son@example.org"}, "password": {"a brand new passphrase"}}, nil, ""); code == http.StatusSeeOther {
		t.Error("a removed person logged in")
	}
	if gs, _ := r.DB.Guardians(ctx, "mum"); len(gs) != 0 {
		t.Errorf("mum's guardians after removing her son: %+v", gs)
	}
	if _, page := admin.Do("GET", "/admin", nil, nil, ""); strings.Contains(page, "son@example.org") {
		t.Error("the removed person is still listed")
	}
	me, _, _ := r.DB.UserByEmail(ctx, "admin@example.org")
	admin.Do("POST", "/admin/users/"+webtest.Itoa(me.ID)+"/remove", url.Values{"csrf": {admin.CSRF}}, nil, "")
	if _, err := r.DB.UserByID(ctx, me.ID); err != nil {
		t.Errorf("the admin removed themselves: %v", err)
	}
	guardian := r.Client()
	guardian.Login("carer@example.org")
	if code, _ := guardian.Do("POST", "/admin/users/"+webtest.Itoa(me.ID)+"/remove", url.Values{"csrf": {guardian.CSRF}}, nil, ""); code != http.StatusForbidden {
		t.Errorf("a guardian removing the admin: %d", code)
	}
}
