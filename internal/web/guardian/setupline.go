package guardian

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
)

// lineFields are the line form's fields, in order.
var lineFields = []string{"name", "provider", "address", "transport", "username", "password", "number", "box", "phones", "police", "bank"}

// lineForm is the line form filled in from the configuration in force. The box's address
// is the one the browser reached it at, unless the guard already listens elsewhere.
func lineForm(cfg *config.Config, r *http.Request) map[string]string {
	f := map[string]string{"name": cfg.Household.Name, "provider": "manual", "transport": cfg.Trunk.Transport,
		"username": cfg.Trunk.Username, "password": cfg.Trunk.Password, "number": cfg.Trunk.DID,
		"police": cfg.Callback.Police, "bank": cfg.Callback.Bank}
	// A provider on loopback is the defaults' placeholder, not one to offer a carer.
	if h, _, err := net.SplitHostPort(cfg.Trunk.Address); err == nil && !isLoopback(h) {
		f["address"] = cfg.Trunk.Address
		for _, p := range presets {
			if p.Address != "" && p.Address == cfg.Trunk.Address {
				f["provider"], f["address"] = p.ID, ""
			}
		}
	}
	host, _, _ := net.SplitHostPort(cfg.SIP.Listen)
	if ip := net.ParseIP(host); ip == nil || isLoopback(host) || ip.IsUnspecified() {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if h, _, err := net.SplitHostPort(a.String()); err == nil {
				host = h
			}
		}
	}
	f["box"] = host
	var names []string
	for _, p := range cfg.Phones {
		names = append(names, p.User)
	}
	if len(names) == 0 {
		names = []string{"kitchen"}
	}
	f["phones"] = strings.Join(names, "\n")
	return f
}

func (s *Dashboard) setupLinePage(w http.ResponseWriter, r *http.Request) {
	s.renderSetup(w, r, http.StatusOK, "setup-line", nil, setupPage{Step: 2, Form: lineForm(s.o.Line.Config(), r), Extra: presets})
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

var phoneName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// setupFrom turns the line form into the setup's keys over the configuration in force,
// with the form's own problems (what the configuration cannot know: a required field).
func setupFrom(cur *config.Config, f map[string]string) (config.Setup, dash.FieldErrors) {
	errs := dash.FieldErrors{}
	set := config.SetupOf(cur)
	set.Household.Name = f["name"]
	p, ok := presetByID(f["provider"])
	if !ok {
		errs["provider"] = "choose your provider, or the last choice to type its settings in"
		p = Preset{Transport: "udp"}
	}
	t := set.Trunk
	t.Address = f["address"]
	if t.Address == "" {
		t.Address = p.Address
	}
	if t.Address == "" {
		errs["address"] = "give the provider's SIP server, like sip.example.net (from the provider's set-up instructions)"
	} else if _, _, err := net.SplitHostPort(t.Address); err != nil {
		t.Address = net.JoinHostPort(t.Address, "5060")
	}
	t.Transport = f["transport"]
	if t.Transport == "" {
		t.Transport = p.Transport
	}
	t.Username, t.Password, t.DID = f["username"], f["password"], f["number"]
	if p.Registers && t.Username == "" {
		errs["username"] = "this provider needs the account's user name: " + p.Username
	}
	if t.Username != "" && t.Password == "" {
		errs["password"] = "give the account's SIP password, from the provider"
	}
	if t.DID == "" {
		errs["number"] = "give the household's phone number, the one people ring"
	}
	set.Trunk = t
	_, port, _ := net.SplitHostPort(cur.SIP.Listen)
	set.SIP.Listen = net.JoinHostPort(f["box"], port)
	if ip := net.ParseIP(f["box"]); ip == nil || ip.IsUnspecified() {
		errs["box"] = fmt.Sprintf("%q is not this box's IP address, like 192.168.1.20", f["box"])
	}
	// Phones named before keep their passwords; new ones (and the embedded defaults'
	// placeholders) get new ones.
	known := map[string]config.Phone{}
	for _, ph := range cur.Phones {
		known[ph.User] = ph
	}
	set.Phones = nil
	seen := map[string]bool{}
	for _, line := range strings.Split(f["phones"], "\n") {
		name := strings.ToLower(strings.TrimSpace(line))
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		if !phoneName.MatchString(name) {
			errs["phones"] = fmt.Sprintf("%q: a phone's name is one word of letters and digits, like kitchen or hall", name)
			continue
		}
		ph, had := known[name]
		if !had || strings.HasPrefix(ph.Password, "change-me") {
			ph = config.Phone{User: name, Password: newPhonePassword(), Contact: ph.Contact}
		}
		set.Phones = append(set.Phones, ph)
	}
	if len(set.Phones) == 0 && errs["phones"] == "" {
		errs["phones"] = "name at least one phone, like kitchen"
	}
	set.Callback = config.Callback{Police: f["police"], Bank: f["bank"]}
	return set, errs
}

// phoneAlphabet is easy to read off a screen and type on a phone's web page.
const phoneAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newPhonePassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i, c := range b {
		b[i] = phoneAlphabet[int(c)%len(phoneAlphabet)]
	}
	return string(b)
}

// fieldOf is the line form's field for a configuration key.
func fieldOf(key string) string {
	switch {
	case key == "sip.listen":
		return "box"
	case key == "household.name":
		return "name"
	case key == "trunk.address":
		return "address"
	case key == "trunk.transport":
		return "transport"
	case key == "trunk.username":
		return "username"
	case key == "trunk.password":
		return "password"
	case key == "trunk.did":
		return "number"
	case strings.HasPrefix(key, "phones"):
		return "phones"
	case key == "callback.police":
		return "police"
	case key == "callback.bank":
		return "bank"
	}
	return "general"
}

func (s *Dashboard) postSetupLine(w http.ResponseWriter, r *http.Request) {
	f := map[string]string{}
	for _, k := range lineFields {
		f[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	cur := s.o.Line.Config()
	set, errs := setupFrom(cur, f)
	// Every bad value is named at once: the configuration's checks run even when the form
	// has its own problems, then again (with the saving) in Apply.
	_, _, err := set.Over(cur)
	if err == nil && len(errs) == 0 {
		err = s.o.Line.Apply(r.Context(), set)
	}
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		for _, p := range ce.Problems {
			field := fieldOf(p.Key)
			msg := p.Msg
			if field == "general" || field == "phones" {
				msg = p.Key + ": " + p.Msg
			}
			if errs[field] == "" {
				errs[field] = msg
			}
		}
	case err != nil:
		errs["general"] = err.Error()
	}
	if len(errs) > 0 {
		s.renderSetup(w, r, http.StatusUnprocessableEntity, "setup-line", errs, setupPage{Step: 2, Form: f, Extra: presets})
		return
	}
	s.site.Log.Info("setup saved", "trunk", set.Trunk.Address, "phones", len(set.Phones))
	http.Redirect(w, r, "/setup/phones", http.StatusSeeOther)
}
