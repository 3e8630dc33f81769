package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

// pendingDeliveries makes n community alerts for a household whose one guardian has a
// webhook and an e-mail address: 2n pending deliveries, due now.
func pendingDeliveries(t *testing.T, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.EnsureHousehold(ctx, dash.Household{ID: "mum", Name: "Mum's house", Settings: dash.DefaultSettings()}); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, dash.User{Email: "son@example.org", Name: "Son", Role: dash.Guardian}, "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetGuardian(ctx, u.ID, "mum", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveChannels(ctx, u.ID, dash.Channels{Webhook: "https://hooks.example/son", WebhookSecret: "0123456789abcdef", Email: "son@example.org"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := s.AddCommunityAlert(ctx, "mum", fmt.Sprintf("ref-%d", i), "Scam calls in your area", "Be careful.", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func deliveryKey(d dash.Delivery) string {
	return fmt.Sprintf("%d-%d-%s", d.AlertID, d.UserID, d.Channel)
}

// A claimed delivery is nobody else's until its lease is over; then it is due again. One
// that is marked delivered is never claimed again.
func TestClaimDeliveries(t *testing.T) { eachBackend(t, testClaimDeliveries) }

func testClaimDeliveries(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	pendingDeliveries(t, s, 3)
	now := time.Now()
	got, err := s.ClaimDeliveries(ctx, now, time.Minute, 4)
	if err != nil || len(got) != 4 {
		t.Fatalf("ClaimDeliveries = %+v, %v; want 4 of the 6", got, err)
	}
	for _, d := range got {
		if d.User != "Son" || d.State != dash.Pending || d.Target == "" || !d.NextAt.Equal(now.Add(time.Minute).Truncate(time.Microsecond)) {
			t.Errorf("claimed %+v; want Son's, pending, next due at the end of the lease", d)
		}
	}
	rest, err := s.ClaimDeliveries(ctx, now, time.Minute, 10)
	if err != nil || len(rest) != 2 {
		t.Fatalf("second claim = %+v, %v; want the other 2", rest, err)
	}
	seen := map[string]bool{}
	for _, d := range append(got, rest...) {
		if seen[deliveryKey(d)] {
			t.Errorf("delivery %s claimed twice within its lease", deliveryKey(d))
		}
		seen[deliveryKey(d)] = true
	}
	if again, err := s.ClaimDeliveries(ctx, now.Add(59*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("claim within the lease = %+v, %v; want none", again, err)
	}
	if due, err := s.DueDeliveries(ctx, now.Add(30*time.Second), 10); err != nil || len(due) != 0 {
		t.Fatalf("due within the lease = %+v, %v; want none", due, err)
	}
	d := got[0]
	d.State, d.Attempts, d.DeliveredAt = dash.Delivered, 1, time.Now().UTC()
	if err := s.MarkDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	after, err := s.ClaimDeliveries(ctx, now.Add(time.Minute), time.Minute, 10)
	if err != nil || len(after) != 5 {
		t.Fatalf("claim after the lease = %d, %v; want the 5 not delivered", len(after), err)
	}
	for _, a := range after {
		if deliveryKey(a) == deliveryKey(d) {
			t.Errorf("the delivered delivery was claimed again")
		}
	}
}

// Two stores on one PostgreSQL database (two guards), claiming at once from many
// goroutines: every delivery is claimed exactly once.
func TestClaimDeliveriesConcurrentHandles(t *testing.T) {
	url := pgtest.URL(t)
	a := place{database: url, dir: t.TempDir()}.open(t)
	b := place{database: url, dir: t.TempDir()}.open(t)
	pendingDeliveries(t, a, 100)
	var mu sync.Mutex
	claims := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for {
				got, err := s.ClaimDeliveries(context.Background(), time.Now(), time.Hour, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					claims[deliveryKey(d)]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claims) != 200 {
		t.Errorf("%d deliveries claimed; want all 200", len(claims))
	}
	for k, n := range claims {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times", k, n)
		}
	}
}

// A cursor never moves back: a slower guard's older position leaves the newer one.
func TestSetCursorMonotonic(t *testing.T) { eachBackend(t, testSetCursorMonotonic) }

func testSetCursorMonotonic(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	for _, seq := range []int64{10, 42, 17, 42, 0} {
		if err := s.SetCursor(ctx, "hub", seq); err != nil {
			t.Fatal(err)
		}
	}
	if cur, err := s.Cursor(ctx, "hub"); err != nil || cur != 42 {
		t.Errorf("Cursor = %d, %v after 10, 42, 17, 42, 0; want 42", cur, err)
	}
	if err := s.SetCursor(ctx, "hub", 43); err != nil {
		t.Fatal(err)
	}
	if cur, err := s.Cursor(ctx, "hub"); err != nil || cur != 43 {
		t.Errorf("Cursor = %d, %v; want 43", cur, err)
	}
}

// On PostgreSQL every guard of the service gets the ID the first one gave; on SQLite the
// guard's own.
func TestServiceID(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		s := place{dir: t.TempDir()}.open(t)
		for _, id := range []string{"guard-a", "guard-b"} {
			if got, err := s.ServiceID(ctx, id); err != nil || got != id {
				t.Errorf("ServiceID(%s) = %q, %v", id, got, err)
			}
		}
		if _, err := s.ServiceID(ctx, ""); err == nil {
			t.Error("ServiceID without a fallback: no error")
		}
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		a := place{database: url, dir: t.TempDir()}.open(t)
		b := place{database: url, dir: t.TempDir()}.open(t)
		ids := make([]string, 6)
		var wg sync.WaitGroup
		for i := range ids {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				id, err := s.ServiceID(ctx, fmt.Sprintf("guard-%d", i))
				if err != nil {
					t.Error(err)
				}
				ids[i] = id
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] || id == "" {
				t.Fatalf("guards got service IDs %v; want one for all", ids)
			}
		}
		if id, err := b.ServiceID(ctx, "latecomer"); err != nil || id != ids[0] {
			t.Errorf("a later guard got %q, %v; want %q", id, err, ids[0])
		}
	})
}

// leaders counts who runs as leader at once.
type leaders struct {
	now, most, runs atomic.Int64
	who             atomic.Value // the name of the one running
}

func (l *leaders) run(name string) func(ctx context.Context) {
	return func(ctx context.Context) {
		n := l.now.Add(1)
		defer l.now.Add(-1)
		for m := l.most.Load(); n > m && !l.most.CompareAndSwap(m, n); m = l.most.Load() {
		}
		l.runs.Add(1)
		l.who.Store(name)
		<-ctx.Done()
	}
}

func (l *leaders) waitFor(t *testing.T, name string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if w, _ := l.who.Load().(string); w == name && l.now.Load() == 1 {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	w, _ := l.who.Load().(string)
	t.Fatalf("%s did not become the leader within %v (leader %q, %d running)", name, within, w, l.now.Load())
	return 0
}

// Two guards on one PostgreSQL database: one leads at a time; when the leader's store is
// closed, or its connection killed, the other takes over within about leaderEvery.
func TestRunAsLeader(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var l leaders
	open := func(name string) (*Store, chan struct{}) {
		s, err := OpenDatabase(ctx, url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.RunAsLeader(ctx, "hub", l.run(name))
		}()
		return s, done
	}
	a, aDone := open("a")
	l.waitFor(t, "a", 3*time.Second)
	b, bDone := open("b")
	time.Sleep(2*leaderEvery + 500*time.Millisecond) // b tries, twice, and must not lead
	if w, _ := l.who.Load().(string); w != "a" || l.most.Load() != 1 {
		t.Fatalf("leader %q, at most %d at once; want a alone", w, l.most.Load())
	}

	// Kill a's lock connection from outside, as a crashed guard's would end: b leads, and a
	// (whose store is still open) stops leading and waits its turn.
	if _, err := b.w.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = ? AND granted`, lockLeaderSpace); err != nil {
		t.Fatal(err)
	}
	took := l.waitFor(t, "b", 3*time.Second)
	t.Logf("b took over %v after a's connection was killed", took)
	time.Sleep(leaderEvery + 500*time.Millisecond) // a notices (its ping fails) and steps down
	if l.now.Load() != 1 {
		t.Fatalf("%d leaders running %v after the takeover; want 1", l.now.Load(), leaderEvery)
	}

	// Close b's store: a leads again.
	b.Close()
	select {
	case <-bDone:
	case <-time.After(3 * time.Second):
		t.Fatal("RunAsLeader did not return after its store was closed")
	}
	took = l.waitFor(t, "a", 3*time.Second)
	t.Logf("a took over %v after b's store was closed", took)
	if l.most.Load() > 2 {
		t.Errorf("%d leaders at once", l.most.Load())
	}
	cancel()
	select {
	case <-aDone:
	case <-time.After(3 * time.Second):
		t.Fatal("RunAsLeader did not return when its ctx ended")
	}
	_ = a
}

// On SQLite the one guard leads at once.
func TestRunAsLeaderSQLite(t *testing.T) {
	s := place{dir: t.TempDir()}.open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ran := false
	s.RunAsLeader(ctx, "hub", func(context.Context) { ran = true })
	if !ran {
		t.Error("fn did not run")
	}
}

// held holds every Write until let go, like a database slow to commit.
type held struct {
	store.Store
	gate   chan struct{}
	writes atomic.Int64
	fail   atomic.Bool
}

func (h *held) Write(ctx context.Context, b store.Batch) error {
	<-h.gate
	h.writes.Add(1)
	if h.fail.Load() {
		return store.ErrUnavailable
	}
	return h.Store.Write(ctx, b)
}

// RecordDurable's channel closes only once the event's batch has committed (and the event
// can be read back); many events waited on at once still share a few commits; a failed
// commit is told at once, and the event is written when the store comes back.
func TestRecordDurable(t *testing.T) { eachBackend(t, testRecordDurable) }

func testRecordDurable(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	h := &held{Store: s, gate: make(chan struct{})}
	var n counts
	r := store.NewRecorder(h, 1000, quietLog(), &n)
	defer r.Close()
	c := sampleCall("d1", time.Now().UTC())
	ch := r.RecordDurable(call.Event{CallID: c.ID, Kind: call.CallEnded, At: c.StartedAt, Call: c})
	select {
	case err := <-ch:
		t.Fatalf("told %v before the commit", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(h.gate) // commits go through from now on
	select {
	case err, ok := <-ch:
		if err != nil || ok {
			t.Fatalf("told %v (open %v); want the channel closed with no error", err, ok)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("not told after the commit")
	}
	if _, err := s.Call(ctx, "d1"); err != nil {
		t.Fatalf("told durable, but the call is not stored: %v", err)
	}

	// Group commit kept: 200 events waited on at once take a few commits, not 200.
	before := h.writes.Load()
	chans := make([]<-chan error, 200)
	for i := range chans {
		c := sampleCall(fmt.Sprintf("g%d", i), time.Now().UTC())
		chans[i] = r.RecordDurable(call.Event{CallID: c.ID, Kind: call.CallEnded, At: c.StartedAt, Call: c})
	}
	for i, ch := range chans {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never durable", i)
		}
	}
	if w := h.writes.Load() - before; w > 10 {
		t.Errorf("200 durable events took %d commits; want them grouped", w)
	}
	if calls, err := s.Calls(ctx, store.Query{Limit: 1000}); err != nil || len(calls) != 201 {
		t.Errorf("%d calls stored, %v; want 201", len(calls), err)
	}

	// A failing store: told at once, and written once the store is back.
	h.fail.Store(true)
	c = sampleCall("f1", time.Now().UTC())
	ch = r.RecordDurable(call.Event{CallID: c.ID, Kind: call.CallEnded, At: c.StartedAt, Call: c})
	select {
	case err := <-ch:
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("told %v; want the store's error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a failed commit was not told")
	}
	h.fail.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := s.Call(ctx, "f1"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event of the failed commit was never written")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With the queue full, RecordDurable says so at once and never blocks.
func TestRecordDurableDropped(t *testing.T) {
	s := place{dir: t.TempDir()}.open(t)
	h := &held{Store: s, gate: make(chan struct{})}
	var n counts
	r := store.NewRecorder(h, 1, quietLog(), &n)
	defer func() { close(h.gate); r.Close() }()
	var dropped error
	for i := range 5 { // one in the writer's hands, one queued, the rest refused
		c := sampleCall(fmt.Sprintf("q%d", i), time.Now().UTC())
		ch := r.RecordDurable(call.Event{CallID: c.ID, Kind: call.CallEnded, At: c.StartedAt, Call: c})
		select {
		case err := <-ch:
			dropped = err
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !errors.Is(dropped, store.ErrDropped) || n.dropped.Load() == 0 {
		t.Errorf("a full queue told %v, %d dropped; want ErrDropped", dropped, n.dropped.Load())
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// BenchmarkRecordDurableWait is how long a hang-up's answer waits for its call's end to
// be stored (RecordDurable to its channel closing), one at a time: the recorder's linger
// (20 ms, for group commit) and one commit.
func BenchmarkRecordDurableWait(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkRecordDurableWait(b, place{dir: b.TempDir()}) })
	b.Run("postgres", func(b *testing.B) { benchmarkRecordDurableWait(b, place{database: pgtest.URL(b), dir: b.TempDir()}) })
}

func benchmarkRecordDurableWait(b *testing.B, p place) {
	s := p.open(b)
	var n counts
	r := store.NewRecorder(s, 1000, quietLog(), &n)
	defer r.Close()
	t0 := time.Now().UTC()
	b.ResetTimer()
	for i := range b.N {
		c := sampleCall(fmt.Sprintf("b%d", i), t0)
		if err := <-r.RecordDurable(call.Event{CallID: c.ID, Kind: call.CallEnded, At: t0, Call: c}); err != nil {
			b.Fatal(err)
		}
	}
}
