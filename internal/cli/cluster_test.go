package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/store/sqlite"
)

// A burst of household memory goes out in as many notes as PostgreSQL's payload limit needs,
// every event in one of them, in order.
func TestMemoryPayloadsSplitUnderTheLimit(t *testing.T) {
	var evs []guard.MemoryEvent
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range 500 {
		evs = append(evs, guard.MemoryEvent{Household: fmt.Sprintf("house-%03d", i), Kind: guard.MemoryDictated, Number: "+441632960" + fmt.Sprintf("%03d", i), At: at})
	}
	payloads := memoryPayloads(evs)
	if len(payloads) < 2 {
		t.Fatalf("500 events in %d payload(s); want them split", len(payloads))
	}
	var back []guard.MemoryEvent
	for _, p := range payloads {
		if len(p) > notifyLimit {
			t.Errorf("a payload of %d bytes; PostgreSQL takes under 8000", len(p))
		}
		body, ok := strings.CutPrefix(p, "memory:")
		if !ok {
			t.Fatalf("payload %q does not say memory:", p[:20])
		}
		var part []guard.MemoryEvent
		if err := json.Unmarshal([]byte(body), &part); err != nil {
			t.Fatal(err)
		}
		back = append(back, part...)
	}
	if len(back) != len(evs) {
		t.Fatalf("%d events came back of %d", len(back), len(evs))
	}
	for i := range evs {
		if back[i] != evs[i] {
			t.Fatalf("event %d came back as %+v; sent %+v", i, back[i], evs[i])
		}
	}
}

// The shared registrations this instance took itself are its own already; the others' come
// back as the guard's bindings, Path and all, and an unreadable one is left out.
func TestRemoteRegistrations(t *testing.T) {
	s := &service{id: "10.0.0.11:5060#aa", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	exp := time.Now().Add(time.Hour)
	got := s.remote([]sqlite.Registration{
		{User: "hall", Contact: "sip:hall@10.0.1.5:5060", Instance: "10.0.0.11:5060#aa", Expires: exp},
		{User: "hall", Contact: "sip:hall@10.0.1.6:5060", Path: "sip:10.0.0.3:5060;lr;received=sip:10.0.1.6:5060", Instance: "10.0.0.12:5060#bb", Expires: exp},
		{User: "den", Contact: "not a uri at all <", Instance: "10.0.0.12:5060#bb", Expires: exp},
	}, s.id)
	if len(got["hall"]) != 1 || len(got["den"]) != 0 {
		t.Fatalf("remote bindings %+v; want hall's from the other instance only", got)
	}
	b := got["hall"][0]
	if b.Contact.Host != "10.0.1.6" || len(b.Path) != 1 || b.Path[0].Host != "10.0.0.3" || !b.Expires.Equal(exp) {
		t.Errorf("binding %+v (path %v)", b, b.Path)
	}
	if joinURIs(b.Path) != "sip:10.0.0.3:5060;lr;received=sip:10.0.1.6:5060" {
		t.Errorf("the path written back is %q", joinURIs(b.Path))
	}
}
