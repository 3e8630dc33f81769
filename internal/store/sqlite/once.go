package sqlite

// Exactly once with several guards on one PostgreSQL database: deliveries claimed with a
// lease (ClaimDeliveries), a leader among the guards for what only one of them may do
// (RunAsLeader), and one guard identity for the whole service (ServiceID). On SQLite there
// is one guard process per database, and each of these is its single-process self.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clearline/clearline/internal/dash"
)

// lockLeaderSpace + hashtext(name) is the session advisory lock a leader holds (RunAsLeader).
const lockLeaderSpace = 0x636c6e67

// ClaimDeliveries takes up to limit pending deliveries that are due at now and moves their
// next_at to now+lease in the same statement, so no other dispatcher on the database
// takes them while this one sends them. A dispatcher that dies before it marks them lets
// them fall due again after the lease, to be sent again — with the same delivery ID.
//
// On PostgreSQL the rows are chosen with FOR UPDATE SKIP LOCKED, so two dispatchers
// claiming at once take different rows without waiting on each other; the row lock
// re-checks the due condition on a row's newest version, and the UPDATE repeats it, so a
// row another dispatcher claimed and committed after this statement's snapshot is left out.
// SQLite has one writer: the select and the update run in one transaction.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]dash.Delivery, error) {
	if limit <= 0 {
		limit = 50
	}
	at, until := micros(now), micros(now.Add(lease))
	if s.pg {
		// The rows are picked in a CTE of their own: PostgreSQL evaluates it once, where an
		// IN (SELECT ... LIMIT ... FOR UPDATE) may be rescanned and take more than limit.
		rows, err := s.w.QueryContext(ctx, `WITH picked AS (
  SELECT alert_id, user_id, channel FROM deliveries WHERE state = 'pending' AND next_at <= ?
  ORDER BY next_at LIMIT ? FOR UPDATE SKIP LOCKED),
claimed AS (
  UPDATE deliveries d SET next_at = ? FROM picked p
  WHERE d.alert_id = p.alert_id AND d.user_id = p.user_id AND d.channel = p.channel
    AND d.state = 'pending' AND d.next_at <= ?
  RETURNING d.alert_id, d.user_id, d.channel, d.target, d.state, d.attempts, d.next_at, d.last_error, d.delivered_at)
SELECT c.alert_id, c.user_id, u.name, c.channel, c.target, c.state, c.attempts, c.next_at, c.last_error, c.delivered_at
FROM claimed c JOIN users u ON u.id = c.user_id ORDER BY c.alert_id, c.user_id, c.channel`, at, limit, until, at)
		if err != nil {
			return nil, fmt.Errorf("claiming deliveries: %w", err)
		}
		return scanDeliveries(rows)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claiming deliveries: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT d.alert_id, d.user_id, u.name, d.channel, d.target, d.state, d.attempts, d.next_at, d.last_error, d.delivered_at
FROM deliveries d JOIN users u ON u.id = d.user_id WHERE d.state = 'pending' AND d.next_at <= ?
ORDER BY d.next_at LIMIT ?`, at, limit)
	if err != nil {
		return nil, fmt.Errorf("claiming deliveries: %w", err)
	}
	out, err := scanDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("claiming deliveries: %w", err)
	}
	for i, d := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_at = ? WHERE alert_id = ? AND user_id = ? AND channel = ?`,
			until, d.AlertID, d.UserID, d.Channel); err != nil {
			return nil, fmt.Errorf("claiming deliveries: %w", err)
		}
		out[i].NextAt = time.UnixMicro(until).UTC()
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claiming deliveries: %w", err)
	}
	return out, nil
}

// scanDeliveries reads rows of alert_id, user_id, name, channel, target, state, attempts,
// next_at, last_error, delivered_at, and closes them.
func scanDeliveries(rows *sql.Rows) ([]dash.Delivery, error) {
	defer rows.Close()
	out := []dash.Delivery{}
	for rows.Next() {
		var d dash.Delivery
		var next int64
		var done sql.NullInt64
		if err := rows.Scan(&d.AlertID, &d.UserID, &d.User, &d.Channel, &d.Target, &d.State, &d.Attempts, &next, &d.LastError, &done); err != nil {
			return nil, err
		}
		d.NextAt, d.DeliveredAt = time.UnixMicro(next).UTC(), fromNull(done)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ServiceID is the guard identity of the whole service: on PostgreSQL the first guard to
// ask stores fallback (its own ID) and every guard on the database gets that one from then
// on; on SQLite, where a database has one guard, it is fallback.
func (s *Store) ServiceID(ctx context.Context, fallback string) (string, error) {
	if fallback == "" {
		return "", errors.New("service id: no fallback id given")
	}
	if !s.pg {
		return fallback, nil
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO service (name, value) VALUES ('guard_id', ?) ON CONFLICT (name) DO NOTHING`, fallback); err != nil {
		return "", fmt.Errorf("service id: %w", err)
	}
	var id string
	if err := s.w.QueryRowContext(ctx, `SELECT value FROM service WHERE name = 'guard_id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("service id: %w", err)
	}
	return id, nil
}

// leaderEvery is how often a guard that is not the leader tries to become it, and how
// often the leader checks it still holds the lock.
var leaderEvery = 2 * time.Second

// RunAsLeader runs fn while this guard leads the guards named name on the database, and
// blocks until ctx ends (or fn returns on its own while it still leads).
//
// On PostgreSQL leading is holding a session advisory lock on a connection of its own:
// pg_try_advisory_lock, tried every leaderEvery while another guard holds it. The leader's
// fn gets a ctx that is cancelled when ctx ends, when a ping of the lock's connection fails
// (checked every leaderEvery), or when the store is closed; its connection is then closed,
// which frees the lock, and the guard goes back to trying. A leader killed outright loses
// the lock as soon as PostgreSQL sees its connection close. Between a leader's connection
// failing and that leader noticing (at most leaderEvery), two fns may run at once: what runs
// as leader must tolerate that (deduplicated writes, monotonic cursors).
//
// On SQLite a database has one guard: fn runs at once, with ctx.
func (s *Store) RunAsLeader(ctx context.Context, name string, fn func(ctx context.Context)) {
	if !s.pg {
		fn(ctx)
		return
	}
	for {
		if s.lead(ctx, name, fn) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.closed.wait():
			return
		case <-time.After(leaderEvery):
		}
	}
}

// lead runs fn if it can take the leader's lock, and says whether RunAsLeader is done (fn
// returned on its own while leading).
func (s *Store) lead(ctx context.Context, name string, fn func(ctx context.Context)) bool {
	c, err := s.w.Conn(ctx)
	if err != nil {
		return false
	}
	defer c.Close()
	// A leader whose box loses power or its network holds the lock until PostgreSQL sees
	// the session is dead: keepalives make that seconds, not the system's two hours.
	if _, err := c.ExecContext(ctx, `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3`); err != nil {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
		return false
	}
	var got bool
	if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockLeaderSpace, name).Scan(&got); err != nil || !got {
		_ = c.Raw(func(any) error { return driver.ErrBadConn }) // the settings go with the session
		return false
	}
	// However fn ends, the lock's session ends with it: the connection is closed, not handed
	// back to the pool still holding the lock.
	defer c.Raw(func(any) error { return driver.ErrBadConn })
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(lctx)
	}()
	t := time.NewTicker(leaderEvery)
	defer t.Stop()
	lost := false
	ended, closed, tick := ctx.Done(), s.closed.wait(), t.C
	for {
		select {
		case <-done:
			return !lost
		case <-ended:
			ended = nil
			cancel()
		case <-closed:
			closed, lost = nil, true
			cancel()
		case <-tick:
			pctx, pcancel := context.WithTimeout(context.Background(), leaderEvery)
			err := c.PingContext(pctx)
			pcancel()
			if err != nil {
				tick, lost = nil, true
				cancel()
			}
		}
	}
}

// closeSignal is closed when the store is.
type closeSignal struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed bool
}

func (c *closeSignal) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
		if c.closed {
			close(c.ch)
		}
	}
	return c.ch
}

func (c *closeSignal) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	if c.ch != nil {
		close(c.ch)
	}
}
