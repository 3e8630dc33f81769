package hub_test

import (
	"slices"
	"testing"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/hub"
)

// A call the resident reported from their phone (the handset's report code) is reported
// whatever screening and listening made of it, as the resident's report, under the call's
// one report ID; withheld, it goes without a number.
func TestReportForReportedByResident(t *testing.T) {
	ev := endedCall("c8", "sip:+441632960557@trunk", "allow", "", &call.Risk{Verdict: "ok"})
	if _, ok := hub.ReportFor(ev, "Winchester", false); ok {
		t.Fatal("the ordinary call is reported on its own; the test needs one that is not")
	}
	ev.Kind = call.CallReported
	r, ok := hub.ReportFor(ev, "Winchester", false)
	if !ok || r.ID != "call-c8" || r.Verdict != "reported" || r.Reporter != "resident" || r.Source != hub.FromGuard || r.Number != "+441632960557" ||
		!slices.Contains(r.Reasons, "the resident reported the call as a scam from their phone") {
		t.Fatalf("reported call: %+v, %v", r, ok)
	}
	if slices.Contains(r.Reasons, ev.Call.Reasons[0]) {
		t.Errorf("an allowed call's screening reasons went with the report: %q", r.Reasons)
	}
	if err := r.Check(now); err != nil {
		t.Errorf("the report fails the hub's check: %v", err)
	}
	spoof := endedCall("c9", "sip:+441632960558@trunk", "warn", "display-name", nil)
	spoof.Kind = call.CallReported
	if r, _ := hub.ReportFor(spoof, "Winchester", false); r.ID != "call-c9" || !slices.Contains(r.Reasons, spoof.Call.Reasons[0]) {
		t.Errorf("a reported spoof: %+v (one ID with its own report, and screening's reasons)", r)
	}
	withheld := endedCall("c10", "sip:anonymous@trunk", "screen", "withheld", nil)
	withheld.Kind = call.CallReported
	if r, ok := hub.ReportFor(withheld, "Winchester", false); !ok || r.Number != "" || r.Check(now) != nil {
		t.Errorf("a reported withheld call: %+v, %v", r, ok)
	}
	if _, ok := hub.ReportFor(ev, "", false); ok {
		t.Error("reported without a district")
	}
	out := endedCall("c11", "sip:kitchen@guard", "", "", nil)
	out.Kind, out.Call.Direction = call.CallReported, call.Outbound
	if _, ok := hub.ReportFor(out, "Winchester", false); ok {
		t.Error("an outbound call reported")
	}
}
