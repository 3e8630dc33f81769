package webtest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/web"
)

// FakeLive stands in for the guard's calls in progress (the real one is driven end to end
// with SIPp in e2e/live_test.go). End behaves as the guard's: a connected call ends, with
// who ended it; a ringing one is not connected yet; an ended one says so.
type FakeLive struct {
	mu    sync.Mutex
	calls map[string]call.Call
	Ends  []string // who ended what, "id by who"
}

func (f *FakeLive) Live() []call.Call {
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

func (f *FakeLive) Call(id string) (call.Call, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[id]
	return c, ok
}

func (f *FakeLive) End(_ context.Context, id, who string) (call.Call, error) {
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
	f.Ends = append(f.Ends, id+" by "+who)
	reply := c
	c.EndedAt, c.Outcome = now, call.Completed // the resident has heard why
	f.calls[id] = c
	return reply, nil
}

// Add puts a call in progress.
func (f *FakeLive) Add(c call.Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[c.ID] = c
}

// LiveRig is NewRig's dashboard with a guard whose calls in progress are: a warned call to
// mum's house that sounds like a scam, a call to gran's flat, and one to mum's still ringing.
func LiveRig(t *testing.T) (*Rig, *FakeLive) {
	r := NewRig(t)
	now := time.Now().UTC()
	f := &FakeLive{calls: map[string]call.Call{
		"live-mum": {ID: "live-mum", Household: "mum", Direction: call.Inbound, From: "sip:+442085550177@trunk", To: "sip:kitchen@guard",
			StartedAt: now.Add(-95 * time.Second), AnsweredAt: now.Add(-90 * time.Second), Verdict: "warn", Reasons: []string{`the caller's name says "Police"`},
			Risk: &call.Risk{Analyser: "pocketsphinx/domain", Level: 0.8, Verdict: "scam", Timeline: []call.RiskPoint{{T: 30, Risk: 0.8, Text: "withdraw the cash"}},
				Indicators: []call.Finding{{Kind: "cash_withdrawal", Evidence: "withdraw the cash", T: 30}}},
			Legs: []call.Leg{{Side: call.Trunk, Peer: "127.0.0.2:5060"}, {Side: call.Household, Peer: "127.0.0.1:5062"}}},
		"live-gran": {ID: "live-gran", Household: "gran", Direction: call.Inbound, From: "sip:+442085550111@trunk", StartedAt: now, AnsweredAt: now, Verdict: "allow"},
		"ringing":   {ID: "ringing", Household: "mum", Direction: call.Inbound, From: "sip:+442085550188@trunk", StartedAt: now},
	}}
	r.Srv.Close()
	r.Srv = httptest.NewServer(web.New(r.DB, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		web.Options{Dash: r.DB, APIToken: "operator-token", Live: f}))
	t.Cleanup(r.Srv.Close)
	return r, f
}
