package guard

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
)

// routeGuard is a guard built but not serving: decide needs nothing that runs.
func routeGuard(t *testing.T, phones string) *Guard {
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
func routeInvite(t *testing.T, user, from, source string) string {
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
		{name: "a call for another number", invite: routeInvite(t, "02079460999", `<sip:+442085550123@203.0.113.10>`, trunk), flow: flowRefuse, status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.home = newHousehold(g.cfg) // nothing left from the case before
			g.SetRules(chain, g.cfg.Callback)
			g.SetAsking(claim.AskNever, false)
			g.SetCarer(g.cfg.Screening.Unknown, g.cfg.Screening.Warned)
			if tt.before != nil {
				tt.before(g.home)
			}
			at := tt.at
			if at.IsZero() {
				at = noon
			}
			req := parseInvite(t, tt.invite)
			r := g.decide(req, at)
			if r.flow != tt.flow || r.auth != tt.auth || r.home != g.home {
				t.Fatalf("flow %d auth %v; want flow %d auth %v", r.flow, r.auth, tt.flow, tt.auth)
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
