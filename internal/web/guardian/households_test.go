package guardian_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/webtest"
)

// The list of households puts the one at most risk today first, and shows each viewer only
// their own; the API gives the same list with ?sort=risk.
func TestHouseholdsByRisk(t *testing.T) {
	r := webtest.NewRig(t)
	ctx := context.Background()
	if _, err := r.DB.CreateHousehold(ctx, dash.Household{ID: "aunt", Name: "Aardvark Lane", Numbers: []string{"+442079460400"}, District: "Winchester", Settings: dash.DefaultSettings()}); err != nil {
		t.Fatal(err)
	}
	admin := r.Client()
	admin.Login("admin@example.org")
	code, page := admin.Do("GET", "/households", nil, nil, "")
	if code != http.StatusOK {
		t.Fatalf("households page: %d", code)
	}
	// mum has an open alert and a 95% call; gran a blocked call; aunt (first by name) nothing.
	mum, gran, aunt := strings.Index(page, "Mum&#39;s house"), strings.Index(page, "Gran&#39;s flat"), strings.Index(page, "Aardvark Lane")
	if mum < 0 || gran < 0 || aunt < 0 || !(mum < gran && gran < aunt) {
		t.Errorf("order mum %d, gran %d, aunt %d; want mum, gran, aunt\n%s", mum, gran, aunt, page)
	}
	if !strings.Contains(page, "442079460400") || !strings.Contains(page, "Winchester") || !strings.Contains(page, "95%") {
		t.Errorf("the page lacks aunt's number and district or mum's risk:\n%s", page)
	}
	son := r.Client()
	son.Login("son@example.org")
	if _, page := son.Do("GET", "/households", nil, nil, ""); !strings.Contains(page, "Mum&#39;s house") || strings.Contains(page, "Gran") || strings.Contains(page, "Aardvark") {
		t.Errorf("the son's list shows another household:\n%s", page)
	}
	_, body := admin.Do("GET", "/api/v1/households?sort=risk", nil, nil, "")
	var list struct {
		Households []struct {
			ID    string
			Today dash.Standing
		}
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Households) != 3 || list.Households[0].ID != "mum" || list.Households[0].Today.OpenAlerts != 1 || list.Households[0].Today.Risk != 0.95 || list.Households[1].Today.Blocked != 1 {
		t.Errorf("API list %s", body)
	}
	if code, body := admin.Do("GET", "/api/v1/households?sort=name", nil, nil, ""); code != http.StatusBadRequest || !strings.Contains(body, "sort") {
		t.Errorf("an unknown sort: %d %s", code, body)
	}
}

// Looking after more households than fit at a glance, Today shows the ones at most risk and
// points to the list of them all.
func TestTodayWithManyHouseholds(t *testing.T) {
	r := webtest.NewRig(t)
	ctx := context.Background()
	for i := range 20 {
		if _, err := r.DB.CreateHousehold(ctx, dash.Household{ID: fmt.Sprintf("home-%02d", i), Name: fmt.Sprintf("A home %02d", i), Numbers: []string{fmt.Sprintf("+4420300000%02d", i)}, Settings: dash.DefaultSettings()}); err != nil {
			t.Fatal(err)
		}
	}
	admin := r.Client()
	admin.Login("admin@example.org")
	code, page := admin.Do("GET", "/", nil, nil, "")
	if code != http.StatusOK || !strings.Contains(page, "You look after 22 households: here are the 12 at most risk today") || !strings.Contains(page, `href="/households"`) {
		t.Fatalf("Today: %d\n%s", code, page)
	}
	if !strings.Contains(page, "Mum&#39;s house") || !strings.Contains(page, "Gran&#39;s flat") || strings.Count(page, `<section class="card">`) != 12 {
		t.Errorf("Today shows %d households; want the 12 at most risk, mum's and gran's among them", strings.Count(page, `<section class="card">`))
	}
	// The list, a hundred to a page.
	for i := 20; i < 110; i++ {
		if _, err := r.DB.CreateHousehold(ctx, dash.Household{ID: fmt.Sprintf("home-%03d", i), Name: fmt.Sprintf("B home %03d", i), Numbers: []string{fmt.Sprintf("+442030000%03d", i)}, Settings: dash.DefaultSettings()}); err != nil {
			t.Fatal(err)
		}
	}
	_, first := admin.Do("GET", "/households", nil, nil, "")
	_, second := admin.Do("GET", "/households?page=2", nil, nil, "")
	if strings.Count(first, "<tr") != 101 || strings.Count(second, "<tr") != 13 || !strings.Contains(first, "These are 1–100") || !strings.Contains(second, "These are 101–112") ||
		!strings.Contains(first, `href="/households?page=2"`) || !strings.Contains(second, `href="/households?page=1"`) || strings.Index(first, "Mum&#39;s house") < 0 {
		t.Errorf("pages of the list:\n%s\n%s", first, second)
	}
	for _, p := range []string{"/households?page=3", "/households?page=0", "/households?page=x"} {
		if code, _ := admin.Do("GET", p, nil, nil, ""); code != http.StatusNotFound && code != http.StatusBadRequest {
			t.Errorf("%s: %d", p, code)
		}
	}
}

// BenchmarkListPages is what the lists of households cost an admin with 10,000 households
// in the store (SQLite), one in ten with calls today: the households page, Today (the 12
// at most risk), and the API's list by risk.
func BenchmarkListPages(b *testing.B) {
	r := webtest.NewRig(b)
	ctx := context.Background()
	now := time.Now().UTC()
	var evs []call.Event
	for i := range 10000 {
		id := fmt.Sprintf("home-%05d", i)
		if _, err := r.DB.CreateHousehold(ctx, dash.Household{ID: id, Name: "Home " + id, Numbers: []string{fmt.Sprintf("+4420300%05d", i)}, Settings: dash.DefaultSettings()}); err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 {
			c := call.Call{ID: "c-" + id, Household: id, Direction: call.Inbound, From: "sip:+442085550123@trunk", StartedAt: now, EndedAt: now,
				Outcome: call.Completed, Verdict: "warn", Risk: &call.Risk{Level: float64(i%100) / 100}}
			evs = append(evs, call.Event{CallID: c.ID, Kind: call.CallEnded, At: now, Call: c})
		}
	}
	if err := r.DB.Write(ctx, store.Batch{Events: evs}); err != nil {
		b.Fatal(err)
	}
	admin := r.Client()
	admin.Login("admin@example.org")
	for _, p := range []struct{ name, path string }{{"households", "/households"}, {"today", "/"}, {"api-by-risk", "/api/v1/households?sort=risk"}} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if code, _ := admin.Do("GET", p.path, nil, nil, ""); code != http.StatusOK {
					b.Fatalf("%s: %d", p.path, code)
				}
			}
		})
	}
}
