// Package sqlite is the embedded Store: one SQLite file in the data directory, opened
// through the pure-Go modernc.org/sqlite driver in WAL mode. Writes go through a single
// connection (SQLite has one writer); reads use a small pool of their own.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/migrate"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store on a SQLite file.
type Store struct {
	w, r *sql.DB
	path string
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) clearline.db in dir and applies pending migrations.
func Open(dir string) (*Store, error) {
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
	s := &Store{w: w, r: r, path: path}
	if err := s.migrate(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes both pools.
func (s *Store) Close() error { return errors.Join(s.w.Close(), s.r.Close()) }

func (s *Store) migrate(ctx context.Context) error {
	if err := migrate.Apply(ctx, s.w, migrations, "migrations/*.sql", "schema_migrations", nil); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Ping checks that the file can still be written.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := os.Stat(s.path); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE schema_migrations SET applied_at = applied_at WHERE version = 0`); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

// Write commits every event and its call snapshot in one transaction. A call that several
// events of the batch carry is written once, as the last of them has it.
func (s *Store) Write(ctx context.Context, b store.Batch) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer tx.Rollback()
	st, err := prepare(ctx, tx)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer st.close()
	last := make(map[string]int, len(b.Events))
	for i, ev := range b.Events {
		last[ev.Call.ID] = i
	}
	for i, ev := range b.Events {
		if last[ev.Call.ID] == i {
			if err := st.call(ctx, ev.Call); err != nil {
				return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
			}
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

// statements are the batch's prepared statements: SQLite parses each once per batch, not
// once per row.
type statements struct {
	calls, legs, events *sql.Stmt
}

func prepare(ctx context.Context, tx *sql.Tx) (*statements, error) {
	var st statements
	var err error
	if st.calls, err = tx.PrepareContext(ctx, `
INSERT INTO calls (id, direction, from_party, to_party, emergency, started_at, answered_at, ended_at, ended_by, outcome, reason, verdict, reasons, risk, household, risk_level, claim, ended_by_user, carer)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET answered_at = excluded.answered_at, ended_at = excluded.ended_at,
  ended_by = excluded.ended_by, outcome = excluded.outcome, reason = excluded.reason,
  verdict = excluded.verdict, reasons = excluded.reasons, risk = excluded.risk, risk_level = excluded.risk_level,
  claim = excluded.claim, ended_by_user = excluded.ended_by_user, carer = excluded.carer`); err != nil {
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
	if _, err := st.calls.ExecContext(ctx, c.ID, c.Direction.String(), c.From, c.To, c.Emergency, micros(c.StartedAt),
		nullMicros(c.AnsweredAt), nullMicros(c.EndedAt), c.EndedBy.String(), c.Outcome.String(), c.Reason, c.Verdict, string(reasons), string(risk), c.Household, level, string(claimed), c.EndedByUser, string(carer)); err != nil {
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
	defer rows.Close()
	var calls []call.Call
	index := map[string]int{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		index[c.ID] = len(calls)
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	if len(calls) == 0 {
		return calls, nil
	}
	ids := make([]any, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	legs, err := s.r.QueryContext(ctx, `SELECT call_id, side, peer, released_at FROM legs WHERE call_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) ORDER BY call_id, side DESC`, ids...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer legs.Close()
	for legs.Next() {
		id, l, err := scanLeg(legs)
		if err != nil {
			return nil, err
		}
		c := &calls[index[id]]
		c.Legs = append(c.Legs, l)
	}
	return calls, legs.Err()
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
	var started int64
	var answered, ended sql.NullInt64
	if err := row.Scan(&c.ID, &dir, &c.From, &c.To, &c.Emergency, &started, &answered, &ended, &endedBy, &outcome, &c.Reason, &c.Verdict, &reasons, &risk, &c.Household, &claimed, &c.EndedByUser, &carer); err != nil {
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
