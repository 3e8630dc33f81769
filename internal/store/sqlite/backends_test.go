package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/migrate"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

// Writers appending to the outbox at once, and consumers reading it as they write, each
// remembering only the last seq it read (as every consumer does): every event written
// reaches every consumer, exactly once, in seq order. On PostgreSQL this holds only
// because appends are serialised (Write's advisory lock); without it, a batch that took
// its seqs first but committed last is passed over by a consumer for good.
func TestOutboxNeverSkipsUnderConcurrentWriters(t *testing.T) {
	eachBackend(t, testOutboxNeverSkips)
}

func testOutboxNeverSkips(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	const writers, batches, perBatch = 4, 25, 6
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				evs := make([]call.Event, perBatch)
				for e := range evs {
					c := sampleCall(fmt.Sprintf("w%d-b%d-e%d", w, b, e), t0)
					c.Household = "mum"
					evs[e] = call.Event{CallID: c.ID, Kind: call.CallStarted, At: t0, Call: c}
				}
				if err := s.Write(ctx, store.Batch{Events: evs}); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		})
	}

	// Reader 1: the outbox API, a page at a time from its cursor.
	seen := map[string]int{}
	var readers sync.WaitGroup
	readers.Go(func() {
		var after int64
		for {
			last := done.Load() // read before the page: a page read after every write is final
			evs, err := s.Events(ctx, after, 7)
			if err != nil {
				errs <- fmt.Errorf("events: %w", err)
				return
			}
			for _, ev := range evs {
				if ev.Seq <= after {
					errs <- fmt.Errorf("event seq %d after %d: out of order", ev.Seq, after)
					return
				}
				after = ev.Seq
				seen[ev.CallID]++
			}
			if last && len(evs) == 0 {
				return
			}
		}
	})
	// Reader 2: the alerts' consumer, which turns every event into an alert here.
	var made int
	readers.Go(func() {
		for {
			last := done.Load()
			n, err := s.TakeAlerts(ctx, "test", func(seq int64, kind, household, callID string, payload []byte) (*dash.Alert, bool) {
				return &dash.Alert{HouseholdID: household, CallID: callID, At: t0, Title: kind, Body: callID}, true
			}, func(string) ([]dash.User, error) { return nil, nil })
			if err != nil {
				errs <- fmt.Errorf("take alerts: %w", err)
				return
			}
			made += n
			if last && n == 0 {
				return
			}
		}
	})
	wg.Wait()
	done.Store(true)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := writers * batches * perBatch
	if len(seen) != total {
		t.Errorf("the outbox's reader saw %d of the %d events written", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event of %s read %d times", id, n)
		}
	}
	if made != total {
		t.Errorf("the alerts' consumer made %d alerts of the %d events written", made, total)
	}
	as, err := s.Alerts(ctx, nil, true, 2*total)
	if err != nil || len(as) != total {
		t.Fatalf("%d alerts stored (%v); want %d", len(as), err, total)
	}
}

// The dashboard's side of the store, on both databases: households, people and their
// homes, sessions, alerts from the outbox with their deliveries, community alerts, cursors.
func TestDashboardStore(t *testing.T) { eachBackend(t, testDashboardStore) }

func testDashboardStore(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	set := dash.DefaultSettings()
	h, err := s.EnsureHousehold(ctx, dash.Household{ID: "mum", Name: "Mum's house", Settings: set})
	if err != nil || h.Name != "Mum's house" || h.Settings.WarnAt != dash.DefaultWarnAt || h.CreatedAt.IsZero() {
		t.Fatalf("EnsureHousehold = %+v, %v", h, err)
	}
	if h, err = s.EnsureHousehold(ctx, dash.Household{ID: "mum", Name: "Another name"}); err != nil || h.Name != "Mum's house" {
		t.Fatalf("EnsureHousehold of an existing household = %+v, %v; want it unchanged", h, err)
	}
	if _, err := s.EnsureHousehold(ctx, dash.Household{ID: "dad", Name: "Dad's flat", Settings: set}); err != nil {
		t.Fatal(err)
	}
	set.QuietHours, set.Block = "22:00-07:00", []dash.Contact{{Number: "+441632960999", Name: "pest"}}
	if err := s.SaveSettings(ctx, "mum", set); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSettings(ctx, "nobody", set); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("SaveSettings of a missing household = %v", err)
	}
	if err := s.RenameHousehold(ctx, "dad", "Dad's bungalow"); err != nil {
		t.Fatal(err)
	}
	hs, err := s.Households(ctx)
	if err != nil || len(hs) != 2 || hs[0].Name != "Dad's bungalow" || hs[1].Settings.QuietHours != "22:00-07:00" || hs[1].Settings.Block[0].Name != "pest" {
		t.Fatalf("Households = %+v, %v", hs, err)
	}
	if _, err := s.Household(ctx, "nobody"); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("Household(nobody) = %v", err)
	}

	son, err := s.CreateUser(ctx, dash.User{Email: " Son@Example.org ", Name: "Son", Role: dash.Guardian}, "hash-1")
	if err != nil || son.ID == 0 || son.Email != "son@example.org" || len(son.Households) != 0 {
		t.Fatalf("CreateUser = %+v, %v", son, err)
	}
	if _, err := s.CreateUser(ctx, dash.User{Email: "son@example.org", Name: "Again", Role: dash.Guardian}, "x"); !errors.Is(err, dash.ErrExists) {
		t.Errorf("a second user with the same e-mail: %v; want ErrExists", err)
	}
	admin, err := s.CreateUser(ctx, dash.User{Email: "admin@example.org", Name: "Admin", Role: dash.Admin}, "hash-2")
	if err != nil || admin.ID == son.ID {
		t.Fatalf("second CreateUser = %+v, %v", admin, err)
	}
	if err := s.SetGuardian(ctx, son.ID, "mum", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGuardian(ctx, son.ID, "mum", true); err != nil {
		t.Errorf("SetGuardian twice: %v", err)
	}
	if err := s.SetGuardian(ctx, son.ID, "nobody", true); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("SetGuardian of a missing household = %v; want ErrNotFound", err)
	}
	if err := s.SetGuardian(ctx, 999999, "mum", true); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("SetGuardian of a missing user = %v; want ErrNotFound", err)
	}
	ch := dash.Channels{Webhook: "https://hooks.example/son", WebhookSecret: "0123456789abcdef", Email: "son@example.org", Phone: "07700 900123"}
	if err := s.SaveChannels(ctx, son.ID, ch); err != nil {
		t.Fatal(err)
	}
	u, hash, err := s.UserByEmail(ctx, "SON@example.org")
	if err != nil || hash != "hash-1" || u.ID != son.ID || u.Channels.Phone != "+447700900123" || u.Channels.Webhook != ch.Webhook ||
		len(u.Households) != 1 || u.Households[0] != "mum" {
		t.Fatalf("UserByEmail = %+v, %q, %v", u, hash, err)
	}
	if gs, err := s.Guardians(ctx, "mum"); err != nil || len(gs) != 1 || gs[0].ID != son.ID {
		t.Fatalf("Guardians(mum) = %+v, %v", gs, err)
	}
	if gs, err := s.Guardians(ctx, "dad"); err != nil || len(gs) != 0 {
		t.Fatalf("Guardians(dad) = %+v, %v", gs, err)
	}

	if err := s.CreateSession(ctx, "tok-1", son.ID, "csrf-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, "tok-old", son.ID, "csrf-0", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if id, csrf, err := s.Session(ctx, "tok-1"); err != nil || id != son.ID || csrf != "csrf-1" {
		t.Fatalf("Session = %d, %q, %v", id, csrf, err)
	}
	if _, _, err := s.Session(ctx, "tok-old"); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("an expired session: %v", err)
	}

	// Alerts from the outbox: one per event alertFor picks, a delivery per channel, and the
	// cursor past every event read.
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var evs []call.Event
	for i, hh := range []string{"mum", "dad", "mum"} {
		c := sampleCall(fmt.Sprintf("c%d", i), t0.Add(time.Duration(i)*time.Minute))
		c.Household, c.Emergency = hh, i == 1
		evs = append(evs, call.Event{CallID: c.ID, Kind: call.CallAlert, At: c.StartedAt, Call: c},
			call.Event{CallID: c.ID, Kind: call.CallEnded, At: c.StartedAt, Call: c})
	}
	if err := s.Write(ctx, store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Call(ctx, "c1"); err != nil || !c.Emergency || c.Household != "dad" {
		t.Fatalf("emergency call read back as %+v, %v", c, err)
	}
	if c, err := s.Call(ctx, "c0"); err != nil || c.Emergency {
		t.Fatalf("call read back as %+v, %v", c, err)
	}
	alertFor := func(seq int64, kind, household, callID string, payload []byte) (*dash.Alert, bool) {
		if kind != call.CallAlert.String() {
			return nil, false
		}
		return &dash.Alert{HouseholdID: household, CallID: callID, At: t0, Title: "Possible scam call", Body: "about " + callID}, true
	}
	recipients := func(household string) ([]dash.User, error) { return s.Guardians(ctx, household) }
	if n, err := s.TakeAlerts(ctx, "alerts", alertFor, recipients); err != nil || n != 3 {
		t.Fatalf("TakeAlerts = %d, %v; want 3 alerts", n, err)
	}
	if n, err := s.TakeAlerts(ctx, "alerts", alertFor, recipients); err != nil || n != 0 {
		t.Fatalf("TakeAlerts again = %d, %v; want none", n, err)
	}
	var last int64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(seq) FROM events`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if cur, err := s.Cursor(ctx, "alerts"); err != nil || cur != last {
		t.Errorf("cursor = %d, %v; want %d, the last event's", cur, err, last)
	}
	mine, err := s.Alerts(ctx, []string{"mum"}, false, 10)
	if err != nil || len(mine) != 2 || mine[0].CallID+mine[1].CallID != "c0c2" && mine[0].CallID+mine[1].CallID != "c2c0" {
		t.Fatalf("mum's alerts = %+v, %v", mine, err)
	}
	for _, a := range mine {
		if len(a.Deliveries) != 2 || a.Deliveries[0].Channel != "email" || a.Deliveries[1].Channel != "webhook" ||
			a.Deliveries[0].User != "Son" || a.Deliveries[0].State != dash.Pending {
			t.Errorf("alert %d's deliveries = %+v", a.ID, a.Deliveries)
		}
	}
	if as, err := s.Alerts(ctx, []string{"dad"}, false, 10); err != nil || len(as) != 1 || len(as[0].Deliveries) != 0 {
		t.Errorf("dad's alerts (no guardians) = %+v, %v", as, err)
	}
	if as, err := s.Alerts(ctx, nil, false, 10); err != nil || len(as) != 0 {
		t.Errorf("alerts of no household = %+v, %v", as, err)
	}
	if n, err := s.OpenAlerts(ctx, "mum"); err != nil || n != 2 {
		t.Errorf("OpenAlerts = %d, %v", n, err)
	}
	if err := s.AckAlert(ctx, mine[0].ID, "Son"); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Alert(ctx, mine[0].ID); err != nil || a.AckedBy != "Son" || a.AckedAt.IsZero() {
		t.Errorf("acknowledged alert = %+v, %v", a, err)
	}
	if n, _ := s.OpenAlerts(ctx, "mum"); n != 1 {
		t.Errorf("%d open alerts after one was acknowledged", n)
	}
	if err := s.AckAlert(ctx, 999999, "Son"); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("AckAlert of a missing alert = %v", err)
	}

	due, err := s.DueDeliveries(ctx, time.Now().Add(time.Minute), 100)
	if err != nil || len(due) != 4 {
		t.Fatalf("DueDeliveries = %+v, %v; want 4", due, err)
	}
	d := due[0]
	d.State, d.Attempts, d.DeliveredAt = dash.Delivered, 1, time.Now().UTC().Truncate(time.Microsecond)
	if err := s.MarkDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	d2 := due[1]
	d2.Attempts, d2.NextAt, d2.LastError = 1, time.Now().Add(time.Hour), "503 Service Unavailable"
	if err := s.MarkDelivery(ctx, d2); err != nil {
		t.Fatal(err)
	}
	if due, err := s.DueDeliveries(ctx, time.Now().Add(time.Minute), 100); err != nil || len(due) != 2 {
		t.Fatalf("DueDeliveries after one went and one was put off = %+v, %v; want 2", due, err)
	}
	if a, _ := s.Alert(ctx, d.AlertID); !hasDelivery(a, d.Channel, dash.Delivered, "") {
		t.Errorf("delivered: %+v", a.Deliveries)
	}
	if a, _ := s.Alert(ctx, d2.AlertID); !hasDelivery(a, d2.Channel, dash.Pending, "503 Service Unavailable") {
		t.Errorf("put off: %+v", a.Deliveries)
	}

	// Community alerts: once per household and ref, numbered below the outbox's events.
	for range 2 {
		if n, err := s.AddCommunityAlert(ctx, "mum", "hub-1", "Courier fraud in your area", "Police never collect cash.", t0); err != nil || n != 1 {
			t.Fatalf("AddCommunityAlert = %d, %v", n, err)
		}
	}
	if _, err := s.AddCommunityAlert(ctx, "mum", "hub-2", "Bank impersonation", "Ring the number on your card.", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCommunityAlert(ctx, "dad", "hub-1", "Courier fraud in your area", "Police never collect cash.", t0); err != nil {
		t.Fatal(err)
	}
	if as, err := s.Alerts(ctx, []string{"mum"}, false, 10); err != nil || len(as) != 4 {
		t.Fatalf("mum's alerts with community alerts = %d, %v; want 4", len(as), err)
	}
	var negative int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT event_seq) FROM alerts WHERE event_seq < 0`).Scan(&negative); err != nil || negative != 3 {
		t.Errorf("%d distinct negative event_seq (%v); want 3", negative, err)
	}

	if err := s.SetCursor(ctx, "hub", 42); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCursor(ctx, "hub", 43); err != nil {
		t.Fatal(err)
	}
	if cur, err := s.Cursor(ctx, "hub"); err != nil || cur != 43 {
		t.Errorf("Cursor(hub) = %d, %v", cur, err)
	}
	if cur, err := s.Cursor(ctx, "new"); err != nil || cur != 0 {
		t.Errorf("Cursor(new) = %d, %v", cur, err)
	}

	if err := s.SetPassword(ctx, son.ID, "hash-3"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, "tok-1"); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("a session after the password changed: %v", err)
	}
	if _, hash, _ := s.UserByEmail(ctx, "son@example.org"); hash != "hash-3" {
		t.Errorf("hash after SetPassword = %q", hash)
	}
	if err := s.CreateSession(ctx, "tok-2", son.ID, "csrf-2", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUser(ctx, son.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUser(ctx, son.ID); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("RemoveUser twice = %v", err)
	}
	if _, _, err := s.UserByEmail(ctx, "son@example.org"); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("a removed user logs in: %v", err)
	}
	if _, _, err := s.Session(ctx, "tok-2"); !errors.Is(err, dash.ErrNotFound) {
		t.Errorf("a removed user's session: %v", err)
	}
	if us, err := s.Users(ctx); err != nil || len(us) != 1 || us[0].ID != admin.ID {
		t.Errorf("Users after removal = %+v, %v", us, err)
	}
	if a, _ := s.Alert(ctx, d.AlertID); !hasDelivery(a, d.Channel, dash.Delivered, "") || a.Deliveries[0].User != "Son" {
		t.Errorf("a removed guardian's past deliveries: %+v", a.Deliveries)
	}
	if err := s.DeleteSession(ctx, "tok-1"); err != nil {
		t.Error(err)
	}
}

func hasDelivery(a dash.Alert, channel, state, lastError string) bool {
	for _, d := range a.Deliveries {
		if d.Channel == channel {
			return d.State == state && d.LastError == lastError
		}
	}
	return false
}

// A SQLite database made before PostgreSQL was supported (its migrations run as written,
// the way the store always ran them) opens and works, and a new one gets exactly the same
// schema: nothing is translated for SQLite.
func TestSQLiteSchemaAsBefore(t *testing.T) {
	ctx := context.Background()
	old := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(old, "clearline.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.Apply(ctx, db, migrations, "migrations/*.sql", "schema_migrations", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO users (email, name, role, password_hash, created_at) VALUES ('old@example.org', 'Old', 'admin', 'h', 1)`); err != nil {
		t.Fatal(err)
	}
	before := schema(t, db)
	db.Close()

	s := place{dir: old}.open(t)
	if got := schema(t, s.r.DB); got != before {
		t.Errorf("opening changed the schema:\n%s\nwas\n%s", got, before)
	}
	u, err := s.CreateUser(ctx, dash.User{Email: "new@example.org", Name: "New", Role: dash.Guardian}, "h")
	if err != nil || u.ID != 2 {
		t.Fatalf("CreateUser on an old database = %+v, %v", u, err)
	}
	if _, _, err := s.UserByEmail(ctx, "old@example.org"); err != nil {
		t.Errorf("the old database's user: %v", err)
	}
	fresh := place{dir: t.TempDir()}.open(t)
	if got := schema(t, fresh.r.DB); got != before {
		t.Errorf("a new database's schema:\n%s\nan old one's:\n%s", got, before)
	}
}

func schema(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT type, name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, q string
		if err := rows.Scan(&typ, &name, &q); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, q)
	}
	return b.String()
}

// A migration written in plain SQL both databases read alike, as the next ones will be,
// applies on both through the store's migrations, after the existing ones, and once.
func TestPlainMigrationAppliesOnBoth(t *testing.T) { eachBackend(t, testPlainMigration) }

func testPlainMigration(t *testing.T, p place) {
	ctx := context.Background()
	s := p.open(t)
	files := fstest.MapFS{"migrations/900_numbers.sql": {Data: []byte(`-- A household's numbers, for a test.
CREATE TABLE test_numbers (
    number       TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    added_at     BIGINT NOT NULL,
    score        DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX test_numbers_household ON test_numbers (household_id);
ALTER TABLE households ADD COLUMN test_district TEXT NOT NULL DEFAULT '';
`)}}
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(migrations, "migrations/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		files["migrations/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	for range 2 {
		if err := s.migrate(ctx, files); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.EnsureHousehold(ctx, dash.Household{ID: "mum", Name: "Mum"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO test_numbers (number, household_id, added_at, score) VALUES (?, ?, ?, ?)`, "+441632960123", "mum", int64(1)<<40, 0.25); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO test_numbers (number, household_id, added_at) VALUES (?, ?, ?)`, "+441632960124", "nobody", 1); !isForeignKey(err) {
		t.Errorf("a number for a missing household: %v; want the foreign key to refuse it", err)
	}
	var n int
	var added int64
	var score float64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(added_at), MAX(score) FROM test_numbers WHERE household_id = ?`, "mum").Scan(&n, &added, &score); err != nil ||
		n != 1 || added != 1<<40 || score != 0.25 {
		t.Errorf("test_numbers: %d rows, added %d, score %v, %v", n, added, score, err)
	}
	var version int
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != 900 {
		t.Errorf("schema version %d, %v", version, err)
	}
}

// The translation for PostgreSQL touches only the types it names.
func TestPostgresDDL(t *testing.T) {
	for in, want := range map[string]string{
		"id INTEGER PRIMARY KEY AUTOINCREMENT,":          "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,",
		"seq     INTEGER PRIMARY KEY AUTOINCREMENT":      "seq     BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
		"user_id INTEGER NOT NULL REFERENCES users (id)": "user_id BIGINT NOT NULL REFERENCES users (id)",
		"ADD COLUMN risk_level REAL NOT NULL DEFAULT 0":  "ADD COLUMN risk_level DOUBLE PRECISION NOT NULL DEFAULT 0",
		"name TEXT NOT NULL, at BIGINT, INTEGERS_X TEXT": "name TEXT NOT NULL, at BIGINT, INTEGERS_X TEXT",
		"-- Real, not toy: an integer":                   "-- Real, not toy: an integer",
	} {
		if got := postgresDDL(in); got != want {
			t.Errorf("postgresDDL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A database that is neither empty nor a PostgreSQL URL, or a PostgreSQL URL that cannot
// be used, is refused with an error that says so and never shows the URL's password.
func TestBadDatabase(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct{ database, want string }{
		{"mysql://guard:hunter2@db/clearline", "store: database: want empty (SQLite in the data directory) or a postgres:// URL, not a mysql:// URL"},
		{"/var/lib/clearline/clearline.db", "store: database: want empty (SQLite in the data directory) or a postgres:// URL"},
		{"postgres://guard:hunter2@db.example.org:port/clearline", "store: database: cannot parse"},
		{"postgres://guard:hunter2@127.0.0.1:1/clearline?sslmode=disable&connect_timeout=2", "store PostgreSQL 127.0.0.1:1/clearline: "},
		{"postgres://guard:hunter2@127.0.0.1/clearline?sslmode=sometimes", "store: database"},
	} {
		s, err := OpenDatabase(ctx, tt.database, t.TempDir())
		if err == nil {
			s.Close()
			t.Errorf("OpenDatabase(%q) opened", tt.database)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "store") {
			t.Errorf("OpenDatabase(%q) = %v; want it to say %q", tt.database, err, tt.want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("OpenDatabase(%q)'s error shows the password: %v", tt.database, err)
		}
	}
}

// On PostgreSQL, Ping says the store is unavailable while the server refuses the guard,
// and the store works again, without a restart, once it lets it back in.
func TestPostgresPingAndReturn(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s := place{database: url, dir: t.TempDir()}.open(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	var name string
	if err := s.r.QueryRowContext(ctx, `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", strings.Replace(url, "/"+name+"?", "/postgres?", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, q := range []string{`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `' AND pid <> pg_backend_pid()`} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ping while the server refuses = %v; want ErrUnavailable", err)
	}
	c := sampleCall("during", time.Now())
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: c.ID, Kind: call.CallStarted, At: c.StartedAt, Call: c}}}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write while the server refuses = %v; want ErrUnavailable", err)
	}
	if _, err := admin.ExecContext(ctx, `ALTER DATABASE `+name+` ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping once the server lets the guard in again: %v", err)
	}
	if err := s.Write(ctx, store.Batch{Events: []call.Event{{CallID: c.ID, Kind: call.CallStarted, At: c.StartedAt, Call: c}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Call(ctx, "during"); err != nil {
		t.Fatal(err)
	}
}

// Guards that start together on one new PostgreSQL database all open it: they migrate it
// one after the other, and each migration is applied once.
func TestPostgresGuardsMigrateTogether(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := OpenDatabase(context.Background(), url, t.TempDir())
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := place{database: url, dir: t.TempDir()}.open(t)
	var n, distinct int
	if err := s.r.QueryRowContext(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil || n != distinct || n < 9 {
		t.Errorf("schema_migrations: %d rows, %d versions, %v", n, distinct, err)
	}
}
