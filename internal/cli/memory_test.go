package cli

import (
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/guard"
)

// What the record teaches a starting guard: an emergency call within two hours, a risky
// inbound call within half an hour, the numbers scam callers gave; nothing older, nothing
// from an ordinary call.
func TestMemoryOfTheRecord(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	risky := &call.Risk{Verdict: "scam", Dictated: []string{"+441632960555"}}
	cs := []call.Call{
		{Household: "mum", Direction: call.Outbound, Emergency: true, StartedAt: now.Add(-90 * time.Minute)},
		{Household: "gran", Direction: call.Outbound, Emergency: true, StartedAt: now.Add(-3 * time.Hour)},
		{Household: "mum", Direction: call.Inbound, Verdict: "warn", StartedAt: now.Add(-10 * time.Minute)},
		{Household: "gran", Direction: call.Inbound, Verdict: "block", StartedAt: now.Add(-time.Hour)},
		{Household: "gran", Direction: call.Inbound, Verdict: "allow", StartedAt: now.Add(-20 * time.Hour), Risk: risky},
		{Household: "mum", Direction: call.Inbound, Verdict: "allow", StartedAt: now.Add(-time.Minute), Risk: &call.Risk{Verdict: "ok", Dictated: []string{"+441632960111"}}},
	}
	got := memoryOf(cs, now)
	want := []guard.MemoryEvent{
		{Household: "mum", Kind: guard.MemoryEmergency, At: now.Add(-90 * time.Minute)},
		{Household: "mum", Kind: guard.MemoryRisky, At: now.Add(-10 * time.Minute)},
		{Household: "gran", Kind: guard.MemoryDictated, Number: "+441632960555", At: now.Add(-20 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("memory %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fact %d: %+v; want %+v", i, got[i], want[i])
		}
	}
}
