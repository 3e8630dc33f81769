package sqlite

// Several guards on one PostgreSQL database, as a provider runs them behind a SIP load
// balancer: the phones' registrations in a table every guard reads, notifications on
// channel "clearline" (NOTIFY inside the transaction of each change that alters what a
// guard serves, so they are delivered at commit and a reader re-reading sees the change),
// the instances' heartbeats, and the closing of the calls of an instance that stopped.
// On SQLite (one guard) the same calls work; notifications are then not needed, and none
// are sent.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/store"

	"github.com/jackc/pgx/v5"
)

// cluster is what a Store keeps for running beside other guards.
type cluster struct {
	url      string                 // the PostgreSQL URL Listen connects to; "" on SQLite
	opened   time.Time              // when the store was opened: the process's start, for Heartbeat
	instance atomic.Pointer[string] // the instance new calls are recorded for (SetInstance)
}

func newCluster(url string) cluster { return cluster{url: url, opened: time.Now()} }

// notifyChannel is the one channel every notification of the store is sent on.
const notifyChannel = "clearline"

// maxPayload is the longest notification payload PostgreSQL takes (8000 bytes, less one).
const maxPayload = 7999

// ReasonInstanceStopped is the reason CloseCallsOf gives the calls it ends.
const ReasonInstanceStopped = "the guard handling the call stopped"

// IsPostgres says whether the store is on PostgreSQL (and so may be shared by guards).
func (s *Store) IsPostgres() bool { return s.pg }

// SetInstance makes the calls this store records from now on carry calls.instance = id.
// A call keeps the instance it was first recorded with.
func (s *Store) SetInstance(id string) { s.instance.Store(&id) }

// Instance is the instance set by SetInstance, or "".
func (s *Store) Instance() string {
	if p := s.instance.Load(); p != nil {
		return *p
	}
	return ""
}

func checkPayload(payload string) error {
	if payload == "" {
		return errors.New("store: notify: empty payload")
	}
	if len(payload) > maxPayload {
		return fmt.Errorf("store: notify: payload of %d bytes, PostgreSQL takes at most %d", len(payload), maxPayload)
	}
	return nil
}

// Notify sends payload on channel "clearline" to every guard listening (Listen), now: not
// inside a transaction of the store. It does nothing on SQLite.
func (s *Store) Notify(ctx context.Context, payload string) error {
	if err := checkPayload(payload); err != nil {
		return err
	}
	if !s.pg {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `SELECT pg_notify('`+notifyChannel+`', ?)`, payload); err != nil {
		return fmt.Errorf("store: notify: %w", err)
	}
	return nil
}

// notify sends payload when the transaction commits (and not at all if it rolls back), on
// PostgreSQL.
func (t *txn) notify(ctx context.Context, payload string) error {
	if err := checkPayload(payload); err != nil {
		return err
	}
	if !t.pg {
		return nil
	}
	if _, err := t.Tx.ExecContext(ctx, `SELECT pg_notify('`+notifyChannel+`', $1)`, payload); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// execNotify runs q, which must change a row (dash.ErrNotFound if it changes none), and
// sends payload at its commit, in one transaction.
func (s *Store) execNotify(ctx context.Context, payload, q string, args ...any) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := affected(tx.ExecContext(ctx, q, args...)); err != nil {
		return err
	}
	if err := tx.notify(ctx, payload); err != nil {
		return err
	}
	return tx.Commit()
}

// Notification payloads the store sends.
const (
	// NotifyLines: households, their numbers or phones were added or changed; read them all.
	NotifyLines = "lines"
	// NotifyHousehold + id: one household's settings (or name) changed.
	NotifyHousehold = "household:"
	// NotifyBinding + user: a phone's registrations changed.
	NotifyBinding = "binding:"
	// NotifyResync is sent by Listen itself, first and after every reconnection: read
	// everything, as notifications sent while it was away are lost.
	NotifyResync = "resync"
)

// listenApp is the application_name of Listen's connections (pg_stat_activity shows it).
const listenApp = "clearline-listen"

// Listen delivers every notification on channel "clearline" (PostgreSQL only; on SQLite it
// returns a nil channel and nil error). It runs on a dedicated connection of its own,
// opened before Listen returns (so every change committed after that is delivered),
// reconnects with backoff when the connection is lost, and sends "resync" first and after
// every reconnection (notifications are not kept while it is away). The channel closes
// when ctx ends.
func (s *Store) Listen(ctx context.Context) (<-chan string, error) {
	if !s.pg {
		return nil, nil
	}
	cfg, err := pgx.ParseConfig(s.url)
	if err != nil {
		return nil, fmt.Errorf("store: listen: %w", err)
	}
	cfg.RuntimeParams["application_name"] = listenApp
	// A connection cut without a word (a network partition) is noticed in about 30 s.
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}}
	cfg.DialFunc = d.DialContext
	conn, err := listenConn(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: listen: %w", err)
	}
	out := make(chan string, 64)
	out <- NotifyResync
	go listen(ctx, cfg, conn, out)
	return out, nil
}

func listenConn(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(cctx, `LISTEN `+notifyChannel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

func listen(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn, out chan<- string) {
	defer close(out)
	send := func(p string) bool {
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	backoff := listenBackoffMin
	for {
		for conn != nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				conn.Close(closeCtx)
				cancel()
				conn = nil
				break
			}
			if !send(n.Payload) {
				break
			}
		}
		if ctx.Err() != nil {
			if conn != nil {
				conn.Close(context.WithoutCancel(ctx))
			}
			return
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		c, err := listenConn(ctx, cfg)
		if err != nil {
			backoff = min(2*backoff, listenBackoffMax)
			continue
		}
		conn, backoff = c, listenBackoffMin
		if !send(NotifyResync) {
			conn.Close(context.WithoutCancel(ctx))
			return
		}
	}
}

// Registration is one binding of a phone, taken by one guard instance.
type Registration struct {
	User, Contact string // the phone's user name; the Contact URI as registered
	Path          string // the REGISTER's Path header values, in order, comma-joined ("" none)
	Flow          string // ip:port of the phone's own TCP/TLS connection to Instance ("" for UDP or via a proxy)
	Instance      string // the guard instance that took the REGISTER
	Expires       time.Time
}

func (r Registration) check() error {
	var missing []string
	if r.User == "" {
		missing = append(missing, "user")
	}
	if r.Contact == "" {
		missing = append(missing, "contact")
	}
	if r.Instance == "" {
		missing = append(missing, "instance")
	}
	if len(missing) > 0 {
		return fmt.Errorf("store: registration: no %s", strings.Join(missing, ", no "))
	}
	return nil
}

// PutRegistration adds or refreshes the binding of r.User to r.Contact; an Expires that is
// zero or past removes that binding. The phone's guards are told ("binding:" + user) at
// commit.
func (s *Store) PutRegistration(ctx context.Context, r Registration) error {
	if err := r.check(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: registration: %w", err)
	}
	defer tx.Rollback()
	if r.Expires.IsZero() || !r.Expires.After(time.Now()) {
		_, err = tx.ExecContext(ctx, `DELETE FROM registrations WHERE user_name = ? AND contact = ?`, r.User, r.Contact)
	} else {
		_, err = tx.ExecContext(ctx, `
INSERT INTO registrations (user_name, contact, path, flow, instance, expires_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (user_name, contact) DO UPDATE SET path = excluded.path, flow = excluded.flow,
  instance = excluded.instance, expires_at = excluded.expires_at`,
			r.User, r.Contact, r.Path, r.Flow, r.Instance, micros(r.Expires))
	}
	if err == nil {
		err = tx.notify(ctx, NotifyBinding+r.User)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("store: registration of %s: %w", r.User, err)
	}
	return nil
}

// DropRegistrations removes every binding of user, whichever instance took it (a REGISTER
// with Contact: * through instance, RFC 3261 §10.3 step 6: all the address's bindings),
// telling the phone's guards.
func (s *Store) DropRegistrations(ctx context.Context, user, instance string) error {
	if err := (Registration{User: user, Contact: "*", Instance: instance}).check(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: registrations: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `DELETE FROM registrations WHERE user_name = ?`, user)
	if err == nil {
		err = tx.notify(ctx, NotifyBinding+user)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("store: registrations of %s: %w", user, err)
	}
	return nil
}

// Registrations returns user's live bindings (Expires after now), or every user's for
// user "", by user and contact.
func (s *Store) Registrations(ctx context.Context, user string) ([]Registration, error) {
	q, args := `SELECT user_name, contact, path, flow, instance, expires_at FROM registrations WHERE expires_at > ?`, []any{micros(time.Now())}
	if user != "" {
		q, args = q+` AND user_name = ?`, append(args, user)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY user_name, contact`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: registrations: %w", err)
	}
	defer rows.Close()
	var out []Registration
	for rows.Next() {
		var r Registration
		var exp int64
		if err := rows.Scan(&r.User, &r.Contact, &r.Path, &r.Flow, &r.Instance, &exp); err != nil {
			return nil, fmt.Errorf("store: registrations: %w", err)
		}
		r.Expires = time.UnixMicro(exp).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: registrations: %w", err)
	}
	return out, nil
}

// SweepRegistrations deletes the bindings expired at now and says how many there were.
// Readers pass over expired bindings anyway, so no guard is told.
func (s *Store) SweepRegistrations(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM registrations WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("store: sweep registrations: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Heartbeat says instance id (reachable for SIP at sipAddr) is alive at now. The instance's
// started_at is when this store was opened, so the calls recorded for id before then are
// known to be a previous process's (see CloseCallsOf): an instance ID names one process at
// a time.
func (s *Store) Heartbeat(ctx context.Context, id, sipAddr string, now time.Time) error {
	if id == "" {
		return errors.New("store: heartbeat: no instance id")
	}
	if _, err := s.w.ExecContext(ctx, `
INSERT INTO instances (id, sip, started_at, seen_at) VALUES (?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET sip = excluded.sip, started_at = excluded.started_at, seen_at = excluded.seen_at`,
		id, sipAddr, micros(s.opened), micros(now)); err != nil {
		return fmt.Errorf("store: heartbeat: %w", err)
	}
	return nil
}

// CloseCallsOf ends every call still open whose instance was last seen before `before` —
// and every call still open that an instance recorded before its current process started
// (it was restarted under the same ID) — with reason "the guard handling the call stopped",
// ended by the guard, now. Each gets a call.ended event in the outbox, written as Write
// writes one (so the dashboard, the alerts and the hub see it), in one transaction under
// the outbox's lock: two sweepers at once end each call once. It returns how many it
// closed. Calls recorded without an instance are never closed here.
func (s *Store) CloseCallsOf(ctx context.Context, before time.Time) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer tx.Rollback()
	if err := tx.lock(ctx, lockOutbox); err != nil {
		return 0, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	calls, err := openCallsOfStopped(ctx, tx, before)
	if err != nil || len(calls) == 0 {
		return 0, err
	}
	st, err := prepare(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer st.close()
	st.instance = s.Instance()
	now := time.Now().UTC()
	for _, c := range calls {
		c.EndedAt, c.EndedBy, c.Reason = now, call.ByGuard, ReasonInstanceStopped
		c.Outcome = call.Failed
		if !c.AnsweredAt.IsZero() {
			c.Outcome = call.Completed
		}
		for i := range c.Legs {
			if c.Legs[i].ReleasedAt.IsZero() {
				c.Legs[i].ReleasedAt = now
			}
		}
		if err := st.call(ctx, c); err != nil {
			return 0, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
		}
		if err := st.event(ctx, call.Event{CallID: c.ID, Kind: call.CallEnded, At: now, Call: c}); err != nil {
			return 0, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return len(calls), nil
}

// openCallsOfStopped reads, with their legs, the open calls CloseCallsOf ends.
func openCallsOfStopped(ctx context.Context, tx *txn, before time.Time) ([]call.Call, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+callColumns+` FROM calls WHERE ended_at IS NULL AND instance <> ''
  AND EXISTS (SELECT 1 FROM instances WHERE instances.id = calls.instance AND (instances.seen_at < ? OR calls.started_at < instances.started_at))
  ORDER BY started_at`, micros(before))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	calls, err := scanCalls(rows)
	if err != nil {
		return nil, err
	}
	return withLegs(ctx, tx, calls)
}

// OpenCallsElsewhere are the calls in progress on the service's other guard instances — not
// instance's, and only those of instances seen at or after alive — newest first, at most 500:
// what another guard's dashboard shows as its calls now. Legs are not read.
func (s *Store) OpenCallsElsewhere(ctx context.Context, instance string, alive time.Time) ([]call.Call, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+callColumns+` FROM calls WHERE ended_at IS NULL AND instance <> '' AND instance <> ?
  AND EXISTS (SELECT 1 FROM instances WHERE instances.id = calls.instance AND instances.seen_at >= ?)
  ORDER BY started_at DESC LIMIT 500`, instance, micros(alive))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return scanCalls(rows)
}
