package guardian

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/config"
)

// The line form: every bad value is named by its field at once, nothing is applied; good
// values are applied once, with passwords made for the phones.
func TestSetupLineForm(t *testing.T) {
	cfg, _ := config.Parse([]byte("phones: [{user: kitchen, password: change-me-kitchen}, {user: hall, password: keep-this-one}]\n"))
	f := map[string]string{"name": "Mum's house", "provider": "sipgate", "number": "01632 960123", "box": "192.0.2.20",
		"phones": "Kitchen\nhall\nkitchen\n", "police": "101", "bank": "0345 734 5345"}
	set, errs := setupFrom(cfg, f)
	if errs["username"] == "" || !strings.Contains(errs["username"], "SIP-ID") {
		t.Errorf("a preset that registers without a user name: %v", errs)
	}
	f["username"], f["password"] = "1234567e0", "from-sipgate"
	set, errs = setupFrom(cfg, f)
	if len(errs) != 0 {
		t.Fatalf("good values refused: %v", errs)
	}
	if set.Trunk.Address != "sipgate.co.uk:5060" || set.SIP.Listen != "192.0.2.20:5060" || len(set.Phones) != 2 {
		t.Errorf("setup %+v", set)
	}
	if set.Phones[0].User != "kitchen" || len(set.Phones[0].Password) != 16 || set.Phones[0].Password == "change-me-kitchen" || set.Phones[1].Password != "keep-this-one" {
		t.Errorf("phones %+v: the placeholder replaced, the chosen password kept", set.Phones)
	}
	if _, _, err := set.Over(cfg); err != nil {
		t.Errorf("good setup over the configuration: %v", err)
	}
	f["box"], f["bank"], f["address"], f["provider"] = "0.0.0.0", "the bank", "sip..example", "manual"
	set, errs = setupFrom(cfg, f)
	_, _, err := set.Over(cfg)
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("bad values passed the configuration's check: %v", err)
	}
	fields := map[string]bool{}
	for _, p := range ce.Problems {
		fields[fieldOf(p.Key)] = true
	}
	if errs["box"] == "" || !fields["bank"] || !fields["address"] {
		t.Errorf("form problems %v, configuration problems %v", errs, ce.Problems)
	}
}

// The line form offers what is in force, but not the defaults' loopback placeholders, and
// the box's address is the one the browser reached it at.
func TestLineFormPrefill(t *testing.T) {
	r := httptest.NewRequest("GET", "/setup/line", nil)
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.ParseIP("192.0.2.20"), Port: 8080}))
	def, _ := config.Parse([]byte("phones: []\n"))
	f := lineForm(def, r)
	if f["address"] != "" || f["box"] != "192.0.2.20" || f["phones"] != "kitchen" || f["police"] != "101" {
		t.Errorf("over the defaults: %v", f)
	}
	set, _ := config.Parse([]byte("sip: {listen: 127.0.0.1:5060}\ntrunk: {address: sipgate.co.uk:5060, username: u, password: p, did: '01632960123'}\nphones: [{user: hall, password: x}]\n"))
	f = lineForm(set, r)
	if f["provider"] != "sipgate" || f["address"] != "" || f["username"] != "u" || f["number"] != "01632960123" || f["phones"] != "hall" {
		t.Errorf("over a saved setup: %v", f)
	}
}
