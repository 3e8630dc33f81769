// Package sqlite is the guard's store on SQL. It is named for its first backend, and
// SQLite is still the default: one file in the data directory, opened through the pure-Go
// modernc.org/sqlite driver in WAL mode, with writes through a single connection (SQLite
// has one writer) and reads through a small pool of their own. Given a postgres:// URL it
// keeps the same data in PostgreSQL instead, through pgx. The queries and the migrations
// are written once, in SQL both understand: placeholders are rewritten for PostgreSQL
// (db.go), and the migrations' few SQLite type names translated for it (postgresDDL).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/migrate"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store (and a dash.Store) on SQLite or PostgreSQL.
type Store struct {
	w, r  handle // on PostgreSQL, one pool for both
	pg    bool
	path  string // the SQLite file, or ""
	where string
	// closed tells a leader (RunAsLeader) that the store was closed.
	closed closeSignal

	cluster // the instance it records calls for, and the database's URL for Listen (cluster.go)
}

var _ store.Store = (*Store)(nil)

// openTimeout bounds how long opening waits for PostgreSQL to answer: the guard opens its
// store before it takes calls, and calls must not wait long on a database that is down.
const openTimeout = 10 * time.Second

// Open opens (creating if needed) clearline.db in dir and applies pending migrations.
func Open(dir string) (*Store, error) { return OpenDatabase(context.Background(), "", dir) }

// OpenDatabase opens the guard's database: PostgreSQL when database is a postgres:// (or
// postgresql://) URL, clearline.db in dir when database is empty. Pending migrations are
// applied. Anything else is refused.
func OpenDatabase(ctx context.Context, database, dir string) (*Store, error) {
	s, err := connect(database, dir)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := s.w.PingContext(pingCtx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store %s: %w", s.where, err)
	}
	if err := s.migrate(ctx, migrations); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// isPostgres says whether database names PostgreSQL (a postgres:// or postgresql:// URL).
func isPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

func connect(database, dir string) (*Store, error) {
	if isPostgres(database) {
		// The data directory holds more than SQLite's file (the setup, its code, the hub's
		// NATS): it is made on PostgreSQL too, as it always was.
		if dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: data directory: %w", err)
			}
		}
		// pgx's errors show the URL with its password crossed out.
		cfg, err := pgx.ParseConfig(database)
		if err != nil {
			return nil, fmt.Errorf("store: database: %w", err)
		}
		db, err := sql.Open("pgx", database)
		if err != nil {
			return nil, fmt.Errorf("store: database: %w", err)
		}
		db.SetMaxOpenConns(8)
		h := handle{DB: db, pg: true}
		where := fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
		return &Store{w: h, r: h, pg: true, where: where, cluster: newCluster(database)}, nil
	}
	if database != "" {
		// Not quoted: it may hold a password.
		kind := ""
		if scheme, _, ok := strings.Cut(database, "://"); ok {
			kind = ", not a " + scheme + ":// URL"
		}
		return nil, fmt.Errorf("store: database: want empty (SQLite in the data directory) or a postgres:// URL%s", kind)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: data directory: %w", err)
	}
	path := filepath.Join(dir, "clearline.db")
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(4)
	return &Store{w: handle{DB: w}, r: handle{DB: r}, path: path, where: path, cluster: newCluster("")}, nil
}

// Path is the SQLite database file, or "" on PostgreSQL.
func (s *Store) Path() string { return s.path }

// Where says where the store is, for the log: the SQLite file, or PostgreSQL's host and
// database (never the URL's password).
func (s *Store) Where() string { return s.where }

// Close closes the pools.
func (s *Store) Close() error {
	s.closed.close()
	if s.pg {
		return s.w.Close()
	}
	return errors.Join(s.w.Close(), s.r.Close())
}

// migrate applies the migrations in files (migrations/*.sql) not applied yet: as written
// on SQLite, translated on PostgreSQL. On PostgreSQL, guards starting together on one
// database migrate one after the other, under an advisory lock held by a connection of
// its own: the next finds the migrations applied.
func (s *Store) migrate(ctx context.Context, files fs.FS) error {
	rb := func(q string) string { return rebind(s.pg, q) }
	if s.pg {
		files = translated{FS: files, f: postgresDDL}
		c, err := s.w.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store %s: %w", s.where, err)
		}
		defer c.Close() // ends the session's lock with it, if the unlock below did not run
		if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, lockSpace, lockMigrations); err != nil {
			return fmt.Errorf("store %s: migrations lock: %w", s.where, err)
		}
		defer c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, lockSpace, lockMigrations)
	}
	if err := migrate.Apply(ctx, s.w.DB, files, "migrations/*.sql", "schema_migrations", rb); err != nil {
		return fmt.Errorf("store %s: %w", s.where, err)
	}
	return nil
}

// Ping checks that the database can still be written (and, on SQLite, that its file is
// still there).
func (s *Store) Ping(ctx context.Context) error {
	if !s.pg {
		if _, err := os.Stat(s.path); err != nil {
			return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
		}
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE schema_migrations SET applied_at = applied_at WHERE version = 0`); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

// Write commits every event and its call snapshot in one transaction. A call that several
// events of the batch carry is written once, as the last of them has it.
//
// Consumers read the outbox in seq order and remember the last seq they read, so a seq
// must never become visible after a higher one: a consumer that had passed it would never
// read its event. SQLite has one writer, so batches commit in the order they take their
// seqs. On PostgreSQL, sequence values are taken when rows are inserted but seen only when
// their transactions commit, in whatever order those finish; so each batch first takes the
// outbox's advisory lock (pg_advisory_xact_lock), which PostgreSQL releases only after the
// commit is visible. A batch thus takes its seqs after every earlier batch's are visible,
// and every reader sees the outbox as a prefix of the seq order, with at most gaps that
// will never fill (a rolled-back batch's seqs).
func (s *Store) Write(ctx context.Context, b store.Batch) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer tx.Rollback()
	if err := tx.lock(ctx, lockOutbox); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	st, err := prepare(ctx, tx)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer st.close()
	st.instance = s.Instance()
	last := make(map[string]int, len(b.Events))
	for i, ev := range b.Events {
		last[ev.Call.ID] = i
	}
	swept, err := sweptOf(ctx, tx, st.instance, b.Events)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	for i, ev := range b.Events {
		if last[ev.Call.ID] == i {
			if err := st.call(ctx, ev.Call); err != nil {
				return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
			}
		}
		if ev.Kind == call.CallEnded && swept[ev.CallID] {
			continue // its end went out when the leader closed it; the record takes the real one
		}
		if err := st.event(ctx, ev); err != nil {
			return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

// sweptOf are the batch's calls that the service's leader has already closed for an instance
// it took for stopped (CloseCallsOf) — one cut off from the database for longer than the
// leader waits, not stopped. Their call.ended went out then, and is not written twice: the
// instance's own end of the call only corrects the record. Only a service's instances
// (instance not "") have calls closed for them.
func sweptOf(ctx context.Context, tx *txn, instance string, evs []call.Event) (map[string]bool, error) {
	if instance == "" {
		return nil, nil
	}
	var ids []string
	for _, ev := range evs {
		if ev.Kind == call.CallEnded {
			ids = append(ids, ev.CallID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := inList("id", ids)
	rows, err := tx.QueryContext(ctx, `SELECT id FROM calls WHERE ended_at IS NOT NULL AND reason = ? AND `+in, append([]any{ReasonInstanceStopped}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	swept := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		swept[id] = true
	}
	return swept, rows.Err()
}

// statements are the batch's prepared statements: SQLite parses each once per batch, not
// once per row.
type statements struct {
	calls, legs, events *sql.Stmt
	instance            string // the instance a new call is recorded for (SetInstance)
}

func prepare(ctx context.Context, tx *txn) (*statements, error) {
	var st statements
	var err error
	if st.calls, err = tx.PrepareContext(ctx, `
INSERT INTO calls (id, direction, from_party, to_party, emergency, started_at, answered_at, ended_at, ended_by, outcome, reason, verdict, reasons, risk, household, risk_level, claim, ended_by_user, carer, instance)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET answered_at = excluded.answered_at, ended_at = excluded.ended_at,
  ended_by = excluded.ended_by, outcome = excluded.outcome, reason = excluded.reason,
  verdict = excluded.verdict, reasons = excluded.reasons, risk = excluded.risk, risk_level = excluded.risk_level,
  claim = excluded.claim, ended_by_user = excluded.ended_by_user, carer = excluded.carer,
  instance = CASE WHEN calls.instance = '' THEN excluded.instance ELSE calls.instance END`); err != nil {
		return nil, err
	}
	if st.legs, err = tx.PrepareContext(ctx, `
INSERT INTO legs (call_id, side, peer, released_at) VALUES (?, ?, ?, ?)
ON CONFLICT (call_id, side) DO UPDATE SET peer = excluded.peer, released_at = excluded.released_at`); err != nil {
		st.close()
		return nil, err
	}
	if st.events, err = tx.PrepareContext(ctx, `INSERT INTO events (call_id, kind, at, payload) VALUES (?, ?, ?, ?)`); err != nil {
		st.close()
		return nil, err
	}
	return &st, nil
}

func (st *statements) close() {
	for _, s := range []*sql.Stmt{st.calls, st.legs, st.events} {
		if s != nil {
			s.Close()
		}
	}
}

func (st *statements) call(ctx context.Context, c call.Call) error {
	reasons := []byte("[]")
	if c.Reasons != nil {
		var err error
		if reasons, err = json.Marshal(c.Reasons); err != nil {
			return err
		}
	}
	var risk []byte
	level := 0.0
	if c.Risk != nil {
		var err error
		if risk, err = json.Marshal(c.Risk); err != nil {
			return err
		}
		level = c.Risk.Level
	}
	var claimed []byte
	if c.Claim != nil {
		var err error
		if claimed, err = json.Marshal(c.Claim); err != nil {
			return err
		}
	}
	var carer []byte
	if c.Carer != nil {
		var err error
		if carer, err = json.Marshal(c.Carer); err != nil {
			return err
		}
	}
	if _, err := st.calls.ExecContext(ctx, c.ID, c.Direction.String(), c.From, c.To, boolInt(c.Emergency), micros(c.StartedAt),
		nullMicros(c.AnsweredAt), nullMicros(c.EndedAt), c.EndedBy.String(), c.Outcome.String(), c.Reason, c.Verdict, string(reasons), string(risk), c.Household, level, string(claimed), c.EndedByUser, string(carer), st.instance); err != nil {
		return fmt.Errorf("call %s: %w", c.ID, err)
	}
	for _, l := range c.Legs {
		if _, err := st.legs.ExecContext(ctx, c.ID, l.Side.String(), l.Peer, nullMicros(l.ReleasedAt)); err != nil {
			return fmt.Errorf("leg %s/%s: %w", c.ID, l.Side, err)
		}
	}
	return nil
}

func (st *statements) event(ctx context.Context, ev call.Event) error {
	payload, err := ev.Payload()
	if err != nil {
		return err
	}
	_, err = st.events.ExecContext(ctx, ev.CallID, ev.Kind.String(), micros(ev.At), string(payload))
	return err
}

const callColumns = `id, direction, from_party, to_party, emergency, started_at, answered_at, ended_at, ended_by, outcome, reason, verdict, reasons, risk, household, claim, ended_by_user, carer`

// Calls returns calls newest first, with their legs.
func (s *Store) Calls(ctx context.Context, q store.Query) ([]call.Call, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	before := int64(1<<63 - 1)
	if !q.Before.IsZero() {
		before = micros(q.Before)
	}
	where, args := []string{"started_at < ?"}, []any{before}
	if !q.Since.IsZero() {
		where, args = append(where, "started_at >= ?"), append(args, micros(q.Since))
	}
	if q.Households != nil {
		if len(q.Households) == 0 {
			return nil, nil
		}
		where = append(where, "household IN (?"+strings.Repeat(",?", len(q.Households)-1)+")")
		for _, h := range q.Households {
			args = append(args, h)
		}
	}
	if q.Verdict != "" {
		where, args = append(where, "verdict = ?"), append(args, q.Verdict)
	}
	if q.Risky {
		where = append(where, "(verdict IN ('warn', 'screen', 'block') OR risk_level >= 0.5)")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+callColumns+` FROM calls WHERE `+strings.Join(where, " AND ")+` ORDER BY started_at DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	calls, err := scanCalls(rows)
	if err != nil {
		return nil, err
	}
	return withLegs(ctx, s.r, calls)
}

// scanCalls reads rows of callColumns, and closes them.
func scanCalls(rows *sql.Rows) ([]call.Call, error) {
	defer rows.Close()
	var calls []call.Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return calls, nil
}

// legsPerQuery bounds the calls whose legs one query reads: SQLite takes at most 32,766
// parameters in a statement, PostgreSQL 65,535.
const legsPerQuery = 1000

// withLegs reads the legs of calls through db and gives calls with them.
func withLegs(ctx context.Context, db querier, calls []call.Call) ([]call.Call, error) {
	index := make(map[string]int, len(calls))
	for i, c := range calls {
		index[c.ID] = i
	}
	for from := 0; from < len(calls); from += legsPerQuery {
		part := calls[from:min(from+legsPerQuery, len(calls))]
		ids := make([]string, len(part))
		for i, c := range part {
			ids[i] = c.ID
		}
		in, args := inList("call_id", ids)
		legs, err := db.QueryContext(ctx, `SELECT call_id, side, peer, released_at FROM legs WHERE `+in+` ORDER BY call_id, side DESC`, args...)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
		}
		for legs.Next() {
			id, l, err := scanLeg(legs)
			if err != nil {
				legs.Close()
				return nil, err
			}
			c := &calls[index[id]]
			c.Legs = append(c.Legs, l)
		}
		err = legs.Err()
		legs.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
		}
	}
	return calls, nil
}

// Call returns one call by ID.
func (s *Store) Call(ctx context.Context, id string) (call.Call, error) {
	c, err := scanCall(s.r.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, store.ErrNotFound
	}
	if err != nil {
		return c, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT call_id, side, peer, released_at FROM legs WHERE call_id = ? ORDER BY side DESC`, id)
	if err != nil {
		return c, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		_, l, err := scanLeg(rows)
		if err != nil {
			return c, err
		}
		c.Legs = append(c.Legs, l)
	}
	return c, rows.Err()
}

// Events returns outbox events after seq, oldest first.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]call.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, call_id, kind, at, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer rows.Close()
	var evs []call.Event
	for rows.Next() {
		var ev call.Event
		var kind, payload string
		var at int64
		if err := rows.Scan(&ev.Seq, &ev.CallID, &kind, &at, &payload); err != nil {
			return nil, err
		}
		if err := ev.Kind.UnmarshalText([]byte(kind)); err != nil {
			return nil, fmt.Errorf("event %d: %w", ev.Seq, err)
		}
		ev.At = time.UnixMicro(at).UTC()
		if err := json.Unmarshal([]byte(payload), &ev.Call); err != nil {
			return nil, fmt.Errorf("event %d: %w", ev.Seq, err)
		}
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

type scanner interface{ Scan(...any) error }

func scanCall(row scanner) (call.Call, error) {
	var c call.Call
	var dir, endedBy, outcome, reasons, risk, claimed, carer string
	var emergency, started int64
	var answered, ended sql.NullInt64
	if err := row.Scan(&c.ID, &dir, &c.From, &c.To, &emergency, &started, &answered, &ended, &endedBy, &outcome, &c.Reason, &c.Verdict, &reasons, &risk, &c.Household, &claimed, &c.EndedByUser, &carer); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(reasons), &c.Reasons); err != nil {
		return c, fmt.Errorf("call %s: reasons: %w", c.ID, err)
	}
	if risk != "" {
		c.Risk = new(call.Risk)
		if err := json.Unmarshal([]byte(risk), c.Risk); err != nil {
			return c, fmt.Errorf("call %s: risk: %w", c.ID, err)
		}
	}
	if claimed != "" {
		c.Claim = new(call.Claim)
		if err := json.Unmarshal([]byte(claimed), c.Claim); err != nil {
			return c, fmt.Errorf("call %s: claim: %w", c.ID, err)
		}
	}
	if carer != "" {
		c.Carer = new(call.CarerCheck)
		if err := json.Unmarshal([]byte(carer), c.Carer); err != nil {
			return c, fmt.Errorf("call %s: carer: %w", c.ID, err)
		}
	}
	c.Emergency = emergency != 0
	c.StartedAt = time.UnixMicro(started).UTC()
	c.AnsweredAt = fromNull(answered)
	c.EndedAt = fromNull(ended)
	return c, errors.Join(c.Direction.UnmarshalText([]byte(dir)), c.EndedBy.UnmarshalText([]byte(endedBy)), c.Outcome.UnmarshalText([]byte(outcome)))
}

func scanLeg(row scanner) (string, call.Leg, error) {
	var id, side string
	var l call.Leg
	var released sql.NullInt64
	if err := row.Scan(&id, &side, &l.Peer, &released); err != nil {
		return "", l, err
	}
	l.ReleasedAt = fromNull(released)
	return id, l, l.Side.UnmarshalText([]byte(side))
}

// boolInt is a flag as the INTEGER column both databases keep it in.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNull(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}
