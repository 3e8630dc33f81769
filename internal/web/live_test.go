package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/guard"
)

// fakeLive stands in for the guard's calls in progress (the real one is driven end to end
// with SIPp in e2e/live_test.go). End behaves as the guard's: a connected call ends, with
// who ended it; a ringing one is not connected yet; an ended one says so.
type fakeLive struct {
	mu    sync.Mutex
	calls map[string]call.Call
	ends  []string // who ended what, "id by who"
}

func (f *fakeLive) Live() []call.Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []call.Call{}
	for _, c := range f.calls {
		if c.EndedAt.IsZero() {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeLive) Call(id string) (call.Call, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[id]
	return c, ok
}

func (f *fakeLive) End(_ context.Context, id, who string) (call.Call, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[id]
	switch {
	case !ok:
		return c, guard.ErrNoCall
	case !c.EndedAt.IsZero():
		return c, guard.ErrEnded
	case c.AnsweredAt.IsZero():
		return c, guard.ErrNotConnected
	}
	now := time.Now().UTC()
	c.EndedBy, c.EndedByUser = call.ByGuardian, who
	c.Legs = []call.Leg{{Side: call.Trunk, ReleasedAt: now}, {Side: call.Household}}
	f.ends = append(f.ends, id+" by "+who)
	reply := c
	c.EndedAt, c.Outcome = now, call.Completed // the resident has heard why
	f.calls[id] = c
	return reply, nil
}

func (f *fakeLive) add(c call.Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[c.ID] = c
}

// liveRig is newRig's dashboard with a guard whose calls in progress are: a warned call to
// mum's house that sounds like a scam, a call to gran's flat, and one to mum's still ringing.
func liveRig(t *testing.T) (*rig, *fakeLive) {
	r := newRig(t)
	now := time.Now().UTC()
	f := &fakeLive{calls: map[string]call.Call{
		"live-mum": {ID: "live-mum", Household: "mum", Direction: call.Inbound, From: "sip:+442085550177@trunk", To: "sip:kitchen@guard",
			StartedAt: now.Add(-95 * time.Second), AnsweredAt: now.Add(-90 * time.Second), Verdict: "warn", Reasons: []string{`the caller's name says "Police"`},
			Risk: &call.Risk{Analyser: "pocketsphinx/domain", Level: 0.8, Verdict: "scam", Timeline: []call.RiskPoint{{T: 30, Risk: 0.8, Text: "withdraw the cash"}},
				Indicators: []call.Finding{{Kind: "cash_withdrawal", Evidence: "withdraw the cash", T: 30}}},
			Legs: []call.Leg{{Side: call.Trunk, Peer: "127.0.0.2:5060"}, {Side: call.Household, Peer: "127.0.0.1:5062"}}},
		"live-gran": {ID: "live-gran", Household: "gran", Direction: call.Inbound, From: "sip:+442085550111@trunk", StartedAt: now, AnsweredAt: now, Verdict: "allow"},
		"ringing":   {ID: "ringing", Household: "mum", Direction: call.Inbound, From: "sip:+442085550188@trunk", StartedAt: now},
	}}
	r.srv.Close()
	r.srv = httptest.NewServer(New(r.db, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		Options{Dash: r.db, APIToken: "operator-token", Live: f}))
	t.Cleanup(r.srv.Close)
	return r, f
}

type liveList struct {
	Calls []liveCall `json:"calls"`
}

// A guardian sees their household's calls in progress, with the screening verdict and the
// risk and signs as they stand, and ends one; another household's guardian neither sees nor
// ends it; a call that has ended says so.
func TestLiveCallsAndRemoteEnd(t *testing.T) {
	r, f := liveRig(t)
	son, carer := r.client(), r.client()
	son.login("son@example.org")
	carer.login("carer@example.org")

	_, body := son.do("GET", "/api/v1/live", nil, nil, "")
	var l liveList
	if err := json.Unmarshal([]byte(body), &l); err != nil || len(l.Calls) != 2 {
		t.Fatalf("son's live calls: %s (%v)", body, err)
	}
	byID := map[string]liveCall{}
	for _, c := range l.Calls {
		byID[c.ID] = c
	}
	got := byID["live-mum"]
	if !got.Live || got.State != "connected" || got.Verdict != "warn" || got.Risk == nil || got.Risk.Level != 0.8 ||
		len(got.Risk.Indicators) != 1 || !got.CanEnd || got.Seconds < 89 || got.Seconds > 100 {
		t.Errorf("live-mum as son sees it: %+v", got)
	}
	if rg := byID["ringing"]; rg.State != "ringing" || rg.CanEnd {
		t.Errorf("the ringing call: %+v", rg)
	}
	if _, seen := byID["live-gran"]; seen {
		t.Errorf("son sees gran's call")
	}
	_, body = carer.do("GET", "/api/v1/live", nil, nil, "")
	if strings.Contains(body, "live-mum") || !strings.Contains(body, "live-gran") {
		t.Errorf("carer's live calls: %s", body)
	}
	// The live state is in the call's own API too.
	_, body = son.do("GET", "/api/v1/calls/live-mum", nil, nil, "")
	if !strings.Contains(body, `"live": true`) || !strings.Contains(body, `"state": "connected"`) {
		t.Errorf("live call by API: %s", body)
	}

	csrf := func(c *client) map[string]string { return map[string]string{"X-CSRF-Token": c.csrf} }
	if code, body := carer.do("POST", "/api/v1/calls/live-mum/end", nil, csrf(carer), ""); code != http.StatusNotFound || !strings.Contains(body, "no call") {
		t.Errorf("another household's guardian ending the call: %d %s", code, body)
	}
	if code, _ := son.do("POST", "/api/v1/calls/live-mum/end", nil, nil, ""); code != http.StatusForbidden {
		t.Errorf("ending without the CSRF token: %d", code)
	}
	if code, _ := son.do("POST", "/api/v1/calls/live-mum/end", nil, map[string]string{"Authorization": "Bearer operator-token"}, ""); code != http.StatusForbidden {
		t.Errorf("the operator's token ending a call: %d", code)
	}
	if len(f.ends) != 0 {
		t.Fatalf("refused requests ended calls: %v", f.ends)
	}
	if code, body := son.do("POST", "/api/v1/calls/ringing/end", nil, csrf(son), ""); code != http.StatusConflict || !strings.Contains(body, "not connected yet") {
		t.Errorf("ending a ringing call: %d %s", code, body)
	}
	code, body := son.do("POST", "/api/v1/calls/live-mum/end", nil, csrf(son), "")
	var ended liveCall
	json.Unmarshal([]byte(body), &ended)
	if code != http.StatusOK || ended.EndedBy != call.ByGuardian || ended.EndedByUser != "son" || ended.State != "ending" || ended.Leg(call.Trunk).ReleasedAt.IsZero() {
		t.Errorf("son ending the call: %d %s", code, body)
	}
	if len(f.ends) != 1 || f.ends[0] != "live-mum by son" {
		t.Errorf("ends: %v", f.ends)
	}
	if code, body := son.do("POST", "/api/v1/calls/live-mum/end", nil, csrf(son), ""); code != http.StatusConflict || !strings.Contains(body, "this call has already ended: son ended it") {
		t.Errorf("ending it again: %d %s", code, body)
	}
	if code, body := son.do("POST", "/api/v1/calls/call-mum/end", nil, csrf(son), ""); code != http.StatusConflict || !strings.Contains(body, "already ended: the caller hung up at") {
		t.Errorf("ending a call from the record: %d %s", code, body)
	}
	if code, _ := son.do("POST", "/api/v1/calls/no-such-call/end", nil, csrf(son), ""); code != http.StatusNotFound {
		t.Errorf("ending a call that never was: %d", code)
	}
	_, body = son.do("GET", "/api/v1/live", nil, nil, "")
	if strings.Contains(body, "live-mum") {
		t.Errorf("the ended call is still live: %s", body)
	}
}

// The pages: Calls now lists the calls in progress with an "End this call" button, reloads
// itself without JavaScript and loads the script that updates it with; pressing the button
// ends the call and comes back to the call's page saying so.
func TestLivePageEndsACall(t *testing.T) {
	r, f := liveRig(t)
	son := r.client()
	son.login("son@example.org")
	code, page := son.do("GET", "/live", nil, nil, "")
	for _, want := range []string{"Call from &#43;442085550177", "On the phone now", "connected for", `data-since="`, "warn", "cash withdrawal", "80%",
		`action="/calls/live-mum/end"`, "End this call", `<noscript><meta http-equiv="refresh" content="5"></noscript>`, `src="/static/live.js"`, "<main data-live>"} {
		if !strings.Contains(page, want) {
			t.Errorf("live page lacks %q", want)
		}
	}
	if code != 200 || strings.Contains(page, "442085550111") || strings.Count(page, "End this call") != 1 {
		t.Errorf("live page: %d (gran's call, or an end button on the ringing call)\n%s", code, page)
	}
	if _, today := son.do("GET", "/", nil, nil, ""); !strings.Contains(today, "2 calls going on now") || !strings.Contains(today, `href="/live"`) {
		t.Errorf("Today does not point to the calls going on now")
	}
	if code, js := son.do("GET", "/static/live.js", nil, nil, ""); code != 200 || !strings.Contains(js, "EventSource") {
		t.Errorf("live.js: %d", code)
	}
	if code, _ := son.do("POST", "/calls/live-mum/end", url.Values{"csrf": {"wrong"}}, nil, ""); code != http.StatusForbidden || len(f.ends) != 0 {
		t.Errorf("a forged form: %d, ends %v", code, f.ends)
	}
	code, _ = son.do("POST", "/calls/live-mum/end", url.Values{"csrf": {son.csrf}}, nil, "")
	if code != http.StatusSeeOther || len(f.ends) != 1 {
		t.Fatalf("pressing End this call: %d, ends %v", code, f.ends)
	}
	_, page = son.do("GET", "/calls/live-mum?flash=You+ended+this+call.", nil, nil, "")
	if !strings.Contains(page, "ended by the guardian (son)") || strings.Contains(page, "End this call") || strings.Contains(page, "data-live") {
		t.Errorf("the call's page after the end:\n%s", page)
	}
	code, _ = son.do("POST", "/calls/live-mum/end", url.Values{"csrf": {son.csrf}}, nil, "")
	if code != http.StatusSeeOther || len(f.ends) != 1 {
		t.Errorf("pressing it again: %d, ends %v", code, f.ends)
	}
}

// The live event stream sends the viewer's calls in progress at once, and again when a
// call starts.
func TestLiveEventStream(t *testing.T) {
	r, f := liveRig(t)
	son := r.client()
	son.login("son@example.org")
	req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1/live/events", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := son.http.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := bufio.NewScanner(res.Body)
	next := func() liveList {
		t.Helper()
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				var l liveList
				if err := json.Unmarshal([]byte(data), &l); err != nil {
					t.Fatalf("event data %q: %v", data, err)
				}
				return l
			}
		}
		t.Fatalf("the stream ended: %v", lines.Err())
		return liveList{}
	}
	if l := next(); len(l.Calls) != 2 {
		t.Fatalf("first event: %+v", l)
	}
	f.add(call.Call{ID: "new", Household: "mum", Direction: call.Inbound, StartedAt: time.Now()})
	f.add(call.Call{ID: "new-gran", Household: "gran", Direction: call.Inbound, StartedAt: time.Now()})
	if l := next(); len(l.Calls) != 3 {
		t.Errorf("after a call started: %+v", l)
	}
}

// Without a guard in the process (the hub alone) there is no Calls now.
func TestNoLiveCallsWithoutAGuard(t *testing.T) {
	r := newRig(t)
	son := r.client()
	son.login("son@example.org")
	if _, today := son.do("GET", "/", nil, nil, ""); strings.Contains(today, `href="/live"`) || strings.Contains(today, "going on now") {
		t.Errorf("Today offers live calls without a guard")
	}
	if code, _ := son.do("GET", "/api/v1/live", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("GET /api/v1/live without a guard: %d", code)
	}
}
