package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/dash"
)

var _ dash.Store = (*Store)(nil)

func (s *Store) Households(ctx context.Context) ([]dash.Household, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+householdColumns+` FROM households ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dash.Household
	byID := map[string]int{}
	for rows.Next() {
		h, err := scanHousehold(rows)
		if err != nil {
			return nil, err
		}
		byID[h.ID] = len(out)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, withNumbers(ctx, s.r, out, byID, "", nil)
}

// withNumbers adds their numbers to the households hs, found by byID, reading the
// household_numbers rows that where (a WHERE clause, or "" for all) picks.
func withNumbers(ctx context.Context, db querier, hs []dash.Household, byID map[string]int, where string, args []any) error {
	rows, err := db.QueryContext(ctx, `SELECT household_id, number FROM household_numbers`+where+` ORDER BY number`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n string
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		if i, ok := byID[id]; ok {
			hs[i].Numbers = append(hs[i].Numbers, n)
		}
	}
	return rows.Err()
}

// inList is the condition "column IN (?, ?, …)" for ids, with its arguments.
func inList(column string, ids []string) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return column + " IN (?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}

func (s *Store) Directory(ctx context.Context, households []string) ([]dash.Household, error) {
	out := []dash.Household{}
	where, numbersWhere, args := "", "", []any(nil)
	if households != nil {
		if len(households) == 0 {
			return out, nil
		}
		cond, a := inList("id", households)
		numbersCond, _ := inList("household_id", households)
		where, numbersWhere, args = " WHERE "+cond, " WHERE "+numbersCond, a
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, created_at, district FROM households`+where+` ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := map[string]int{}
	for rows.Next() {
		h := dash.Household{Numbers: []string{}}
		var created int64
		if err := rows.Scan(&h.ID, &h.Name, &created, &h.District); err != nil {
			return nil, err
		}
		h.CreatedAt = time.UnixMicro(created).UTC()
		byID[h.ID] = len(out)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, withNumbers(ctx, s.r, out, byID, numbersWhere, args)
}

const householdColumns = `id, name, created_at, settings, district`

func scanHousehold(row scanner) (dash.Household, error) {
	h := dash.Household{Numbers: []string{}}
	var created int64
	var settings string
	if err := row.Scan(&h.ID, &h.Name, &created, &settings, &h.District); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return h, dash.ErrNotFound
		}
		return h, err
	}
	h.CreatedAt = time.UnixMicro(created).UTC()
	return h, json.Unmarshal([]byte(settings), &h.Settings)
}

func (s *Store) Household(ctx context.Context, id string) (dash.Household, error) {
	return s.household(ctx, s.r, id)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// household reads one household with its numbers.
func (s *Store) household(ctx context.Context, db querier, id string) (dash.Household, error) {
	h, err := scanHousehold(db.QueryRowContext(ctx, `SELECT `+householdColumns+` FROM households WHERE id = ?`, id))
	if err != nil {
		return h, err
	}
	one := []dash.Household{h}
	err = withNumbers(ctx, db, one, map[string]int{id: 0}, " WHERE household_id = ?", []any{id})
	return one[0], err
}

func (s *Store) EnsureHousehold(ctx context.Context, h dash.Household) (dash.Household, error) {
	b, err := json.Marshal(h.Settings)
	if err != nil {
		return h, err
	}
	if h.CreatedAt.IsZero() {
		h.CreatedAt = time.Now().UTC()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return h, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO households (id, name, created_at, settings) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		h.ID, h.Name, micros(h.CreatedAt), string(b))
	if err != nil {
		return h, err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		if err := tx.notify(ctx, NotifyLines); err != nil {
			return h, err
		}
	}
	out, err := s.household(ctx, tx, h.ID)
	if err != nil {
		return h, err
	}
	return out, tx.Commit()
}

func (s *Store) CreateHousehold(ctx context.Context, h dash.Household) (dash.Household, error) {
	b, err := json.Marshal(h.Settings)
	if err != nil {
		return h, err
	}
	if h.CreatedAt.IsZero() {
		h.CreatedAt = time.Now().UTC()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return h, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM households WHERE id = ?`, h.ID).Scan(&n); err != nil {
		return h, err
	}
	if n > 0 {
		return h, fmt.Errorf("%w: a household with id %s", dash.ErrExists, h.ID)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO households (id, name, created_at, settings, district) VALUES (?, ?, ?, ?, ?)`,
		h.ID, h.Name, micros(h.CreatedAt), string(b), h.District); err != nil {
		return h, err
	}
	for _, num := range h.Numbers {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT household_id FROM household_numbers WHERE number = ?`, num).Scan(&owner)
		if err == nil {
			return h, fmt.Errorf("%w: %s is household %s's number", dash.ErrExists, num, owner)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return h, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO household_numbers (number, household_id) VALUES (?, ?)`, num, h.ID); err != nil {
			return h, err
		}
	}
	if err := tx.notify(ctx, NotifyLines); err != nil {
		return h, err
	}
	out, err := s.household(ctx, tx, h.ID)
	if err != nil {
		return h, err
	}
	return out, tx.Commit()
}

func (s *Store) AddPhone(ctx context.Context, p dash.Phone) (dash.Phone, error) {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now().UTC()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return p, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM households WHERE id = ?`, p.Household).Scan(&n); err != nil {
		return p, err
	}
	if n == 0 {
		return p, fmt.Errorf("%w: household %s", dash.ErrNotFound, p.Household)
	}
	var owner string
	err = tx.QueryRowContext(ctx, `SELECT household_id FROM phones WHERE username = ?`, p.User).Scan(&owner)
	if err == nil {
		return p, fmt.Errorf("%w: a phone with user name %s", dash.ErrExists, p.User)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return p, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO phones (username, household_id, password, contact, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.User, p.Household, p.Password, p.Contact, micros(p.CreatedAt)); err != nil {
		return p, err
	}
	if err := tx.notify(ctx, NotifyLines); err != nil {
		return p, err
	}
	return p, tx.Commit()
}

func (s *Store) Phones(ctx context.Context, household string) ([]dash.Phone, error) {
	q := `SELECT username, household_id, password, contact, created_at FROM phones WHERE household_id = ? ORDER BY username`
	args := []any{household}
	if household == "" {
		q, args = `SELECT username, household_id, password, contact, created_at FROM phones ORDER BY household_id, username`, nil
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []dash.Phone{}
	for rows.Next() {
		var p dash.Phone
		var created int64
		if err := rows.Scan(&p.User, &p.Household, &p.Password, &p.Contact, &created); err != nil {
			return nil, err
		}
		p.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) SaveSettings(ctx context.Context, id string, set dash.Settings) error {
	b, err := json.Marshal(set)
	if err != nil {
		return err
	}
	return s.execNotify(ctx, NotifyHousehold+id, `UPDATE households SET settings = ? WHERE id = ?`, string(b), id)
}

func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return dash.ErrNotFound
	}
	return nil
}

const userColumns = `id, email, name, role, webhook, webhook_secret, email_to, ntfy, phone`

func (s *Store) scanUser(ctx context.Context, row scanner, extra ...any) (dash.User, error) {
	var u dash.User
	dest := append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.Channels.Webhook, &u.Channels.WebhookSecret, &u.Channels.Email, &u.Channels.Ntfy, &u.Channels.Phone}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return u, dash.ErrNotFound
		}
		return u, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT household_id FROM guardians WHERE user_id = ? ORDER BY household_id`, u.ID)
	if err != nil {
		return u, err
	}
	defer rows.Close()
	u.Households = []string{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return u, err
		}
		u.Households = append(u.Households, h)
	}
	return u, rows.Err()
}

func (s *Store) CreateUser(ctx context.Context, u dash.User, hash string) (dash.User, error) {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	err := s.w.QueryRowContext(ctx, `INSERT INTO users (email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		u.Email, u.Name, string(u.Role), hash, micros(time.Now())).Scan(&u.ID)
	if err != nil {
		if isUnique(err) {
			return u, fmt.Errorf("%w: a user with e-mail %s", dash.ErrExists, u.Email)
		}
		return u, err
	}
	return s.UserByID(ctx, u.ID)
}

func (s *Store) UserByEmail(ctx context.Context, email string) (dash.User, string, error) {
	var hash string
	u, err := s.scanUser(ctx, s.r.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = ? AND removed_at IS NULL`,
		strings.ToLower(strings.TrimSpace(email))), &hash)
	return u, hash, err
}

func (s *Store) UserByID(ctx context.Context, id int64) (dash.User, error) {
	return s.scanUser(ctx, s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ? AND removed_at IS NULL`, id))
}

func (s *Store) Users(ctx context.Context) ([]dash.User, error) {
	return s.usersListed(ctx, `SELECT id FROM users WHERE removed_at IS NULL ORDER BY name`)
}

// usersListed loads the users whose IDs query returns, in its order.
func (s *Store) usersListed(ctx context.Context, query string, args ...any) ([]dash.User, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]dash.User, 0, len(ids))
	for _, id := range ids {
		u, err := s.UserByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// RemoveUser removes a person: they can no longer log in, their sessions end, they guard
// no household and get no more alerts. Their past deliveries keep their name.
func (s *Store) RemoveUser(ctx context.Context, id int64) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET removed_at = ?, password_hash = '' WHERE id = ? AND removed_at IS NULL`, micros(time.Now()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return dash.ErrNotFound
	}
	for _, q := range []string{`DELETE FROM guardians WHERE user_id = ?`, `DELETE FROM sessions WHERE user_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// SetPassword replaces a person's password hash and ends their sessions.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND removed_at IS NULL`, hash, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return dash.ErrNotFound
	}
	_, err = s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
	return err
}

func (s *Store) SetGuardian(ctx context.Context, userID int64, household string, on bool) error {
	if !on {
		_, err := s.w.ExecContext(ctx, `DELETE FROM guardians WHERE user_id = ? AND household_id = ?`, userID, household)
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO guardians (user_id, household_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, userID, household)
	if isForeignKey(err) {
		return dash.ErrNotFound
	}
	return err
}

func (s *Store) SaveChannels(ctx context.Context, userID int64, c dash.Channels) error {
	phone, err := dash.CanonicalPhone(c.Phone)
	if err != nil {
		return fmt.Errorf("phone: %w", err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE users SET webhook = ?, webhook_secret = ?, email_to = ?, ntfy = ?, phone = ? WHERE id = ?`,
		c.Webhook, c.WebhookSecret, c.Email, c.Ntfy, phone, userID)
	return affected(res, err)
}

func (s *Store) Guardians(ctx context.Context, household string) ([]dash.User, error) {
	return s.usersListed(ctx, `SELECT user_id FROM guardians WHERE household_id = ? ORDER BY user_id`, household)
}

func (s *Store) CreateSession(ctx context.Context, tokenHash string, userID int64, csrf string, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES (?, ?, ?, ?)`, tokenHash, userID, csrf, micros(expires))
	if err == nil {
		_, err = s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, micros(time.Now()))
	}
	return err
}

func (s *Store) Session(ctx context.Context, tokenHash string) (int64, string, error) {
	var id, expires int64
	var csrf string
	err := s.r.QueryRowContext(ctx, `SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = ?`, tokenHash).Scan(&id, &csrf, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && time.UnixMicro(expires).Before(time.Now())) {
		return 0, "", dash.ErrNotFound
	}
	return id, csrf, err
}

func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return err
}

// TakeAlerts reads the outbox past the consumer's cursor, in one transaction: each event
// alertFor turns into an alert (at most one per event: the event's sequence number is unique)
// gets a pending delivery per recipient and channel, and the cursor moves past them all.
func (s *Store) TakeAlerts(ctx context.Context, consumer string, alertFor func(seq int64, kind, household, callID string, payload []byte) (*dash.Alert, bool),
	recipients func(household string) ([]dash.User, error)) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if err := tx.lockConsumer(ctx, consumer); err != nil {
		return 0, err
	}
	var after int64
	if err := tx.QueryRowContext(ctx, `SELECT seq FROM cursors WHERE consumer = ?`, consumer).Scan(&after); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, kind, call_id, payload FROM events WHERE seq > ? ORDER BY seq LIMIT 5000`, after)
	if err != nil {
		return 0, err
	}
	type ev struct {
		seq           int64
		kind, id, pay string
	}
	var evs []ev
	for rows.Next() {
		var e ev
		if err := rows.Scan(&e.seq, &e.kind, &e.id, &e.pay); err != nil {
			rows.Close()
			return 0, err
		}
		evs = append(evs, e)
	}
	rows.Close()
	made := 0
	now := time.Now()
	for _, e := range evs {
		after = e.seq
		var c struct {
			Household string `json:"household"`
		}
		_ = json.Unmarshal([]byte(e.pay), &c)
		a, ok := alertFor(e.seq, e.kind, c.Household, e.id, []byte(e.pay))
		if !ok {
			continue
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO alerts (event_seq, household_id, call_id, at, title, body) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (event_seq) DO NOTHING RETURNING id`, e.seq, a.HouseholdID, a.CallID, micros(a.At), a.Title, a.Body).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // this event's alert was made before
		}
		if err != nil {
			return 0, err
		}
		users, err := recipients(a.HouseholdID)
		if err != nil {
			return 0, err
		}
		if err := addDeliveries(ctx, tx, id, users, now); err != nil {
			return 0, err
		}
		made++
	}
	if len(evs) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cursors (consumer, seq) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq`, consumer, after); err != nil {
			return 0, err
		}
	}
	return made, tx.Commit()
}

// addDeliveries queues alert id for each guardian's channels.
func addDeliveries(ctx context.Context, tx *txn, id int64, users []dash.User, now time.Time) error {
	for _, u := range users {
		for _, ch := range []struct{ name, target string }{{"webhook", u.Channels.Webhook}, {"email", u.Channels.Email}, {"ntfy", u.Channels.Ntfy}} {
			if ch.target == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (alert_id, user_id, channel, target, state, next_at) VALUES (?, ?, ?, ?, ?, ?)`,
				id, u.ID, ch.name, ch.target, dash.Pending, micros(now)); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddCommunityAlert records a hub's community alert for a household, once per ref, with a
// delivery for each of its guardians' channels; it returns how many guardians it reaches.
func (s *Store) AddCommunityAlert(ctx context.Context, household, ref, title, body string, at time.Time) (int, error) {
	users, err := s.Guardians(ctx, household)
	if err != nil {
		return 0, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if err := tx.lock(ctx, lockCommunity); err != nil {
		return 0, err
	}
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE household_id = ? AND ref = ?`, household, ref).Scan(&exists); err != nil {
		return 0, err
	}
	if exists > 0 {
		return len(users), nil
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO alerts (event_seq, household_id, call_id, at, title, body, ref)
		VALUES ((SELECT COALESCE(MIN(event_seq), 0) FROM alerts WHERE event_seq < 0) - 1, ?, '', ?, ?, ?, ?) RETURNING id`,
		household, micros(at), title, body, ref).Scan(&id); err != nil {
		return 0, err
	}
	if err := addDeliveries(ctx, tx, id, users, time.Now()); err != nil {
		return 0, err
	}
	return len(users), tx.Commit()
}

// Cursor is how far a consumer has read the outbox.
func (s *Store) Cursor(ctx context.Context, consumer string) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT seq FROM cursors WHERE consumer = ?`, consumer).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// SetCursor records how far a consumer has read the outbox. A cursor never moves back:
// of two guards reporting from one database, the slower cannot undo the faster's progress.
func (s *Store) SetCursor(ctx context.Context, consumer string, seq int64) error {
	greatest := "max"
	if s.pg {
		greatest = "GREATEST"
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO cursors (consumer, seq) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET seq = `+greatest+`(cursors.seq, excluded.seq)`, consumer, seq)
	return err
}

const alertColumns = `id, household_id, call_id, at, title, body, acked_by, acked_at`

func (s *Store) scanAlerts(ctx context.Context, rows *sql.Rows) ([]dash.Alert, error) {
	var out []dash.Alert
	for rows.Next() {
		var a dash.Alert
		var at int64
		var acked sql.NullInt64
		if err := rows.Scan(&a.ID, &a.HouseholdID, &a.CallID, &at, &a.Title, &a.Body, &a.AckedBy, &acked); err != nil {
			rows.Close()
			return nil, err
		}
		a.At, a.AckedAt = time.UnixMicro(at).UTC(), fromNull(acked)
		out = append(out, a)
	}
	rows.Close()
	for i := range out {
		ds, err := s.deliveries(ctx, `d.alert_id = ?`, 1000, out[i].ID)
		if err != nil {
			return nil, err
		}
		out[i].Deliveries = ds
	}
	return out, nil
}

func (s *Store) Alerts(ctx context.Context, households []string, all bool, limit int) ([]dash.Alert, error) {
	if limit <= 0 {
		limit = 100
	}
	q, args := `SELECT `+alertColumns+` FROM alerts`, []any{}
	if !all {
		if len(households) == 0 {
			return nil, nil
		}
		cond, ids := inList("household_id", households)
		q, args = q+" WHERE "+cond, ids
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY at DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	return s.scanAlerts(ctx, rows)
}

func (s *Store) OpenAlerts(ctx context.Context, household string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE household_id = ? AND acked_at IS NULL`, household).Scan(&n)
	return n, err
}

func (s *Store) Alert(ctx context.Context, id int64) (dash.Alert, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id)
	if err != nil {
		return dash.Alert{}, err
	}
	as, err := s.scanAlerts(ctx, rows)
	if err != nil {
		return dash.Alert{}, err
	}
	if len(as) == 0 {
		return dash.Alert{}, dash.ErrNotFound
	}
	return as[0], nil
}

func (s *Store) AckAlert(ctx context.Context, id int64, by string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE alerts SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_at IS NULL`, by, micros(time.Now()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Alert(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// deliveries lists the deliveries where holds, at most limit of them.
func (s *Store) deliveries(ctx context.Context, where string, limit int, args ...any) ([]dash.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.alert_id, d.user_id, u.name, d.channel, d.target, d.state, d.attempts, d.next_at, d.last_error, d.delivered_at
FROM deliveries d JOIN users u ON u.id = d.user_id WHERE `+where+` ORDER BY d.alert_id, d.user_id, d.channel LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	return scanDeliveries(rows)
}

func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]dash.Delivery, error) {
	return s.deliveries(ctx, `d.state = 'pending' AND d.next_at <= ?`, limit, micros(now))
}

func (s *Store) MarkDelivery(ctx context.Context, d dash.Delivery) error {
	res, err := s.w.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_error = ?, delivered_at = ? WHERE alert_id = ? AND user_id = ? AND channel = ?`,
		d.State, d.Attempts, micros(d.NextAt), d.LastError, nullMicros(d.DeliveredAt), d.AlertID, d.UserID, d.Channel)
	return affected(res, err)
}

// RenameHousehold changes the name the dashboard shows for a household.
func (s *Store) RenameHousehold(ctx context.Context, id, name string) error {
	return s.execNotify(ctx, NotifyHousehold+id, `UPDATE households SET name = ? WHERE id = ?`, name, id)
}

func (s *Store) Standings(ctx context.Context, households []string, since time.Time) (map[string]dash.Standing, error) {
	out := map[string]dash.Standing{}
	where, alertsWhere, ids := "", "", []any(nil)
	if households != nil {
		if len(households) == 0 {
			return out, nil
		}
		cond, a := inList("household", households)
		alertsCond, _ := inList("household_id", households)
		where, alertsWhere, ids = " AND "+cond, " AND "+alertsCond, a
	}
	rows, err := s.r.QueryContext(ctx, `SELECT household, COUNT(*),
  SUM(CASE WHEN outcome = 'blocked' THEN 1 ELSE 0 END),
  SUM(CASE WHEN verdict = 'warn' THEN 1 ELSE 0 END),
  MAX(risk_level)
FROM calls WHERE started_at >= ?`+where+` GROUP BY household`, append([]any{micros(since)}, ids...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var st dash.Standing
		var risk sql.NullFloat64
		if err := rows.Scan(&id, &st.Calls, &st.Blocked, &st.Warned, &risk); err != nil {
			return nil, err
		}
		st.Risk = risk.Float64
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	arows, err := s.r.QueryContext(ctx, `SELECT household_id, COUNT(*) FROM alerts WHERE acked_at IS NULL`+alertsWhere+` GROUP BY household_id`, ids...)
	if err != nil {
		return nil, err
	}
	defer arows.Close()
	for arows.Next() {
		var id string
		var n int
		if err := arows.Scan(&id, &n); err != nil {
			return nil, err
		}
		st := out[id]
		st.OpenAlerts = n
		out[id] = st
	}
	return out, arows.Err()
}
