package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// place is where a test's store lives: a data directory and, on PostgreSQL, a database of
// its own on a real server.
type place struct{ database, dir string }

// open opens the store at p, closed when the test ends.
func (p place) open(t testing.TB) *Store {
	t.Helper()
	s, err := OpenDatabase(context.Background(), p.database, p.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachBackend runs f on SQLite and on PostgreSQL, each in a new, empty place.
func eachBackend(t *testing.T, f func(t *testing.T, p place)) {
	t.Run("sqlite", func(t *testing.T) { f(t, place{dir: t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) { f(t, place{database: pgtest.URL(t), dir: t.TempDir()}) })
}

func sampleCall(id string, start time.Time) call.Call {
	return call.Call{ID: id, Direction: call.Inbound, From: "sip:+442085550123@trunk", To: "sip:kitchen@guard", StartedAt: start,
		Legs: []call.Leg{{Side: call.Trunk, Peer: "127.0.0.2:5080"}, {Side: call.Household, Peer: "127.0.0.1:5090"}}}
}

func TestWriteAndReadBack(t *testing.T) { eachBackend(t, testWriteAndReadBack) }

func testWriteAndReadBack(t *testing.T, p place) {
	ctx := context.Background()
	s, err := OpenDatabase(ctx, p.database, p.dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
	c := sampleCall("c1", t0)
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: "c1", Kind: call.CallStarted, At: t0, Call: c}}}); err != nil {
		t.Fatal(err)
	}
	c.AnsweredAt = t0.Add(2 * time.Second)
	c.EndedAt = t0.Add(10 * time.Second)
	c.EndedBy = call.ByHousehold
	c.Outcome = call.Completed
	c.Legs[0].ReleasedAt = t0.Add(10*time.Second + 3*time.Millisecond)
	c.Legs[1].ReleasedAt = t0.Add(10 * time.Second)
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: "c1", Kind: call.CallEnded, At: c.EndedAt, Call: c}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopening runs no migration twice and finds the call as last written.
	s, err = OpenDatabase(ctx, p.database, p.dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.Call(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.EndedBy != call.ByHousehold || got.Outcome != call.Completed || !got.AnsweredAt.Equal(c.AnsweredAt) {
		t.Errorf("call = %+v", got)
	}
	if l := got.Leg(call.Trunk); !l.ReleasedAt.Equal(c.Legs[0].ReleasedAt) || l.Peer != "127.0.0.2:5080" {
		t.Errorf("trunk leg = %+v", l)
	}
	evs, err := s.Events(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Kind != call.CallStarted || evs[1].Kind != call.CallEnded || evs[1].Call.EndedBy != call.ByHousehold {
		t.Fatalf("events = %+v", evs)
	}
	if _, err := s.Call(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing call: %v", err)
	}
}

func TestCallsNewestFirstWithPaging(t *testing.T) { eachBackend(t, testCallsNewestFirstWithPaging) }

func testCallsNewestFirstWithPaging(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	t0 := time.Now().UTC()
	var evs []call.Event
	for i, id := range []string{"a", "b", "c"} {
		c := sampleCall(id, t0.Add(time.Duration(i)*time.Second))
		evs = append(evs, call.Event{CallID: id, Kind: call.CallStarted, At: c.StartedAt, Call: c})
	}
	if err := s.Write(ctx, store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	calls, err := s.Calls(ctx, store.Query{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].ID != "c" || calls[1].ID != "b" || len(calls[0].Legs) != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	calls, err = s.Calls(ctx, store.Query{Before: calls[1].StartedAt})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].ID != "a" {
		t.Fatalf("page 2 = %+v", calls)
	}
}

type counts struct{ written, failed, dropped atomic.Int64 }

func (c *counts) Written(n int) { c.written.Add(int64(n)) }
func (c *counts) WriteFailed()  { c.failed.Add(1) }
func (c *counts) Dropped()      { c.dropped.Add(1) }

// flaky fails every write until healed, like a disk that filled up and was cleared.
type flaky struct {
	store.Store
	healed atomic.Bool
}

func (f *flaky) Write(ctx context.Context, b store.Batch) error {
	if !f.healed.Load() {
		return store.ErrUnavailable
	}
	return f.Store.Write(ctx, b)
}

func TestRecorderRetriesUntilStoreReturns(t *testing.T) {
	eachBackend(t, testRecorderRetriesUntilStoreReturns)
}

func testRecorderRetriesUntilStoreReturns(t *testing.T, p place) {
	s := p.open(t)
	f := &flaky{Store: s}
	var n counts
	r := store.NewRecorder(f, 100, slog.New(slog.NewTextHandler(io.Discard, nil)), &n)
	c := sampleCall("r1", time.Now())
	r.Record(call.Event{CallID: "r1", Kind: call.CallStarted, At: c.StartedAt, Call: c})
	deadline := time.Now().Add(5 * time.Second)
	for n.failed.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n.failed.Load() == 0 {
		t.Fatal("write never attempted")
	}
	f.healed.Store(true)
	r.Close()
	if n.written.Load() != 1 {
		t.Fatalf("written = %d after the store came back", n.written.Load())
	}
	if _, err := s.Call(context.Background(), "r1"); err != nil {
		t.Fatalf("call lost: %v", err)
	}
}

func TestPingNoticesRemovedFile(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	os.Remove(filepath.Join(dir, "clearline.db"))
	if err := s.Ping(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ping after removal = %v", err)
	}
}

func BenchmarkWriteBatch(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkWriteBatch(b, place{dir: b.TempDir()}) })
	b.Run("postgres", func(b *testing.B) { benchmarkWriteBatch(b, place{database: pgtest.URL(b), dir: b.TempDir()}) })
}

func benchmarkWriteBatch(b *testing.B, p place) {
	s := p.open(b)
	b.ReportAllocs()
	t0 := time.Now()
	for i := 0; b.Loop(); i++ {
		evs := make([]call.Event, 64)
		for j := range evs {
			c := sampleCall("b"+time.Duration(i*64+j).String(), t0)
			evs[j] = call.Event{CallID: c.ID, Kind: call.CallStarted, At: t0, Call: c}
		}
		if err := s.Write(context.Background(), store.Batch{Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
}

// A batch carrying a call's start, answer and end writes the call once, as it ended, and
// keeps every event.
func TestBatchWithOneCallManyTimes(t *testing.T) { eachBackend(t, testBatchWithOneCallManyTimes) }

func testBatchWithOneCallManyTimes(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	t0 := time.Now().UTC()
	c := sampleCall("m1", t0)
	started := call.Event{CallID: "m1", Kind: call.CallStarted, At: t0, Call: c}
	c.AnsweredAt = t0.Add(time.Second)
	answered := call.Event{CallID: "m1", Kind: call.CallAnswered, At: c.AnsweredAt, Call: c}
	c.EndedAt, c.EndedBy, c.Outcome = t0.Add(5*time.Second), call.ByCaller, call.Completed
	c.Verdict, c.Reasons = "warn", []string{"the caller's name says \"Police\""}
	ended := call.Event{CallID: "m1", Kind: call.CallEnded, At: c.EndedAt, Call: c}
	if err := s.Write(ctx, store.Batch{Events: []call.Event{started, answered, ended}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Call(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if got.EndedBy != call.ByCaller || got.Verdict != "warn" || len(got.Reasons) != 1 || !got.AnsweredAt.Equal(c.AnsweredAt.Truncate(time.Microsecond)) {
		t.Errorf("stored call = %+v", got)
	}
	evs, err := s.Events(ctx, 0, 10)
	if err != nil || len(evs) != 3 {
		t.Fatalf("events = %d, %v", len(evs), err)
	}
}

// A call's risk analysis — timeline, indicators, interventions — is stored with it and
// read back whole, and the alert event is in the outbox for the guardians.
func TestRiskStoredWithCall(t *testing.T) { eachBackend(t, testRiskStoredWithCall) }

func testRiskStoredWithCall(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	t0 := time.Now().UTC()
	c := sampleCall("r1", t0)
	c.Risk = &call.Risk{Analyser: "pocketsphinx/domain", Level: 0.9, Verdict: "scam",
		Timeline:      []call.RiskPoint{{T: 4.2, Risk: 0.1, Text: "this is detective sergeant carter"}, {T: 9.8, Risk: 0.9, Text: "a courier will come to collect the money"}},
		Indicators:    []call.Finding{{Kind: "courier_collection", Evidence: "courier will come to collect the money", T: 9.8}},
		Interventions: []call.Intervention{{Kind: "alert", At: t0.Add(10 * time.Second), T: 9.8, Risk: 0.9, Reason: "risk 0.90: courier collection"}}}
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: "r1", Kind: call.CallAlert, At: t0, Call: c}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Call(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Risk == nil || len(got.Risk.Timeline) != 2 || got.Risk.Indicators[0].Kind != "courier_collection" ||
		got.Risk.Interventions[0].Kind != "alert" || !got.Risk.Interventions[0].At.Equal(c.Risk.Interventions[0].At) {
		t.Errorf("stored risk = %+v", got.Risk)
	}
	evs, err := s.Events(ctx, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Kind != call.CallAlert || evs[0].Call.Risk == nil {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	plain := sampleCall("r2", t0)
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: "r2", Kind: call.CallStarted, At: t0, Call: plain}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Call(ctx, "r2"); err != nil || got.Risk != nil {
		t.Errorf("a call never listened to has risk %+v (%v)", got.Risk, err)
	}
}

// Who an asked caller said they were is kept with the call, and a call that was not asked
// has no claim.
func TestClaimStoredWithCall(t *testing.T) { eachBackend(t, testClaimStoredWithCall) }

func testClaimStoredWithCall(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	asked := sampleCall("asked", t0)
	asked.Claim = &call.Claim{Kind: "police", Organisation: "Metropolitan Police", IDNumber: "4721", NameAudio: true, Answered: true,
		Words: "i'm calling from the metropolitan police | four seven two one", Choice: "ring_police"}
	plain := sampleCall("plain", t0.Add(time.Second))
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: "asked", Kind: call.CallEnded, At: t0, Call: asked},
		{CallID: "plain", Kind: call.CallEnded, At: t0, Call: plain}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Call(ctx, "asked")
	if err != nil {
		t.Fatal(err)
	}
	if got.Claim == nil || *got.Claim != *asked.Claim {
		t.Errorf("claim read back as %+v", got.Claim)
	}
	list, err := s.Calls(ctx, store.Query{})
	if err != nil || len(list) != 2 || list[0].Claim != nil || list[1].Claim == nil || list[1].Claim.IDNumber != "4721" {
		t.Errorf("calls %+v, %v", list, err)
	}
}

// A call a guardian ended keeps who ended it, in the call and in the list.
func TestGuardianWhoEndedIsKept(t *testing.T) { eachBackend(t, testGuardianWhoEndedIsKept) }

func testGuardianWhoEndedIsKept(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	t0 := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	c := sampleCall("c1", t0)
	c.AnsweredAt, c.EndedAt, c.EndedBy, c.EndedByUser, c.Outcome = t0.Add(time.Second), t0.Add(time.Minute), call.ByGuardian, "son", call.Completed
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: "c1", Kind: call.CallEnded, At: c.EndedAt, Call: c}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Call(ctx, "c1")
	if err != nil || got.EndedBy != call.ByGuardian || got.EndedByUser != "son" {
		t.Fatalf("call = %+v, %v", got, err)
	}
	list, err := s.Calls(ctx, store.Query{})
	if err != nil || len(list) != 1 || list[0].EndedByUser != "son" || list[0].EndedBy.String() != "guardian" {
		t.Fatalf("calls = %+v, %v", list, err)
	}
}

// A guardian's part in a call (Carer Check) and the guardian's leg are kept with the call;
// a call no guardian was asked about has none.
func TestCarerCheckStoredWithCall(t *testing.T) { eachBackend(t, testCarerCheckStoredWithCall) }

func testCarerCheckStoredWithCall(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	checked := sampleCall("checked", t0)
	checked.EndedBy = call.ByGuardian
	checked.Carer = &call.CarerCheck{Guardian: "Sarah", Number: "+447700900123", RangAt: t0.Add(8 * time.Second),
		AnsweredAt: t0.Add(10 * time.Second), Choice: "joined", LeftAt: t0.Add(40 * time.Second)}
	checked.Legs = append(checked.Legs, call.Leg{Side: call.Guardian, Peer: "203.0.113.5:5060", ReleasedAt: t0.Add(40 * time.Second)})
	plain := sampleCall("plain", t0.Add(time.Second))
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: "checked", Kind: call.CallEnded, At: t0, Call: checked},
		{CallID: "plain", Kind: call.CallEnded, At: t0, Call: plain}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Call(ctx, "checked")
	if err != nil {
		t.Fatal(err)
	}
	if got.Carer == nil || *got.Carer != *checked.Carer || got.EndedBy != call.ByGuardian {
		t.Errorf("carer check read back as %+v, ended by %v", got.Carer, got.EndedBy)
	}
	if l := got.Leg(call.Guardian); l.Peer != "203.0.113.5:5060" || !l.ReleasedAt.Equal(t0.Add(40*time.Second)) {
		t.Errorf("guardian's leg read back as %+v", l)
	}
	if p, err := s.Call(ctx, "plain"); err != nil || p.Carer != nil {
		t.Errorf("plain call: %+v, %v", p.Carer, err)
	}
}

// A call still winding down as the guard stops records its end after the recorder closed:
// the event is dropped and counted, never a panic in the guard's request handler, and what
// was queued before Close is written.
func TestRecordAfterClose(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n counts
	r := store.NewRecorder(s, 100, slog.New(slog.NewTextHandler(io.Discard, nil)), &n)
	c := sampleCall("before", time.Now())
	r.Record(call.Event{CallID: "before", Kind: call.CallStarted, At: c.StartedAt, Call: c})
	r.Close()
	late := sampleCall("late", time.Now())
	r.Record(call.Event{CallID: "late", Kind: call.CallStarted, At: late.StartedAt, Call: late})
	if err := <-r.RecordDurable(call.Event{CallID: "late", Kind: call.CallEnded, At: late.StartedAt, Call: late}); err == nil {
		t.Error("an event recorded durably after Close was said to be stored")
	}
	if n.dropped.Load() != 2 {
		t.Errorf("dropped = %d after Close; want 2", n.dropped.Load())
	}
	if _, err := s.Call(context.Background(), "before"); err != nil {
		t.Errorf("the event queued before Close was lost: %v", err)
	}
}

// A starting guard reads up to a day's calls at once (the household memory, cli/memory.go):
// more calls than SQLite takes parameters in one statement still come back, with their legs.
func TestCallsManyWithLegs(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const n = 33000 // SQLite takes 32,766 parameters
	start := time.Now().Add(-time.Hour).UTC()
	for from := 0; from < n; from += 2000 {
		var evs []call.Event
		for i := from; i < min(from+2000, n); i++ {
			c := sampleCall(fmt.Sprintf("c%05d", i), start.Add(time.Duration(i)*time.Millisecond))
			evs = append(evs, call.Event{CallID: c.ID, Kind: call.CallStarted, At: c.StartedAt, Call: c})
		}
		if err := s.Write(ctx, store.Batch{Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Calls(ctx, store.Query{Limit: 50000})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != n {
		t.Fatalf("%d calls read; want %d", len(cs), n)
	}
	for _, c := range []call.Call{cs[0], cs[n/2], cs[n-1]} {
		if len(c.Legs) != 2 {
			t.Errorf("call %s read with %d legs; want 2", c.ID, len(c.Legs))
		}
	}
}
