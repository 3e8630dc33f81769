package analyst_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/web/analyst"
	"github.com/clearline/clearline/internal/web/site"
	"github.com/clearline/clearline/internal/web/webtest"
)

func count(t *testing.T, h *hub.Hub) int {
	n, err := h.Store().CountReports(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The public report form names each bad answer next to its field and stores nothing; a
// good report is stored and its reference shown.
func TestReportFormRefusesBadValuesAndStoresNothing(t *testing.T) {
	r, h := webtest.NewHubRig(t)
	c := r.Client()
	code, page := c.Do("GET", "/report", nil, nil, "")
	if code != http.StatusOK || !strings.Contains(page, `name="badge_number"`) {
		t.Fatalf("report form: %d", code)
	}
	bad := url.Values{"reporter": {"relative"}, "contact": {"call"}, "when": {"yesterday"}, "district": {""}, "number": {"not a number"},
		"claimed": {"police"}, "loss": {"-5"}, "words": {strings.Repeat("x", 4001)}}
	code, page = c.Do("POST", "/report", bad, nil, "")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad report answered %d", code)
	}
	for _, field := range []string{"when", "district", "number", "loss", "words"} {
		if !strings.Contains(page, `id="`+field+`-error"`) {
			t.Errorf("no error shown next to %s", field)
		}
	}
	if !strings.Contains(page, "not a number") {
		t.Error("the typed number was not kept in the form")
	}
	if n := count(t, h); n != 0 {
		t.Fatalf("%d reports stored from a refused form", n)
	}
	good := url.Values{"reporter": {"relative"}, "contact": {"doorstep"}, "when": {time.Now().In(site.London).Add(-time.Hour).Format("2006-01-02T15:04")},
		"district": {"Test Valley"}, "claimed": {"police"}, "officer": {"DC Price"}, "force": {"Hampshire Constabulary"},
		"asked_for": {"her bank cards"}, "loss": {"£1,250.50"}, "words": {"A man in a suit came for Mum's cards"}}
	code, page = c.Do("POST", "/report", good, nil, "")
	if code != http.StatusCreated || !strings.Contains(page, `id="report-id">p-`) {
		t.Fatalf("good report answered %d:\n%s", code, page)
	}
	if n := count(t, h); n != 1 {
		t.Fatalf("%d reports stored; want 1", n)
	}
}

func TestReportAPI(t *testing.T) {
	r, h := webtest.NewHubRig(t)
	c := r.Client()
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	code, body := c.Do("POST", "/api/v1/reports", nil, nil, `{"at":"`+at+`","district":"Winchester","contact":"call","number":"01632 960555","claimed":"police"}`)
	var made struct{ ID string }
	if json.Unmarshal([]byte(body), &made); code != http.StatusCreated || !strings.HasPrefix(made.ID, "p-") {
		t.Fatalf("report without an ID: %d %s", code, body)
	}
	withID := `{"id":"handler-101-7781","reporter":"call-handler","at":"` + at + `","district":"Winchester","contact":"call","number":"01632 960555"}`
	if code, body = c.Do("POST", "/api/v1/reports", nil, nil, withID); code != http.StatusCreated {
		t.Fatalf("report with an ID: %d %s", code, body)
	}
	var again struct{ Duplicate bool }
	if code, body = c.Do("POST", "/api/v1/reports", nil, nil, withID); json.Unmarshal([]byte(body), &again) != nil || code != http.StatusOK || !again.Duplicate {
		t.Fatalf("the same report again: %d %s", code, body)
	}
	for name, tc := range map[string]struct{ body, field string }{
		"wrong type":   {`{"at":"` + at + `","district":"Winchester","contact":"call","number":"01632 960555","loss_pence":"lots"}`, "loss_pence"},
		"missing":      {`{"contact":"call","number":"01632 960555"}`, "district"},
		"oversized":    {`{"at":"` + at + `","district":"Winchester","contact":"call","words":"` + strings.Repeat("w", 5000) + `"}`, "words"},
		"from a guard": {`{"source":"guard","at":"` + at + `","district":"Winchester","contact":"call","number":"01632 960555"}`, "source"},
		"not JSON":     {`{"district":`, "report"},
	} {
		code, body := c.Do("POST", "/api/v1/reports", nil, nil, tc.body)
		var res struct {
			Fields map[string]string
		}
		_ = json.Unmarshal([]byte(body), &res)
		if code != http.StatusUnprocessableEntity || res.Fields[tc.field] == "" {
			t.Errorf("%s: %d %s; want 422 naming %s", name, code, body, tc.field)
		}
	}
	if n := count(t, h); n != 2 {
		t.Errorf("%d reports stored; want the 2 good ones", n)
	}
}

// Analysts see campaigns, their spread and reports, export them, confirm numbers and send
// alerts; guardians cannot reach any of it.
func TestAnalystPages(t *testing.T) {
	r, h := webtest.NewHubRig(t)
	ctx := context.Background()
	base := time.Now().UTC().Add(-48 * time.Hour)
	for i, d := range []string{"Winchester", "Winchester", "Test Valley", "Eastleigh"} {
		rep := hub.Report{V: 1, ID: "r" + webtest.Itoa(int64(i)), Source: hub.FromPerson, At: base.Add(time.Duration(i) * 12 * time.Hour), District: d,
			Contact: "call", Number: "+441632960555", Verdict: "reported", Claimed: "police", Words: "=HYPERLINK(\"http://evil\")", LossPence: 1000,
			BadgeNumber: "4721"}
		if _, err := h.Submit(ctx, rep); err != nil {
			t.Fatal(err)
		}
	}
	_ = h.Refresh(ctx)
	cs := h.Campaigns()
	if len(cs) != 1 {
		t.Fatalf("%d campaigns", len(cs))
	}
	id := cs[0].ID

	g := r.Client()
	g.Login("son@example.org")
	for _, p := range []string{"/hub", "/hub/campaigns/" + id, "/hub/campaigns/" + id + "/reports.csv", "/api/v1/hub/campaigns"} {
		if code, _ := g.Do("GET", p, nil, nil, ""); code != http.StatusNotFound {
			t.Errorf("guardian GET %s = %d; want 404", p, code)
		}
	}

	a := r.Client()
	a.Login("analyst@example.org")
	if code, _ := a.Do("GET", "/", nil, nil, ""); code != http.StatusSeeOther {
		t.Errorf("analyst's home = %d; want a redirect to /hub", code)
	}
	code, page := a.Do("GET", "/hub", nil, nil, "")
	if code != http.StatusOK || !strings.Contains(page, `href="/hub/campaigns/`+id+`"`) || !strings.Contains(page, "<td>4721</td>") {
		t.Fatalf("/hub: %d, or the fake ID number in use is not shown", code)
	}
	code, page = a.Do("GET", "/hub/campaigns/"+id, nil, nil, "")
	if code != http.StatusOK {
		t.Fatalf("campaign page: %d", code)
	}
	for _, want := range []string{`class="chart map"`, `tile hit stage1`, "Reports per district per day", "Test Valley", "£40.00", "441632960555", "Confirm: block these numbers",
		`ID number <strong class="id-number">4721</strong>`} {
		if !strings.Contains(page, want) {
			t.Errorf("campaign page lacks %q", want)
		}
	}
	code, csvBody := a.Do("GET", "/hub/campaigns/"+id+"/reports.csv", nil, nil, "")
	rows, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if code != http.StatusOK || err != nil || len(rows) != 5 || rows[0][1] != "report_id" {
		t.Fatalf("CSV: %d, %v, %d rows", code, err, len(rows))
	}
	if rows[1][5] != "+441632960555" || !strings.HasPrefix(rows[1][16], "'=") || rows[1][11] != "10.00" {
		t.Errorf("CSV row = %q (numbers kept, formulas defused, loss in pounds)", rows[1])
	}

	// A bad alert is refused next to its field and sends nothing.
	code, page = a.Do("POST", "/hub/alerts", url.Values{"csrf": {a.CSRF}, "campaign": {id}, "title": {"Fake police"}, "body": {" "}, "districts": {"Winchester"}}, nil, "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="body-error"`) {
		t.Errorf("empty alert body: %d", code)
	}
	if as, _ := h.Store().Alerts(ctx, 10); len(as) != 0 {
		t.Errorf("a refused alert was recorded: %+v", as)
	}
	code, _ = a.Do("POST", "/hub/alerts", url.Values{"csrf": {a.CSRF}, "campaign": {id}, "title": {"Fake police"}, "body": {"Hang up."}, "districts": {"Winchester\nTest Valley"}}, nil, "")
	if code != http.StatusSeeOther {
		t.Errorf("good alert: %d", code)
	}
	if as, _ := h.Store().Alerts(ctx, 10); len(as) != 1 || len(as[0].Districts) != 2 {
		t.Errorf("alerts recorded: %+v", as)
	}
	if code, _ = a.Do("POST", "/hub/campaigns/"+id+"/confirm", url.Values{"csrf": {a.CSRF}}, nil, ""); code != http.StatusSeeOther {
		t.Errorf("confirm: %d", code)
	}
	if bs, _ := h.Store().Blocks(ctx); len(bs) != 1 || bs[0].By != "Ann Analyst" {
		t.Errorf("block-list after confirming: %+v", bs)
	}
	// A number that turns out to be innocent's comes off again.
	if code, _ = a.Do("POST", "/hub/blocklist/remove", url.Values{"csrf": {a.CSRF}, "number": {"01632 960555"}}, nil, ""); code != http.StatusSeeOther {
		t.Errorf("remove: %d", code)
	}
	if bs, _ := h.Store().Blocks(ctx); len(bs) != 0 {
		t.Errorf("block-list after removing: %+v", bs)
	}
	if code, _ = g.Do("POST", "/hub/blocklist/remove", url.Values{"csrf": {g.CSRF}, "number": {"01632 960555"}}, nil, ""); code != http.StatusNotFound {
		t.Errorf("a guardian removing from the shared block-list: %d", code)
	}
	// The operator's token reads but does not confirm.
	code, _ = a.Do("POST", "/api/v1/hub/campaigns/"+id+"/confirm", nil, map[string]string{"Authorization": "Bearer operator-token"}, "")
	if code != http.StatusForbidden {
		t.Errorf("operator token confirming: %d", code)
	}
}

// Anonymous reports from one address are limited; logged-in users and the operator's
// token are not.
func TestReportsAreRateLimited(t *testing.T) {
	r, h := webtest.NewHubRig(t)
	c := r.Client()
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	body := `{"at":"` + at + `","district":"Winchester","contact":"call","number":"01632 960555"}`
	created, limited := 0, 0
	for range analyst.ReportBurst + 5 {
		switch code, _ := c.Do("POST", "/api/v1/reports", nil, nil, body); code {
		case http.StatusCreated:
			created++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("answer %d", code)
		}
	}
	if created != analyst.ReportBurst || limited != 5 {
		t.Errorf("%d created and %d limited; want %d and 5", created, limited, analyst.ReportBurst)
	}
	if code, _ := c.Do("POST", "/report", url.Values{"district": {"Winchester"}}, nil, ""); code != http.StatusTooManyRequests {
		t.Errorf("the form after the limit: %d", code)
	}
	if code, _ := c.Do("POST", "/api/v1/reports", nil, map[string]string{"Authorization": "Bearer operator-token"}, body); code != http.StatusCreated {
		t.Errorf("the operator's token was limited: %d", code)
	}
	if n := count(t, h); n != analyst.ReportBurst+1 {
		t.Errorf("%d stored; want %d", n, analyst.ReportBurst+1)
	}
}
