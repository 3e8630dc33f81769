package hub_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
)

// One guard serving several households: each call's report names its own household's
// district (none without one), and a community alert reaches the households in its district
// and no others — including a household that moved there while the guard ran.
func TestOneGuardManyHouseholds(t *testing.T) {
	ctx := context.Background()
	n := startNATS(t, 1)
	h := startHub(t, connect(t, n, "hub"), sqliteHubStore(t), 1)
	db, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var mu sync.Mutex
	districts := map[string]string{"mum": "Winchester", "dad": "Test Valley", "aunt": ""}
	hash, _ := dash.HashPassword("a long enough password")
	for id := range districts {
		if _, err := db.EnsureHousehold(ctx, dash.Household{ID: id, Name: id, Settings: dash.DefaultSettings()}); err != nil {
			t.Fatal(err)
		}
		u, err := db.CreateUser(ctx, dash.User{Email: id + "@family.example", Name: "Carer of " + id, Role: dash.Guardian}, hash)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetGuardian(ctx, u.ID, id, true); err != nil {
			t.Fatal(err)
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	l := hub.NewLink(hub.LinkOptions{JS: connect(t, n, "guard"), Outbox: db, Alerts: db, GuardID: "g-many",
		Households: func() map[string]string {
			mu.Lock()
			defer mu.Unlock()
			out := map[string]string{}
			for k, v := range districts {
				out[k] = v
			}
			return out
		}})
	go func() { l.Run(lctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	at := time.Now().UTC().Add(-time.Hour)
	for _, c := range []call.Call{
		{ID: "m1", Household: "mum", Direction: call.Inbound, From: "sip:+441632960555@trunk", StartedAt: at, EndedAt: at.Add(time.Minute),
			Outcome: call.Completed, Verdict: "warn", Rule: "display-name", Reasons: []string{`the caller's name says "Police", as if from the police`}},
		{ID: "a1", Household: "aunt", Direction: call.Inbound, From: "sip:+441632960555@trunk", StartedAt: at, EndedAt: at.Add(time.Minute),
			Outcome: call.Completed, Verdict: "warn", Rule: "display-name", Reasons: []string{`the caller's name says "Police", as if from the police`}},
	} {
		if err := db.Write(ctx, store.Batch{Events: []call.Event{{CallID: c.ID, Kind: call.CallEnded, At: c.EndedAt, Call: c}}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "mum's report", func() bool {
		rs, _ := h.Store().Reports(ctx, []string{"call-m1"})
		return len(rs) == 1
	})
	rs, _ := h.Store().Reports(ctx, []string{"call-m1", "call-a1"})
	if len(rs) != 1 || rs[0].District != "Winchester" {
		t.Errorf("reports %+v; want mum's only, from Winchester (aunt has no district)", rs)
	}

	alerts := func(id string) int {
		as, err := db.Alerts(ctx, []string{id}, false, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(as)
	}
	if _, err := h.SendAlert(ctx, hub.CommunityAlert{Districts: []string{"Test Valley"}, Title: "Fake bank calls", Body: "Hang up.", By: "Analyst"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "dad's alert", func() bool { return alerts("dad") == 1 })
	time.Sleep(300 * time.Millisecond)
	if alerts("mum") != 0 || alerts("aunt") != 0 {
		t.Errorf("a Test Valley alert reached mum (%d) or aunt (%d)", alerts("mum"), alerts("aunt"))
	}

	mu.Lock()
	districts["aunt"] = "Winchester"
	mu.Unlock()
	time.Sleep(300 * time.Millisecond) // the link subscribes afresh
	if _, err := h.SendAlert(ctx, hub.CommunityAlert{Districts: []string{"Winchester"}, Title: "Fake police calls", Body: "Hang up.", By: "Analyst"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the Winchester alert at mum's and aunt's", func() bool { return alerts("mum") == 1 && alerts("aunt") == 1 })
	if alerts("dad") != 1 {
		t.Errorf("dad has %d alerts; want only Test Valley's", alerts("dad"))
	}
}
