package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

func TestRegistrations(t *testing.T) { eachBackend(t, testRegistrations) }

func testRegistrations(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	put := func(r Registration) {
		t.Helper()
		if err := s.PutRegistration(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	regs := func(user string) []Registration {
		t.Helper()
		rs, err := s.Registrations(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	contacts := func(rs []Registration) string {
		var c []string
		for _, r := range rs {
			c = append(c, r.User+"="+r.Contact+"@"+r.Instance)
		}
		return strings.Join(c, " ")
	}

	k1 := Registration{User: "kitchen", Contact: "sip:kitchen@192.0.2.10:5060", Path: "<sip:127.0.0.3;lr;received=sip:192.0.2.10:5060>",
		Instance: "guard-a", Expires: now.Add(time.Hour)}
	k2 := Registration{User: "kitchen", Contact: "sip:kitchen@192.0.2.11:5061;transport=tcp", Flow: "192.0.2.11:5061",
		Instance: "guard-a", Expires: now.Add(2 * time.Hour)}
	h1 := Registration{User: "hall", Contact: "sip:hall@192.0.2.20:5060", Instance: "guard-b", Expires: now.Add(3 * time.Hour)}
	put(k1)
	put(k2)
	put(h1)
	got := regs("kitchen")
	if len(got) != 2 || got[0] != k1 || got[1] != k2 {
		t.Fatalf("kitchen's registrations read back as %+v, want %+v and %+v", got, k1, k2)
	}
	if c := contacts(regs("")); c != "hall=sip:hall@192.0.2.20:5060@guard-b kitchen=sip:kitchen@192.0.2.10:5060@guard-a kitchen=sip:kitchen@192.0.2.11:5061;transport=tcp@guard-a" {
		t.Fatalf("every registration: %s", c)
	}

	// A refresh through the other guard moves the binding there, with its new Path and expiry.
	k1b := k1
	k1b.Instance, k1b.Path, k1b.Expires = "guard-b", "<sip:127.0.0.4;lr>", now.Add(90*time.Minute)
	put(k1b)
	if got := regs("kitchen"); len(got) != 2 || got[0] != k1b {
		t.Fatalf("after the refresh kitchen has %+v, want %+v first", got, k1b)
	}

	// Contact: * through guard-a drops every binding of kitchen, guard-b's too (RFC 3261
	// §10.3: all the address's bindings); hall's stay.
	if err := s.DropRegistrations(ctx, "kitchen", "guard-a"); err != nil {
		t.Fatal(err)
	}
	if got := regs("kitchen"); len(got) != 0 {
		t.Fatalf("after Contact: * kitchen still has %+v", got)
	}
	if got := regs("hall"); len(got) != 1 {
		t.Fatalf("dropping kitchen's took hall's too: %+v", got)
	}

	// Expires zero, or past, unbinds that contact.
	put(k1b)
	put(Registration{User: "kitchen", Contact: k1.Contact, Instance: "guard-a"})
	if got := regs("kitchen"); len(got) != 0 {
		t.Fatalf("after Expires 0 kitchen still has %+v", got)
	}
	put(h1)
	put(Registration{User: "hall", Contact: h1.Contact, Instance: "guard-b", Expires: now.Add(-time.Second)})
	if got := regs("hall"); len(got) != 0 {
		t.Fatalf("after a past Expires hall still has %+v", got)
	}

	// Bad input is refused and changes nothing.
	for _, bad := range []Registration{
		{Contact: "sip:x@192.0.2.1", Instance: "guard-a", Expires: now.Add(time.Hour)},
		{User: "x", Instance: "guard-a", Expires: now.Add(time.Hour)},
		{User: "x", Contact: "sip:x@192.0.2.1", Expires: now.Add(time.Hour)},
	} {
		err := s.PutRegistration(ctx, bad)
		if err == nil || !strings.Contains(err.Error(), "store: registration: no ") {
			t.Errorf("PutRegistration(%+v) = %v, want a 'no ...' error", bad, err)
		}
	}
	if err := s.DropRegistrations(ctx, "kitchen", ""); err == nil || !strings.Contains(err.Error(), "no instance") {
		t.Errorf("DropRegistrations without an instance = %v", err)
	}
	if got := regs(""); len(got) != 0 {
		t.Fatalf("refused registrations were stored: %+v", got)
	}

	// An expired binding is not read; the sweep deletes it, once.
	put(Registration{User: "hall", Contact: "sip:hall@192.0.2.21", Instance: "guard-b", Expires: time.Now().Add(100 * time.Millisecond)})
	put(Registration{User: "hall", Contact: "sip:hall@192.0.2.22", Instance: "guard-b", Expires: now.Add(time.Hour)})
	put(Registration{User: "den", Contact: "sip:den@192.0.2.23", Instance: "guard-b", Expires: now.Add(3 * time.Hour)})
	time.Sleep(150 * time.Millisecond)
	if c := contacts(regs("hall")); c != "hall=sip:hall@192.0.2.22@guard-b" {
		t.Fatalf("hall's live registrations: %q", c)
	}
	if n, err := s.SweepRegistrations(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want the 1 expired", n, err)
	}
	if n, err := s.SweepRegistrations(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0", n, err)
	}
	var rows int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM registrations`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("registrations rows after the sweep: %d, %v; want 2", rows, err)
	}
	// Swept at a later time, the binding expiring by then goes too.
	if n, err := s.SweepRegistrations(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep two hours on = %d, %v; want 1", n, err)
	}
	if c := contacts(regs("")); c != "den=sip:den@192.0.2.23@guard-b" {
		t.Fatalf("left after the sweeps: %q", c)
	}
}

// next is the next notification on ch, failing the test if none comes within d.
func next(t *testing.T, ch <-chan string, d time.Duration) string {
	t.Helper()
	select {
	case p, ok := <-ch:
		if !ok {
			t.Fatal("the notifications' channel closed")
		}
		return p
	case <-time.After(d):
		t.Fatalf("no notification within %v", d)
		return ""
	}
}

// nothing fails the test if a notification comes within d.
func nothing(t *testing.T, ch <-chan string, d time.Duration) {
	t.Helper()
	select {
	case p := <-ch:
		t.Fatalf("unexpected notification %q", p)
	case <-time.After(d):
	}
}

// A change made through one guard's store reaches another guard's Listen, with a payload
// saying what to re-read, within 1 s — and re-reading then shows it, since the
// notification is delivered at the change's commit.
func TestNotifyReachesAnotherStore(t *testing.T) {
	ctx := t.Context()
	p := place{database: pgtest.URL(t), dir: t.TempDir()}
	a, b := p.open(t), p.open(t)
	if !a.IsPostgres() {
		t.Fatal("IsPostgres is false on PostgreSQL")
	}
	ch, err := b.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := next(t, ch, time.Second); got != "resync" {
		t.Fatalf("first notification %q, want resync", got)
	}
	const within = time.Second
	expect := func(want string) {
		t.Helper()
		if got := next(t, ch, within); got != want {
			t.Fatalf("notification %q, want %q", got, want)
		}
	}

	if _, err := a.CreateHousehold(ctx, dash.Household{ID: "mum", Name: "Mum", Numbers: []string{"+441632960001"}}); err != nil {
		t.Fatal(err)
	}
	expect("lines")
	if h, err := b.Household(ctx, "mum"); err != nil || h.Name != "Mum" || len(h.Numbers) != 1 {
		t.Fatalf("the other store reads mum as %+v, %v", h, err)
	}

	if _, err := a.AddPhone(ctx, dash.Phone{User: "kitchen", Household: "mum", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	expect("lines")
	if ps, err := b.Phones(ctx, "mum"); err != nil || len(ps) != 1 || ps[0].User != "kitchen" {
		t.Fatalf("the other store reads mum's phones as %+v, %v", ps, err)
	}

	// A change that fails (and rolls back) tells no one.
	if _, err := a.AddPhone(ctx, dash.Phone{User: "hall", Household: "nobody", Password: "pw"}); err == nil {
		t.Fatal("a phone for a household that does not exist was added")
	}
	if _, err := a.CreateHousehold(ctx, dash.Household{ID: "dad", Name: "Dad", Numbers: []string{"+441632960001"}}); err == nil {
		t.Fatal("a second household with mum's number was made")
	}
	if err := a.SaveSettings(ctx, "nobody", dash.Settings{}); err == nil {
		t.Fatal("settings saved for a household that does not exist")
	}
	nothing(t, ch, 200*time.Millisecond)

	set := dash.Settings{Block: []dash.Contact{{Name: "Scammer", Number: "+442079460999"}}}
	if err := a.SaveSettings(ctx, "mum", set); err != nil {
		t.Fatal(err)
	}
	expect("household:mum")
	if h, err := b.Household(ctx, "mum"); err != nil || len(h.Settings.Block) != 1 || h.Settings.Block[0].Number != "+442079460999" {
		t.Fatalf("the other store reads mum's settings as %+v, %v", h.Settings, err)
	}

	if err := a.RenameHousehold(ctx, "mum", "Mum and Dad"); err != nil {
		t.Fatal(err)
	}
	expect("household:mum")

	// EnsureHousehold tells only when it made the household.
	if _, err := a.EnsureHousehold(ctx, dash.Household{ID: "gran", Name: "Gran"}); err != nil {
		t.Fatal(err)
	}
	expect("lines")
	if _, err := a.EnsureHousehold(ctx, dash.Household{ID: "gran", Name: "Gran"}); err != nil {
		t.Fatal(err)
	}
	nothing(t, ch, 200*time.Millisecond)

	reg := Registration{User: "kitchen", Contact: "sip:kitchen@192.0.2.10:5060", Path: "<sip:127.0.0.3;lr>", Instance: "guard-a", Expires: time.Now().Add(time.Hour)}
	if err := a.PutRegistration(ctx, reg); err != nil {
		t.Fatal(err)
	}
	expect("binding:kitchen")
	if rs, err := b.Registrations(ctx, "kitchen"); err != nil || len(rs) != 1 || rs[0].Path != reg.Path {
		t.Fatalf("the other store reads kitchen's registrations as %+v, %v", rs, err)
	}
	if err := a.DropRegistrations(ctx, "kitchen", "guard-a"); err != nil {
		t.Fatal(err)
	}
	expect("binding:kitchen")
	if rs, err := b.Registrations(ctx, "kitchen"); err != nil || len(rs) != 0 {
		t.Fatalf("after the drop the other store reads %+v, %v", rs, err)
	}

	if err := a.Notify(ctx, "end:c1"); err != nil {
		t.Fatal(err)
	}
	expect("end:c1")
	if err := a.Notify(ctx, strings.Repeat("x", 8000)); err == nil || !strings.Contains(err.Error(), "at most 7999") {
		t.Fatalf("an 8000-byte payload: %v", err)
	}
	if err := a.Notify(ctx, ""); err == nil {
		t.Fatal("an empty payload was sent")
	}
}

// On SQLite (one guard) there is no one to tell: Listen gives no channel and Notify does
// nothing, without failing, and changes still work.
func TestNotifyOnSQLite(t *testing.T) {
	s := place{dir: t.TempDir()}.open(t)
	if s.IsPostgres() {
		t.Fatal("IsPostgres is true on SQLite")
	}
	ch, err := s.Listen(t.Context())
	if ch != nil || err != nil {
		t.Fatalf("Listen on SQLite = %v, %v; want nil, nil", ch, err)
	}
	if err := s.Notify(t.Context(), "lines"); err != nil {
		t.Fatal(err)
	}
	if err := s.Notify(t.Context(), strings.Repeat("x", 8000)); err == nil {
		t.Fatal("an 8000-byte payload was taken on SQLite; PostgreSQL would refuse it")
	}
	if _, err := s.CreateHousehold(t.Context(), dash.Household{ID: "mum", Name: "Mum"}); err != nil {
		t.Fatal(err)
	}
}

// Listen's connection killed (pg_terminate_backend): it connects again, says "resync" —
// what was sent meanwhile is lost — and goes on delivering. Its channel closes with its
// context.
func TestListenReconnects(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := place{database: pgtest.URL(t), dir: t.TempDir()}.open(t)
	ch, err := s.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := next(t, ch, time.Second); got != "resync" {
		t.Fatalf("first notification %q, want resync", got)
	}
	if err := s.Notify(ctx, "lines"); err != nil {
		t.Fatal(err)
	}
	if got := next(t, ch, time.Second); got != "lines" {
		t.Fatalf("notification %q, want lines", got)
	}
	for round := range 2 {
		var killed int
		if err := s.w.QueryRowContext(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()`, listenApp).Scan(&killed); err != nil {
			t.Fatal(err)
		}
		if killed != 1 {
			t.Fatalf("round %d: %d listening connections killed, want 1", round, killed)
		}
		if got := next(t, ch, 5*time.Second); got != "resync" {
			t.Fatalf("round %d: after the kill, notification %q, want resync", round, got)
		}
		payload := fmt.Sprintf("household:h%d", round)
		if err := s.Notify(ctx, payload); err != nil {
			t.Fatal(err)
		}
		if got := next(t, ch, time.Second); got != payload {
			t.Fatalf("round %d: notification %q, want %q", round, got, payload)
		}
	}
	cancel()
	select {
	case p, ok := <-ch:
		if ok {
			// Drain: a notification may have been on its way; the close must follow.
			t.Logf("after cancel: %q", p)
			if _, ok := <-ch; ok {
				t.Fatal("the channel stayed open after its context ended")
			}
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the channel did not close within 2 s of its context ending")
	}
	// Its connection is gone too.
	time.Sleep(100 * time.Millisecond)
	var left int
	if err := s.w.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()`, listenApp).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d listening connections left after the context ended", left)
	}
}

func TestCloseCallsOf(t *testing.T) { eachBackend(t, testCloseCallsOf) }

func testCloseCallsOf(t *testing.T, p place) {
	ctx := context.Background()
	s, other := p.open(t), p.open(t)
	now := time.Now().UTC()
	start := func(st *Store, instance, id string, answered, ended bool, at time.Time) {
		t.Helper()
		st.SetInstance(instance)
		c := sampleCall(id, at)
		c.Household = "mum"
		evs := []call.Event{{CallID: id, Kind: call.CallStarted, At: at, Call: c}}
		if answered {
			c.AnsweredAt = at.Add(time.Second)
			evs = append(evs, call.Event{CallID: id, Kind: call.CallAnswered, At: c.AnsweredAt, Call: c})
		}
		if ended {
			c.EndedAt, c.EndedBy, c.Outcome = at.Add(2*time.Second), call.ByHousehold, call.Completed
			c.Legs[0].ReleasedAt, c.Legs[1].ReleasedAt = c.EndedAt, c.EndedAt
			evs = append(evs, call.Event{CallID: id, Kind: call.CallEnded, At: c.EndedAt, Call: c})
		}
		if err := st.Write(ctx, store.Batch{Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	// guard-a stopped 20 s ago with two calls open (one answered) and one ended;
	// guard-b is alive with one open; a call recorded with no instance stays as it is.
	start(s, "guard-a", "a-talking", true, false, now)
	start(s, "guard-a", "a-ringing", false, false, now)
	start(s, "guard-a", "a-done", true, true, now)
	start(s, "guard-b", "b-talking", true, false, now)
	start(s, "", "nobody", true, false, now)
	// guard-c was restarted under the same ID: its call from before it started is its
	// previous process's; the one after is live.
	start(s, "guard-c", "c-before", true, false, s.opened.Add(-time.Minute))
	start(s, "guard-c", "c-after", true, false, now)
	for _, hb := range []struct {
		id string
		at time.Time
	}{{"guard-a", now.Add(-20 * time.Second)}, {"guard-b", now}, {"guard-c", now}} {
		if err := s.Heartbeat(ctx, hb.id, "127.0.0.1:5060", hb.at); err != nil {
			t.Fatal(err)
		}
	}
	// What guard-b's dashboard shows of the others' calls: guard-c's, not the stopped
	// guard-a's, not its own, not an instance-less one.
	elsewhere, err := s.OpenCallsElsewhere(ctx, "guard-b", now.Add(-10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range elsewhere {
		ids = append(ids, c.ID)
	}
	if slices.Sort(ids); !slices.Equal(ids, []string{"c-after", "c-before"}) {
		t.Errorf("open calls elsewhere for guard-b: %v; want c-after, c-before", ids)
	}
	var instance string
	if err := s.r.QueryRowContext(ctx, `SELECT instance FROM calls WHERE id = 'a-talking'`).Scan(&instance); err != nil || instance != "guard-a" {
		t.Fatalf("a-talking recorded for instance %q, %v; want guard-a", instance, err)
	}
	evsBefore, err := s.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}

	// Two sweepers at once (the other store records as guard-b): each call is ended once.
	// On SQLite, one guard, one writer: one after the other.
	other.SetInstance("guard-b")
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i, st := range []*Store{s, other} {
		wg.Go(func() { counts[i], errs[i] = st.CloseCallsOf(ctx, now.Add(-10*time.Second)) })
		if !s.IsPostgres() {
			wg.Wait()
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if counts[0]+counts[1] != 3 {
		t.Fatalf("the sweepers closed %d and %d calls, want 3 in all (a-talking, a-ringing, c-before)", counts[0], counts[1])
	}
	if n, err := s.CloseCallsOf(ctx, now.Add(-10*time.Second)); err != nil || n != 0 {
		t.Fatalf("closing again = %d, %v; want 0", n, err)
	}

	want := map[string]struct {
		open    bool
		outcome call.Outcome
	}{
		"a-talking": {false, call.Completed}, "a-ringing": {false, call.Failed}, "c-before": {false, call.Completed},
		"a-done": {false, call.Completed}, "b-talking": {true, call.Ongoing}, "nobody": {true, call.Ongoing}, "c-after": {true, call.Ongoing},
	}
	for id, w := range want {
		c, err := s.Call(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.EndedAt.IsZero() != w.open || c.Outcome != w.outcome {
			t.Errorf("%s: ended at %v, outcome %v; want open=%v, %v", id, c.EndedAt, c.Outcome, w.open, w.outcome)
		}
		if id == "a-talking" || id == "a-ringing" || id == "c-before" {
			if c.EndedBy != call.ByGuard || c.Reason != "the guard handling the call stopped" {
				t.Errorf("%s: ended by %v because %q", id, c.EndedBy, c.Reason)
			}
			if c.EndedAt.Before(now) {
				t.Errorf("%s: ended at %v, before the sweep", id, c.EndedAt)
			}
			for _, l := range c.Legs {
				if l.ReleasedAt.IsZero() {
					t.Errorf("%s: leg %v not released", id, l.Side)
				}
			}
		}
	}
	if err := s.r.QueryRowContext(ctx, `SELECT instance FROM calls WHERE id = 'a-talking'`).Scan(&instance); err != nil || instance != "guard-a" {
		t.Fatalf("after the sweep a-talking is guard-%q's, %v; want guard-a's still", instance, err)
	}

	evs, err := s.Events(ctx, evsBefore[len(evsBefore)-1].Seq, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ended := map[string]int{}
	for _, ev := range evs {
		if ev.Kind != call.CallEnded {
			t.Errorf("the sweep wrote a %v event for %s", ev.Kind, ev.CallID)
			continue
		}
		ended[ev.CallID]++
		if ev.Call.Reason != "the guard handling the call stopped" || ev.Call.EndedAt.IsZero() || ev.Call.Household != "mum" {
			t.Errorf("%s's call.ended event carries %+v", ev.CallID, ev.Call)
		}
	}
	if len(ended) != 3 || ended["a-talking"] != 1 || ended["a-ringing"] != 1 || ended["c-before"] != 1 {
		t.Fatalf("call.ended events written by the sweep: %v; want one each for a-talking, a-ringing, c-before", ended)
	}

	// guard-a had not stopped: it was cut off from the database. Back, it records the end
	// of a-talking as it happened; the call's end is not sent out again, the record is
	// corrected. A call it ends that was not swept (a new one) is sent out as ever.
	afterSweep := evs[len(evs)-1].Seq
	start(s, "guard-a", "a-talking", true, true, now)
	start(s, "guard-a", "a-new", true, true, now)
	late, err := s.Events(ctx, afterSweep, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ended = map[string]int{}
	for _, ev := range late {
		if ev.Kind == call.CallEnded {
			ended[ev.CallID]++
		}
	}
	if ended["a-talking"] != 0 || ended["a-new"] != 1 {
		t.Errorf("call.ended events after guard-a came back: %v; want none for a-talking, one for a-new", ended)
	}
	if c, err := s.Call(ctx, "a-talking"); err != nil || c.EndedBy != call.ByHousehold || c.Reason == ReasonInstanceStopped {
		t.Errorf("a-talking after guard-a's own end: ended by %v because %q, %v; want the household's end", c.EndedBy, c.Reason, err)
	}
}
