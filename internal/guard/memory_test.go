package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/screen"
)

// memoryLog is an Options.Memory that keeps what it is told.
type memoryLog struct {
	mu  sync.Mutex
	evs []MemoryEvent
}

func (m *memoryLog) tell(ev MemoryEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evs = append(m.evs, ev)
}

func (m *memoryLog) events() []MemoryEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MemoryEvent(nil), m.evs...)
}

// An ambulance's call-back after a 999 call placed through another guard of the service
// rings straight through here: the emergency Remembered from the other guard makes the
// withheld caller the emergency ring-back, not a caller held for a carer. Remember does not
// tell Options.Memory again.
func TestRememberedEmergencyAllowsCallback(t *testing.T) {
	mem := &memoryLog{}
	provider := startPeerUAS(t, testNet+"2", true, false, nil)
	phone := startTestPhone(t, true)
	g := startTestGuardOpts(t, guardOpts{phone: phone, carers: []Carer{{Name: "Sarah", Number: "+447700900123"}}, screened: true, memory: mem.tell,
		edit: func(c *config.Config) {
			c.Screening.Unknown = "carer"
			c.Trunk.Address = provider.addr
		}})
	caller := newPeer(t, "udp", testNet+"47", 0, g.addr)
	withheld := func(id string) []byte {
		sdp := fmt.Sprintf("v=0\r\no=caller 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", testNet+"47")
		return fmt.Appendf(nil, "INVITE sip:kitchen@%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-%[4]s\r\n"+
			"From: <sip:anonymous@anonymous.invalid>;tag=%[4]s\r\nTo: <sip:kitchen@%[1]s>\r\nCall-ID: %[4]s@test\r\nCSeq: 1 INVITE\r\n"+
			"Privacy: id\r\nContact: <sip:anonymous@%[2]s>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %[3]d\r\n\r\n%[5]s",
			g.addr, caller.local, len(sdp), id, sdp)
	}
	// Without it, the same caller is one for the carer (what TestEmergencyRingBackRingsThrough
	// shows the 999 call changes).
	if r := g.decide(parseInvite(t, string(withheld("before"))), time.Now()); r.verdict.Rule == screen.EmergencyRingBackRule || r.flow != flowCarer {
		t.Fatalf("before any emergency call the withheld caller is rule %q flow %d; want held for the carer", r.verdict.Rule, r.flow)
	}

	g.Remember(MemoryEvent{Household: g.cfg.Household.ID, Kind: MemoryEmergency, At: time.Now().Add(-2 * time.Minute)})
	if evs := mem.events(); len(evs) != 0 {
		t.Errorf("Remember told Options.Memory %+v; want nothing", evs)
	}
	caller.send(withheld("after-999-elsewhere"))
	deadline := time.Now().Add(3 * time.Second)
	for len(phone.invites()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("after a 999 call through another guard the withheld caller did not ring the phone straight away")
		}
		time.Sleep(20 * time.Millisecond)
	}
	live := g.Live()
	if len(live) != 1 || live[0].Rule != screen.EmergencyRingBackRule {
		t.Fatalf("live calls %+v; want the call-back judged by %s", live, screen.EmergencyRingBackRule)
	}
}

// A phone's 999 call through this guard tells Options.Memory at once, before the call is up.
func TestEmergencyCallToldToMemory(t *testing.T) {
	mem := &memoryLog{}
	provider := startPeerUAS(t, testNet+"2", true, false, nil)
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), memory: mem.tell, edit: func(c *config.Config) { c.Trunk.Address = provider.addr }})
	p := newPeer(t, "udp", testNet+"164", 0, g.addr)
	before := time.Now()
	p.send(outbound("udp", p.local, g.addr, "999", 1, ""))
	deadline := time.Now().Add(3 * time.Second)
	for {
		evs := mem.events()
		if len(evs) == 1 && evs[0].Kind == MemoryEmergency && evs[0].Household == g.cfg.Household.ID && !evs[0].At.Before(before) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Options.Memory was told %+v; want the household's emergency call", evs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reportRecorder keeps the events recorded.
type reportRecorder struct {
	mu  sync.Mutex
	evs []call.Event
}

func (r *reportRecorder) Record(ev call.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
}

// storedCalls is a Handset with the service's call records.
type storedCalls map[string]call.Call

func (storedCalls) Block(context.Context, string, string, string) error { return nil }
func (s storedCalls) Call(_ context.Context, id string) (call.Call, error) {
	c, ok := s[id]
	if !ok {
		return c, fmt.Errorf("no call %s", id)
	}
	return c, nil
}

// memoryGuards are two guards of one service, built but not serving: what the first's
// calls teach goes, as JSON (as between instances), to the second's Remember.
func memoryGuards(t *testing.T, handset Handset, rec Recorder) (a, b *Guard, sent *memoryLog) {
	t.Helper()
	sent = &memoryLog{}
	build := func(memory func(MemoryEvent), rec Recorder) *Guard {
		cfg, err := config.Parse([]byte(`
sip:
  listen: 192.0.2.1:5060
trunk:
  address: 203.0.113.10:5060
  did: "02079460100"
callback:
  police: "101"
household:
  district: Winchester
hub:
  nats: nats://127.0.0.1:4222
  report: true
phones:
  - user: kitchen
    password: s3cret
    contact: sip:kitchen@192.0.2.50:5062
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
		g, err := New(cfg, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Recorder: rec, Metrics: m, Media: m,
			Screening: chain, Memory: memory, Handset: handset})
		if err != nil {
			t.Fatal(err)
		}
		g.ctx = context.Background()
		g.SetAsking(claim.AskNever, false)
		return g
	}
	b = build(func(MemoryEvent) { t.Error("the second guard told Options.Memory of what it Remembered") }, rec)
	a = build(func(ev MemoryEvent) {
		sent.tell(ev)
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var got MemoryEvent
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		b.Remember(got)
	}, nopRecorder{})
	return a, b, sent
}

// Each kind of memory, made by a call on one guard, round-trips through JSON to another and
// changes what that one does: the same decision there as here.
func TestMemoryRoundTrips(t *testing.T) {
	now := time.Now()
	withheld := `"Anonymous" <sip:anonymous@anonymous.invalid>`
	t.Run(MemoryEmergency, func(t *testing.T) {
		a, b, sent := memoryGuards(t, nil, nopRecorder{})
		a.configHome().noteEmergency(now)
		r := b.decide(parseInvite(t, routeInvite(t, "02079460100", withheld, "203.0.113.10:5060")), now)
		if r.verdict.Rule != screen.EmergencyRingBackRule || !b.configHome().emergencyAt().Equal(now.Truncate(0)) {
			t.Errorf("the other guard judged the call-back by %q (emergency at %v); want %s", r.verdict.Rule, b.configHome().emergencyAt(), screen.EmergencyRingBackRule)
		}
		checkSent(t, sent, MemoryEmergency, "")
	})
	t.Run(MemoryRisky, func(t *testing.T) {
		a, b, sent := memoryGuards(t, nil, nopRecorder{})
		a.configHome().noteRisky(now.Add(-time.Minute))
		r := b.decide(parseInvite(t, routeInvite(t, "101", "<sip:kitchen@192.0.2.1>", "192.0.2.50:5062")), now)
		if r.flow != flowCallBack || r.prompt != "callback_police" {
			t.Errorf("101 on the other guard after a risky call here: flow %d prompt %q; want the safe call-back", r.flow, r.prompt)
		}
		checkSent(t, sent, MemoryRisky, "")
	})
	t.Run(MemoryDictated, func(t *testing.T) {
		a, b, sent := memoryGuards(t, nil, nopRecorder{})
		a.configHome().noteDictated(&call.Risk{Verdict: "scam", Dictated: []string{"+447700900123"}}, now.Add(-time.Hour))
		r := b.decide(parseInvite(t, routeInvite(t, "07700900123", "<sip:kitchen@192.0.2.1>", "192.0.2.50:5062")), now)
		if r.flow != flowDictated {
			t.Errorf("the scam caller's number dialled on the other guard: flow %d; want refused as dictated", r.flow)
		}
		checkSent(t, sent, MemoryDictated, "+447700900123")
	})
	t.Run(MemoryRang, func(t *testing.T) {
		a, b, sent := memoryGuards(t, nil, nopRecorder{})
		a.configHome().noteRang("02085550123", now.Add(-time.Hour))
		if !b.configHome().rangLately("+442085550123", now) {
			t.Error("the other guard does not know the household rang the number")
		}
		checkSent(t, sent, MemoryRang, "+442085550123")
	})
	t.Run(MemoryLast, func(t *testing.T) {
		stored := call.Call{ID: "call-1", Household: "home", Direction: call.Inbound, From: "sip:+442085550123@203.0.113.10",
			StartedAt: now.Add(-time.Minute).UTC(), Verdict: "warn", Rule: "display-name"}
		rec := &reportRecorder{}
		a, b, sent := memoryGuards(t, storedCalls{"call-1": stored}, rec)
		sc := screen.Call{Number: "+442085550123", At: now.Add(-time.Minute)}
		a.noteInbound(&bridge{h: a.configHome(), c: call.Call{ID: "call-1", Household: "home", Direction: call.Inbound}}, sc)
		gotSC, gotC, elsewhere, ok := b.configHome().lastInboundWhere()
		if !ok || !elsewhere || gotSC.Number != sc.Number || gotSC.Withheld || gotC.ID != "call-1" {
			t.Fatalf("the other guard's last call %+v %+v (elsewhere %v, set %v); want +442085550123's call-1", gotSC, gotC, elsewhere, ok)
		}
		if name, _ := b.reportLast(b.configHome(), "kitchen"); name != "handset_reported" {
			t.Fatalf("reporting it from the other guard said %s", name)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.evs) != 1 || rec.evs[0].Kind != call.CallReported || rec.evs[0].Call.Verdict != "warn" || rec.evs[0].Call.From != stored.From {
			t.Errorf("recorded %+v; want the stored record of call-1 reported", rec.evs)
		}
		checkSent(t, sent, MemoryLast, "+442085550123")
		if evs := sent.events(); evs[0].Call != "call-1" {
			t.Errorf("the event names call %q; want call-1", evs[0].Call)
		}
	})
}

func checkSent(t *testing.T, sent *memoryLog, kind, number string) {
	t.Helper()
	evs := sent.events()
	if len(evs) != 1 || evs[0].Kind != kind || evs[0].Number != number || evs[0].Household != "home" || evs[0].At.IsZero() {
		t.Errorf("Options.Memory was told %+v; want one %s event for %q", evs, kind, number)
	}
}

// Events keep the latest time whatever order they come in, a withheld last caller stays
// withheld, and events for a household not served or of an unknown kind change nothing.
func TestRememberKeepsTheLatest(t *testing.T) {
	_, b, _ := memoryGuards(t, nil, nopRecorder{})
	h := b.configHome()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{t0, t0.Add(-time.Hour), t0.Add(-time.Minute)} {
		b.Remember(MemoryEvent{Household: "home", Kind: MemoryEmergency, At: at})
		b.Remember(MemoryEvent{Household: "home", Kind: MemoryDictated, Number: "07700900123", At: at})
		b.Remember(MemoryEvent{Household: "home", Kind: MemoryLast, Number: "", Call: "c-" + at.Format("1504"), At: at})
	}
	if !h.emergencyAt().Equal(t0) {
		t.Errorf("emergency at %v; want the latest, %v", h.emergencyAt(), t0)
	}
	if at, _ := h.dictated.Load("+447700900123"); !at.(time.Time).Equal(t0) {
		t.Errorf("dictated at %v; want %v", at, t0)
	}
	if sc, c, _ := h.lastInbound(); !sc.Withheld || c.ID != "c-1200" {
		t.Errorf("last caller %+v call %s; want the withheld caller of c-1200", sc, c.ID)
	}
	b.Remember(MemoryEvent{Household: "elsewhere", Kind: MemoryRisky, At: t0})
	b.Remember(MemoryEvent{Household: "home", Kind: "weather", At: t0})
	b.Remember(MemoryEvent{Household: "home", Kind: MemoryRang, Number: "not a number", At: t0})
	if h.afterRiskyCall(t0) {
		t.Error("a risky call remembered for another household counts for this one")
	}
	n := 0
	h.rang.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d numbers rung after a bad event", n)
	}
}
