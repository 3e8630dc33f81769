package hub_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/hub"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

const goodReport = `{"v":1,"id":"p-1","source":"person","reporter":"relative","at":"2026-11-24T10:00:00Z","district":"Winchester",
"contact":"call","number":"01632 960123","verdict":"reported","claimed":"Police","officer":"DS Miller","force":"Hampshire",
"badge_number":"4471","asked_for":"cash as evidence","loss_pence":250000,"words":"He said my account was compromised"}`

func TestParseReportAcceptsAGoodReport(t *testing.T) {
	r, err := hub.ParseReport([]byte(goodReport), now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Number != "+441632960123" || r.Claimed != "police" || r.LossPence != 250000 || r.District != "Winchester" {
		t.Errorf("report read as %+v", r)
	}
}

// Each bad report is refused with the field named and what is wrong with it.
func TestParseReportRefusesBadReports(t *testing.T) {
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(goodReport), &m)
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	cases := []struct {
		name, body, field, says string
	}{
		{"not JSON", `{"v":1,`, "report", "not valid"},
		{"two values", goodReport + goodReport, "report", "more than one"},
		{"wrong type", edit(func(m map[string]any) { m["loss_pence"] = "lots" }), "loss_pence", "must be a whole number, not string"},
		{"wrong list", edit(func(m map[string]any) { m["indicators"] = "cash" }), "indicators", "must be a list of text"},
		{"unknown field", edit(func(m map[string]any) { m["resident_name"] = "Edna" }), "report", "resident_name"},
		{"version", edit(func(m map[string]any) { m["v"] = 2 }), "v", "version 2"},
		{"no id", edit(func(m map[string]any) { delete(m, "id") }), "id", "required"},
		{"odd id", edit(func(m map[string]any) { m["id"] = `a"/b` }), "id", "only letters, digits"},
		{"no district", edit(func(m map[string]any) { m["district"] = "  " }), "district", "required"},
		{"no time", edit(func(m map[string]any) { delete(m, "at") }), "at", "required"},
		{"future", edit(func(m map[string]any) { m["at"] = "2026-12-25T10:00:00Z" }), "at", "future"},
		{"ancient", edit(func(m map[string]any) { m["at"] = "2020-01-01T10:00:00Z" }), "at", "more than a year"},
		{"bad number", edit(func(m map[string]any) { m["number"] = "call me maybe" }), "number", "not a phone number"},
		{"bad source", edit(func(m map[string]any) { m["source"] = "rumour" }), "source", "not one of"},
		{"bad contact", edit(func(m map[string]any) { m["contact"] = "letter" }), "contact", "not one of"},
		{"bad indicator", edit(func(m map[string]any) { m["indicators"] = []string{"aliens"} }), "indicators[0]", "aliens"},
		{"oversized words", edit(func(m map[string]any) { m["words"] = strings.Repeat("w", 4001) }), "words", "at most 4000"},
		{"oversized body", `{"words":"` + strings.Repeat("w", 17000) + `"}`, "report", "bytes"},
		{"negative loss", edit(func(m map[string]any) { m["loss_pence"] = -5 }), "loss_pence", "not an amount"},
		{"doorstep number", edit(func(m map[string]any) { m["contact"] = "doorstep" }), "number", "doorstep"},
		{"nothing said", edit(func(m map[string]any) { delete(m, "number"); delete(m, "words") }), "words", "say what happened"},
		{"bad claim kind", edit(func(m map[string]any) { m["claim_kind"] = "spies" }), "claim_kind", "not one of"},
		{"ID number without digits", edit(func(m map[string]any) { m["badge_number"] = "wouldn't say" }), "badge_number", "no ID number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := hub.ParseReport([]byte(c.body), now)
			if err == nil {
				t.Fatal("accepted")
			}
			var fe hub.FieldError
			found := false
			for _, e := range unwrap(err) {
				if errors.As(e, &fe) && fe.Field == c.field && strings.Contains(fe.Problem, c.says) {
					found = true
				}
			}
			if !found {
				t.Errorf("error %q does not name %s with %q", err, c.field, c.says)
			}
		})
	}
}

func unwrap(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestDistrictToken(t *testing.T) {
	for in, want := range map[string]string{"Test Valley": "test-valley", " Basingstoke and Deane ": "basingstoke-and-deane",
		"St. Albans": "st-albans", "Isle of Wight!": "isle-of-wight", "--": ""} {
		if got := hub.DistrictToken(in); got != want {
			t.Errorf("DistrictToken(%q) = %q; want %q", in, got, want)
		}
	}
}

func endedCall(id, from, verdict, rule string, risk *call.Risk) call.Event {
	c := call.Call{ID: id, Household: "mum-house", Direction: call.Inbound, From: from, To: "sip:kitchen@guard",
		StartedAt: now, EndedAt: now.Add(time.Minute), Verdict: verdict, Rule: rule, Reasons: []string{"the caller's name says \"Met Police\""}, Risk: risk}
	return call.Event{Seq: 1, CallID: id, Kind: call.CallEnded, At: c.EndedAt, Call: c}
}

// What a guard reports, and what it keeps to itself.
func TestReportFor(t *testing.T) {
	risk := &call.Risk{Level: 0.97, Verdict: "scam", Timeline: []call.RiskPoint{{Text: "this is detective miller"}},
		Indicators: []call.Finding{{Kind: "authority_claim", Evidence: "detective miller"}, {Kind: "cash_withdrawal", Evidence: "withdraw"}}}
	r, ok := hub.ReportFor(endedCall("c1", "sip:+441632960555@trunk", "warn", "display-name", nil), "Winchester", false)
	if !ok || r.Number != "+441632960555" || r.Verdict != "warn" || r.Claimed != "police" || r.ID != "call-c1" || r.District != "Winchester" {
		t.Fatalf("spoofed police name: %+v, %v", r, ok)
	}
	if err := r.Check(now); err != nil {
		t.Errorf("a guard's report fails its own check: %v", err)
	}
	body, _ := json.Marshal(r)
	if strings.Contains(string(body), "mum-house") || strings.Contains(string(body), "kitchen") {
		t.Errorf("the report carries the household's identity: %s", body)
	}
	r, ok = hub.ReportFor(endedCall("c2", "sip:+441632960555@trunk", "allow", "", risk), "Winchester", false)
	if !ok || r.Verdict != "scam" || len(r.Indicators) != 2 || r.Words != "" {
		t.Fatalf("risky call: %+v, %v (words must stay home without opt-in)", r, ok)
	}
	if r, _ = hub.ReportFor(endedCall("c2", "sip:+441632960555@trunk", "allow", "", risk), "Winchester", true); r.Words != "this is detective miller" {
		t.Errorf("opted-in words = %q", r.Words)
	}
	for name, ev := range map[string]call.Event{
		"household's own block-list": endedCall("c3", "sip:+441632960555@trunk", "block", "household-block-list", nil),
		"quiet hours":                endedCall("c4", "sip:+441632960555@trunk", "block", "quiet-hours", nil),
		"ordinary call":              endedCall("c5", "sip:+441632960555@trunk", "allow", "", &call.Risk{Verdict: "ok"}),
	} {
		if r, ok := hub.ReportFor(ev, "Winchester", false); ok {
			t.Errorf("%s reported: %+v", name, r)
		}
	}
	if _, ok := hub.ReportFor(endedCall("c6", "sip:+441632960555@trunk", "warn", "display-name", nil), "", false); ok {
		t.Error("reported without a district")
	}
}

// A caller the guard asked who they were, who claimed an authority, is reported with the
// organisation and the ID number they gave, whatever else screening thought of the call.
func TestReportForAskedCaller(t *testing.T) {
	ev := endedCall("c7", "sip:+441632960556@trunk", "allow", "", nil)
	ev.Call.Reasons = nil
	ev.Call.Claim = &call.Claim{Kind: "police", Organisation: "Metropolitan Police", IDNumber: "4721", Answered: true, Choice: "ring_police"}
	r, ok := hub.ReportFor(ev, "Winchester", false)
	if !ok || r.Verdict != "screen" || r.ClaimKind != "police" || r.Claimed != "metropolitan police" || r.Force != "Metropolitan Police" ||
		r.BadgeNumber != "4721" || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "ID number 4721; the resident had the guard ring the police instead") {
		t.Fatalf("asked police caller: %+v, %v", r, ok)
	}
	if err := r.Check(now); err != nil {
		t.Errorf("the report fails its own check: %v", err)
	}
	if c := r.Campaign(); c.IDNumber != "4721" {
		t.Errorf("clustering sees %+v", c)
	}
	ev.Call.Claim = &call.Claim{Kind: "company", Organisation: "Amazon", Answered: true}
	if r, ok := hub.ReportFor(ev, "Winchester", false); ok {
		t.Errorf("a caller from a company, on an otherwise ordinary call, reported: %+v", r)
	}
	ev.Call.Claim = &call.Claim{Kind: "police", Organisation: "Kent Police"}
	if r, ok := hub.ReportFor(ev, "Winchester", false); ok {
		t.Errorf("a caller who did not answer reported as claiming: %+v", r)
	}
}
