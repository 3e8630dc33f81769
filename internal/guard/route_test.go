package guard

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
)

// routeGuard is a guard built but not serving: decide needs nothing that runs.
func routeGuard(t testing.TB, phones string) *Guard {
	t.Helper()
	cfg, err := config.Parse([]byte(`
sip:
  listen: 192.0.2.1:5060
trunk:
  address: 203.0.113.10:5060
  did: "02079460100"
callback:
  police: "101"
` + phones + `
media:
  ports: 40000-40039
`))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := cfg.Screening.Chain()
	if err != nil {
		t.Fatal(err)
	}
	m := &testMetrics{}
	g, err := New(cfg, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Recorder: nopRecorder{}, Metrics: m, Media: m, Screening: chain})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// routeInvite is an INVITE for user, from number, over the wire from source.
func routeInvite(t testing.TB, user, from, source string) string {
	return "INVITE sip:" + user + "@192.0.2.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + source + ";branch=z9hG4bK-route\r\n" +
		"To: <sip:" + user + "@192.0.2.1>\r\n" +
		"From: " + from + ";tag=1\r\n" +
		"Call-ID: route-1@" + source + "\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:" + source + ">\r\n" +
		"Content-Length: 0\r\n\r\n"
}

// What the guard does with an INVITE is decided from the request, the household and the
// time alone; these are the decisions, one per flow.
func TestDecide(t *testing.T) {
	const (
		trunk = "203.0.113.10:5060"
		phone = "192.0.2.50:5062"
	)
	g := routeGuard(t, "phones:\n  - user: kitchen\n    password: s3cret\n    contact: sip:kitchen@192.0.2.50:5062\n")
	chain, err := g.cfg.Screening.Chain()
	if err != nil {
		t.Fatal(err)
	}
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		invite string
		before func(h *household) // what the household's earlier calls left
		at     time.Time
		flow   flow
		auth   bool
		number string
		prompt string
		status int
		noHome bool // no household takes the call
	}{
		{name: "999 from a phone, before it authenticates", invite: routeInvite(t, "999", "<sip:kitchen@192.0.2.1>", phone), flow: flowEmergency, number: "999"},
		{name: "112 from a phone", invite: routeInvite(t, "112", "<sip:nobody@192.0.2.1>", phone), flow: flowEmergency, number: "112"},
		{name: "an ordinary call out", invite: routeInvite(t, "02085550123", "<sip:kitchen@192.0.2.1>", phone), flow: flowOutbound, auth: true, number: "02085550123"},
		{name: "dialled with spaces", invite: routeInvite(t, "020-8555-0123", "<sip:kitchen@192.0.2.1>", phone), flow: flowOutbound, auth: true, number: "02085550123"},
		{name: "101 with no risky call before", invite: routeInvite(t, "101", "<sip:kitchen@192.0.2.1>", phone), flow: flowOutbound, auth: true, number: "101"},
		{name: "101 just after a risky call", invite: routeInvite(t, "101", "<sip:kitchen@192.0.2.1>", phone),
			before: func(h *household) { h.noteRisky(noon.Add(-10 * time.Minute)) }, flow: flowCallBack, auth: true, number: "101", prompt: "callback_police"},
		{name: "101 an hour after a risky call", invite: routeInvite(t, "101", "<sip:kitchen@192.0.2.1>", phone),
			before: func(h *household) { h.noteRisky(noon.Add(-time.Hour)) }, flow: flowOutbound, auth: true, number: "101"},
		{name: "*88 rings the police afresh", invite: routeInvite(t, "*88", "<sip:kitchen@192.0.2.1>", phone), flow: flowCallBack, auth: true, number: "101", prompt: "callback_police"},
		{name: "*89 with no bank in the directory", invite: routeInvite(t, "*89", "<sip:kitchen@192.0.2.1>", phone), flow: flowRefuse, auth: true, status: 404},
		{name: "a handset code", invite: routeInvite(t, "*84", "<sip:kitchen@192.0.2.1>", phone), flow: flowHandsetCode, auth: true, number: "*84"},
		{name: "a number a scam caller gave", invite: routeInvite(t, "07700900123", "<sip:kitchen@192.0.2.1>", phone),
			before: func(h *household) {
				h.noteDictated(&call.Risk{Verdict: "scam", Dictated: []string{"+447700900123"}}, noon.Add(-time.Hour))
			}, flow: flowDictated, auth: true, number: "07700900123"},
		{name: "that number two days later", invite: routeInvite(t, "07700900123", "<sip:kitchen@192.0.2.1>", phone), at: noon.Add(48 * time.Hour), flow: flowOutbound, auth: true, number: "07700900123"},
		{name: "nothing dialled", invite: routeInvite(t, "", "<sip:kitchen@192.0.2.1>", phone), flow: flowRefuse, auth: true, status: 404},
		{name: "an ordinary caller", invite: routeInvite(t, "02079460100", `"Jean Smith" <sip:+442085550123@203.0.113.10>`, trunk), flow: flowRing},
		{name: "a caller named as the police rings, to be warned", invite: routeInvite(t, "02079460100", `"DS Miller" <sip:+442085550123@203.0.113.10>`, trunk), flow: flowRing},
		{name: "a caller showing 101", invite: routeInvite(t, "02079460100", `<sip:101@203.0.113.10>`, trunk), flow: flowBlock},
		{name: "a withheld caller", invite: routeInvite(t, "02079460100", `"Anonymous" <sip:anonymous@anonymous.invalid>`, trunk), flow: flowScreen},
		{name: "a call for another number", invite: routeInvite(t, "02079460999", `<sip:+442085550123@203.0.113.10>`, trunk), flow: flowRefuse, status: 404, noHome: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.homes.Store(newHomes(newHousehold(g.cfg))) // nothing left from the case before
			g.SetRules(chain, g.cfg.Callback)
			g.SetAsking(claim.AskNever, false)
			g.SetCarer(g.cfg.Screening.Unknown, g.cfg.Screening.Warned)
			if tt.before != nil {
				tt.before(g.configHome())
			}
			at := tt.at
			if at.IsZero() {
				at = noon
			}
			req := parseInvite(t, tt.invite)
			r := g.decide(req, at)
			if r.flow != tt.flow || r.auth != tt.auth {
				t.Fatalf("flow %d auth %v; want flow %d auth %v", r.flow, r.auth, tt.flow, tt.auth)
			}
			if (r.home == g.configHome()) == tt.noHome {
				t.Errorf("home %v; want the household: %v", r.home, !tt.noHome)
			}
			if tt.number != "" && r.number != tt.number {
				t.Errorf("number %q; want %q", r.number, tt.number)
			}
			if r.prompt != tt.prompt || r.status != tt.status {
				t.Errorf("prompt %q status %d; want %q %d", r.prompt, r.status, tt.prompt, tt.status)
			}
			if r.status != 0 && r.why == "" {
				t.Error("a refusal without a reason")
			}
			if r.flow == flowRing && (len(r.targets) != 1 || r.targets[0].user != "kitchen") {
				t.Errorf("targets %+v; want the kitchen phone", r.targets)
			}
		})
	}
}

// With no phone registered or configured, a caller is told at once that no one can answer.
func TestDecideWithNoPhones(t *testing.T) {
	g := routeGuard(t, "phones:\n  - user: kitchen\n    password: s3cret\n")
	req := parseInvite(t, routeInvite(t, "02079460100", `"Jean Smith" <sip:+442085550123@203.0.113.10>`, "203.0.113.10:5060"))
	if r := g.decide(req, time.Now()); r.flow != flowNoPhones {
		t.Errorf("flow %d; want flowNoPhones", r.flow)
	}
}

// Households from the store: a call is for the household whose number it was called on,
// a phone's call is its own household's, and a number or name claimed twice changes nothing.
func TestDecideManyHouseholds(t *testing.T) {
	g := routeGuard(t, "phones:\n  - user: kitchen\n    password: s3cret\n    contact: sip:kitchen@192.0.2.50:5062\n")
	err := g.SetHouseholds([]Home{
		{ID: "mum", District: "Winchester", Numbers: []string{"+442079460200"}, Phones: []config.Phone{{User: "mum-hall", Password: "a", Contact: "sip:mum-hall@192.0.2.60"}}},
		{ID: "dad", Numbers: []string{"+442079460300", "+442079460301"}, Phones: []config.Phone{{User: "dad-den", Password: "b", Contact: "sip:dad-den@192.0.2.70"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	const trunk = "203.0.113.10:5060"
	now := time.Now()
	for _, tt := range []struct {
		user, home, phone string
	}{
		{"02079460200", "mum", "mum-hall"},
		{"+442079460200", "mum", "mum-hall"},
		{"442079460301", "dad", "dad-den"}, // as some providers send it
		{"02079460300", "dad", "dad-den"},
		{"02079460100", g.cfg.Household.ID, "kitchen"}, // the file's household, by its trunk.did
		{"+442079460100", g.cfg.Household.ID, "kitchen"},
	} {
		r := g.decide(parseInvite(t, routeInvite(t, tt.user, `"Jean Smith" <sip:+442085550123@203.0.113.10>`, trunk)), now)
		if r.home == nil || r.home.id != tt.home || r.flow != flowRing || len(r.targets) != 1 || r.targets[0].user != tt.phone {
			t.Errorf("a call to %s: home %v flow %d targets %+v; want %s's %s", tt.user, r.home, r.flow, r.targets, tt.home, tt.phone)
		}
	}
	if r := g.decide(parseInvite(t, routeInvite(t, "02079460999", `<sip:+442085550123@203.0.113.10>`, trunk)), now); r.flow != flowRefuse || r.status != 404 {
		t.Errorf("a number no household has: flow %d status %d", r.flow, r.status)
	}
	out := g.decide(parseInvite(t, routeInvite(t, "02085550123", "<sip:dad-den@192.0.2.1>", "192.0.2.70:5060")), now)
	if out.flow != flowOutbound || out.home.id != "dad" || out.home.presentedID("dad-den") != "+442079460300" {
		t.Errorf("dad's call out: flow %d home %v", out.flow, out.home)
	}
	sos := g.decide(parseInvite(t, routeInvite(t, "999", "<sip:mum-hall@192.0.2.1>", "192.0.2.60:5060")), now)
	if sos.flow != flowEmergency || sos.auth || sos.home.id != "mum" {
		t.Errorf("mum's 999: flow %d auth %v home %v", sos.flow, sos.auth, sos.home)
	}
	if pw, ok := g.homes.Load().ofPhone("mum-hall").phones.password("mum-hall"); !ok || pw != "a" {
		t.Errorf("mum-hall's password %q %v", pw, ok)
	}
	// What one household's calls taught the guard stays with it.
	g.homes.Load().byID["mum"].noteRisky(now)
	mum := g.decide(parseInvite(t, routeInvite(t, "101", "<sip:mum-hall@192.0.2.1>", "192.0.2.60:5060")), now)
	dad := g.decide(parseInvite(t, routeInvite(t, "101", "<sip:dad-den@192.0.2.1>", "192.0.2.70:5060")), now)
	if mum.flow != flowCallBack || dad.flow != flowOutbound {
		t.Errorf("after a risky call to mum, 101 from mum is flow %d, from dad %d; want a call-back only for mum", mum.flow, dad.flow)
	}

	before := g.Households()
	err = g.SetHouseholds([]Home{
		{ID: "mum", Numbers: []string{"+442079460200"}},
		{ID: "aunt", Numbers: []string{"+442079460200"}},
	})
	if err == nil {
		t.Fatal("a number claimed by two households was taken")
	}
	if err := g.SetHouseholds([]Home{{ID: "aunt", Phones: []config.Phone{{User: "kitchen", Password: "x"}}}}); err == nil {
		t.Fatal("a user name the file's household has was taken by another")
	}
	if after := g.Households(); len(after) != len(before) || len(after) != 3 {
		t.Errorf("households %v after refused updates; want %v", after, before)
	}
	if !g.homes.Load().byID["mum"].afterRiskyCall(now) {
		t.Error("a refused update lost what mum's calls taught the guard")
	}
}

// BenchmarkRoute is what deciding an INVITE's route costs with the file's household alone
// (today's one-home guard) and with 10,000 households and 30,000 phones from the store:
// inbound calls to households' numbers, and phones' calls out.
func BenchmarkRoute(b *testing.B) {
	const trunk = "203.0.113.10:5060"
	for _, n := range []int{0, 10000} {
		g := routeGuard(b, "phones:\n  - user: kitchen\n    password: s3cret\n    contact: sip:kitchen@192.0.2.50:5062\n")
		var in, out []string
		if n == 0 {
			in = []string{routeInvite(b, "02079460100", `<sip:+442085550123@203.0.113.10>`, trunk)}
			out = []string{routeInvite(b, "02085550123", "<sip:kitchen@192.0.2.1>", "192.0.2.50:5060")}
		} else {
			homes := make([]Home, n)
			for i := range homes {
				num := fmt.Sprintf("+4420300%05d", i)
				homes[i] = Home{ID: fmt.Sprintf("h%d", i), Numbers: []string{num}}
				for p := range 3 {
					homes[i].Phones = append(homes[i].Phones, config.Phone{User: fmt.Sprintf("h%d-p%d", i, p), Password: "pw", Contact: fmt.Sprintf("sip:h%d-p%d@192.0.2.50:5062", i, p)})
				}
				if i%10 == 0 {
					in = append(in, routeInvite(b, "0"+num[3:], `<sip:+442085550123@203.0.113.10>`, trunk))
					out = append(out, routeInvite(b, "02085550123", fmt.Sprintf("<sip:h%d-p1@192.0.2.1>", i), "192.0.2.50:5060"))
				}
			}
			if err := g.SetHouseholds(homes); err != nil {
				b.Fatal(err)
			}
		}
		for _, dir := range []struct {
			name string
			raw  []string
		}{{"inbound", in}, {"outbound", out}} {
			reqs := make([]*sip.Request, len(dir.raw))
			for i, raw := range dir.raw {
				m, err := sip.ParseMessage([]byte(raw))
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = m.(*sip.Request)
			}
			b.Run(fmt.Sprintf("%s/households=%d", dir.name, n+1), func(b *testing.B) {
				now := time.Now()
				lat := make([]time.Duration, 0, b.N)
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					start := time.Now()
					r := g.decide(reqs[i%len(reqs)], now)
					lat = append(lat, time.Since(start))
					if r.home == nil {
						b.Fatal("no household")
					}
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
			})
		}
	}
}
