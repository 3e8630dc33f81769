package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/web/guardian"
	"github.com/clearline/clearline/internal/web/webtest"
)

type liveList struct {
	Calls []guardian.LiveCall `json:"calls"`
}

// A guardian sees their household's calls in progress, with the screening verdict and the
// risk and signs as they stand, and ends one; another household's guardian neither sees nor
// ends it; a call that has ended says so.
func TestLiveCallsAndRemoteEnd(t *testing.T) {
	r, f := webtest.LiveRig(t)
	son, carer := r.Client(), r.Client()
	son.Login("son@example.org")
	carer.Login("carer@example.org")

	_, body := son.Do("GET", "/api/v1/live", nil, nil, "")
	var l liveList
	if err := json.Unmarshal([]byte(body), &l); err != nil || len(l.Calls) != 2 {
		t.Fatalf("son's live calls: %s (%v)", body, err)
	}
	byID := map[string]guardian.LiveCall{}
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
	_, body = carer.Do("GET", "/api/v1/live", nil, nil, "")
	if strings.Contains(body, "live-mum") || !strings.Contains(body, "live-gran") {
		t.Errorf("carer's live calls: %s", body)
	}
	// The live state is in the call's own API too.
	_, body = son.Do("GET", "/api/v1/calls/live-mum", nil, nil, "")
	if !strings.Contains(body, `"live": true`) || !strings.Contains(body, `"state": "connected"`) {
		t.Errorf("live call by API: %s", body)
	}

	csrf := func(c *webtest.Client) map[string]string { return map[string]string{"X-CSRF-Token": c.CSRF} }
	if code, body := carer.Do("POST", "/api/v1/calls/live-mum/end", nil, csrf(carer), ""); code != http.StatusNotFound || !strings.Contains(body, "no call") {
		t.Errorf("another household's guardian ending the call: %d %s", code, body)
	}
	if code, _ := son.Do("POST", "/api/v1/calls/live-mum/end", nil, nil, ""); code != http.StatusForbidden {
		t.Errorf("ending without the CSRF token: %d", code)
	}
	if code, _ := son.Do("POST", "/api/v1/calls/live-mum/end", nil, map[string]string{"Authorization": "Bearer operator-token"}, ""); code != http.StatusForbidden {
		t.Errorf("the operator's token ending a call: %d", code)
	}
	if len(f.Ends) != 0 {
		t.Fatalf("refused requests ended calls: %v", f.Ends)
	}
	if code, body := son.Do("POST", "/api/v1/calls/ringing/end", nil, csrf(son), ""); code != http.StatusConflict || !strings.Contains(body, "not connected yet") {
		t.Errorf("ending a ringing call: %d %s", code, body)
	}
	code, body := son.Do("POST", "/api/v1/calls/live-mum/end", nil, csrf(son), "")
	var ended guardian.LiveCall
	json.Unmarshal([]byte(body), &ended)
	if code != http.StatusOK || ended.EndedBy != call.ByGuardian || ended.EndedByUser != "son" || ended.State != "ending" || ended.Leg(call.Trunk).ReleasedAt.IsZero() {
		t.Errorf("son ending the call: %d %s", code, body)
	}
	if len(f.Ends) != 1 || f.Ends[0] != "live-mum by son" {
		t.Errorf("ends: %v", f.Ends)
	}
	if code, body := son.Do("POST", "/api/v1/calls/live-mum/end", nil, csrf(son), ""); code != http.StatusConflict || !strings.Contains(body, "this call has already ended: son ended it") {
		t.Errorf("ending it again: %d %s", code, body)
	}
	if code, body := son.Do("POST", "/api/v1/calls/call-mum/end", nil, csrf(son), ""); code != http.StatusConflict || !strings.Contains(body, "already ended: the caller hung up at") {
		t.Errorf("ending a call from the record: %d %s", code, body)
	}
	if code, _ := son.Do("POST", "/api/v1/calls/no-such-call/end", nil, csrf(son), ""); code != http.StatusNotFound {
		t.Errorf("ending a call that never was: %d", code)
	}
	_, body = son.Do("GET", "/api/v1/live", nil, nil, "")
	if strings.Contains(body, "live-mum") {
		t.Errorf("the ended call is still live: %s", body)
	}
}

// The live event stream sends the viewer's calls in progress at once, and again when a
// call starts.
func TestLiveEventStream(t *testing.T) {
	r, f := webtest.LiveRig(t)
	son := r.Client()
	son.Login("son@example.org")
	req, _ := http.NewRequest("GET", r.Srv.URL+"/api/v1/live/events", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := son.HTTP.Do(req.WithContext(ctx))
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
	f.Add(call.Call{ID: "new", Household: "mum", Direction: call.Inbound, StartedAt: time.Now()})
	f.Add(call.Call{ID: "new-gran", Household: "gran", Direction: call.Inbound, StartedAt: time.Now()})
	if l := next(); len(l.Calls) != 3 {
		t.Errorf("after a call started: %+v", l)
	}
}

// Without a guard in the process (the hub alone) there is no Calls now.
func TestNoLiveCallsWithoutAGuard(t *testing.T) {
	r := webtest.NewRig(t)
	son := r.Client()
	son.Login("son@example.org")
	if _, today := son.Do("GET", "/", nil, nil, ""); strings.Contains(today, `href="/live"`) || strings.Contains(today, "going on now") {
		t.Errorf("Today offers live calls without a guard")
	}
	if code, _ := son.Do("GET", "/api/v1/live", nil, nil, ""); code != http.StatusNotFound {
		t.Errorf("GET /api/v1/live without a guard: %d", code)
	}
}
