package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
)

// Households with their numbers and phones: each number and each phone's user name is one
// household's, and a refused household or phone leaves nothing behind.
func TestHouseholdsNumbersAndPhones(t *testing.T) { eachBackend(t, testHouseholdsNumbersAndPhones) }

func testHouseholdsNumbersAndPhones(t *testing.T, pl place) {
	s := pl.open(t)
	ctx := context.Background()
	mum, err := s.CreateHousehold(ctx, dash.Household{ID: "mum", Name: "Mum's house", Numbers: []string{"+442079460100"}, District: "Winchester", Settings: dash.DefaultSettings()})
	if err != nil {
		t.Fatal(err)
	}
	if len(mum.Numbers) != 1 || mum.Numbers[0] != "+442079460100" || mum.District != "Winchester" {
		t.Fatalf("created %+v", mum)
	}
	if _, err := s.CreateHousehold(ctx, dash.Household{ID: "mum", Name: "Again"}); !errors.Is(err, dash.ErrExists) {
		t.Errorf("the same id twice: %v; want ErrExists", err)
	}
	_, err = s.CreateHousehold(ctx, dash.Household{ID: "dad", Name: "Dad's flat", Numbers: []string{"+442079460200", "+442079460100"}})
	if !errors.Is(err, dash.ErrExists) {
		t.Fatalf("a number already mum's: %v; want ErrExists", err)
	}
	if _, err := s.Household(ctx, "dad"); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("the refused household was stored: %v", err)
	}
	if _, err := s.CreateHousehold(ctx, dash.Household{ID: "dad", Name: "Dad's flat", Numbers: []string{"+442079460200"}}); err != nil {
		t.Fatalf("the number the refused household would have had is still free: %v", err)
	}
	hs, err := s.Households(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].ID != "dad" || len(hs[0].Numbers) != 1 || hs[0].Numbers[0] != "+442079460200" || hs[1].Numbers[0] != "+442079460100" {
		t.Errorf("households %+v", hs)
	}

	if _, err := s.AddPhone(ctx, dash.Phone{User: "mum-hall", Household: "mum", Password: "pw1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddPhone(ctx, dash.Phone{User: "dad-kitchen", Household: "dad", Password: "pw2", Contact: "sip:dad@192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddPhone(ctx, dash.Phone{User: "mum-hall", Household: "dad", Password: "pw3"}); !errors.Is(err, dash.ErrExists) {
		t.Errorf("a user name taken in another household: %v; want ErrExists", err)
	}
	if _, err := s.AddPhone(ctx, dash.Phone{User: "x", Household: "nobody", Password: "pw"}); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("a phone for no household: %v; want ErrNotFound", err)
	}
	all, err := s.Phones(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].User != "dad-kitchen" || all[0].Contact != "sip:dad@192.0.2.7" || all[1].User != "mum-hall" || all[1].Password != "pw1" {
		t.Errorf("every phone: %+v", all)
	}
	mine, err := s.Phones(ctx, "mum")
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 1 || mine[0].User != "mum-hall" || mine[0].Household != "mum" {
		t.Errorf("mum's phones: %+v", mine)
	}
}

// Standings sum each household's calls since a time, for the list of households by risk.
func TestStandings(t *testing.T) { eachBackend(t, testStandings) }

func testStandings(t *testing.T, pl place) {
	s := pl.open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	calls := []call.Call{
		{ID: "m1", Household: "mum", Direction: call.Inbound, StartedAt: now, Outcome: call.Blocked, Verdict: "block"},
		{ID: "m2", Household: "mum", Direction: call.Inbound, StartedAt: now, Outcome: call.Completed, Verdict: "warn", Risk: &call.Risk{Level: 0.9, Verdict: "scam"}},
		{ID: "d1", Household: "dad", Direction: call.Inbound, StartedAt: now.Add(-48 * time.Hour), Outcome: call.Completed, Verdict: "allow", Risk: &call.Risk{Level: 0.95}},
		{ID: "d2", Household: "dad", Direction: call.Outbound, StartedAt: now, Outcome: call.Completed},
	}
	for _, c := range calls {
		if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: c.ID, Kind: call.CallEnded, At: now, Call: c}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: "m2", Kind: call.CallAlert, At: now, Call: calls[1]}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeAlerts(ctx, "alerts", func(seq int64, kind, household, id string, _ []byte) (*dash.Alert, bool) {
		return &dash.Alert{HouseholdID: household, CallID: id, At: now, Title: "t", Body: "b"}, kind == "call.alert"
	}, func(string) ([]dash.User, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Standings(ctx, nil, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if m := got["mum"]; m.Calls != 2 || m.Blocked != 1 || m.Warned != 1 || m.Risk != 0.9 || m.OpenAlerts != 1 {
		t.Errorf("mum %+v", m)
	}
	if d := got["dad"]; d.Calls != 1 || d.Risk != 0 {
		t.Errorf("dad %+v: yesterday's risky call counted", d)
	}
	only, err := s.Standings(ctx, []string{"dad"}, now.Add(-time.Hour))
	if err != nil || len(only) != 1 || only["dad"].OpenAlerts != 0 {
		t.Errorf("dad's only: %+v %v", only, err)
	}
	if none, err := s.Standings(ctx, []string{}, now.Add(-time.Hour)); err != nil || len(none) != 0 {
		t.Errorf("no households: %+v %v", none, err)
	}
}
