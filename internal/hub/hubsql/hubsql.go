// Package hubsql is the hub's store on SQL: SQLite (the pure-Go modernc driver) by
// default, PostgreSQL through pgx when the database is a postgres:// URL. The queries and
// migrations are written once, in SQL both understand; only the placeholders differ.
package hubsql

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/store/migrate"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a hub.Store on SQLite or PostgreSQL.
type Store struct {
	db       *sql.DB
	postgres bool
	where    string
}

var _ hub.Store = (*Store)(nil)

// Open opens the hub's database: a postgres:// (or postgresql://) URL, or, when database
// is empty, hub.db in dir. Pending migrations are applied.
func Open(ctx context.Context, database, dir string) (*Store, error) {
	s := &Store{}
	var err error
	if strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://") {
		s.postgres = true
		s.where = "PostgreSQL"
		s.db, err = sql.Open("pgx", database)
		if err == nil {
			s.db.SetMaxOpenConns(8)
		}
	} else {
		if database != "" {
			return nil, fmt.Errorf("hub database %q: want empty (SQLite in the data directory) or a postgres:// URL", database)
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("hub store: data directory: %w", err)
		}
		path := filepath.Join(dir, "hub.db")
		s.where = path
		s.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)")
		if err == nil {
			s.db.SetMaxOpenConns(1) // one writer; reads are short
		}
	}
	if err != nil {
		return nil, fmt.Errorf("hub store: %w", err)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("hub store %s: %w", s.where, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// Where says where the store is (a file, or PostgreSQL).
func (s *Store) Where() string { return s.where }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// q writes a query's ? placeholders as PostgreSQL's $1, $2...
func (s *Store) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Store) migrate(ctx context.Context) error {
	if err := migrate.Apply(ctx, s.db, migrations, "migrations/*.sql", "hub_migrations", s.q); err != nil {
		return fmt.Errorf("hub store: %w", err)
	}
	return nil
}

func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// AddReports stores reports not yet stored, in one transaction, and says how many were new.
// Rows go in many to a statement, which matters over a network to PostgreSQL.
func (s *Store) AddReports(ctx context.Context, reports []hub.Report, received time.Time) (int, error) {
	const perStatement = 200
	added := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		added = 0
		for len(reports) > 0 {
			chunk := reports[:min(len(reports), perStatement)]
			reports = reports[len(chunk):]
			args := make([]any, 0, 12*len(chunk))
			for _, r := range chunk {
				body, err := json.Marshal(r)
				if err != nil {
					return err
				}
				cr := r.Campaign()
				args = append(args, r.ID, received.UnixMicro(), r.At.UnixMicro(), r.Source, r.District, r.Number, cr.Claimed,
					strings.Join(r.Indicators, ","), r.LossPence, string(body), cr.IDNumber, cr.Officer)
			}
			q := `INSERT INTO hub_reports (id, received_at, at, source, district, number, claimed, indicators, loss, body, id_number, officer) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)), ", ") + ` ON CONFLICT (id) DO NOTHING`
			res, err := tx.ExecContext(ctx, s.q(q), args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("hub store: %w", err)
	}
	return added, nil
}

// CampaignReports returns reports made at or after since, as the clustering needs them.
func (s *Store) CampaignReports(ctx context.Context, since time.Time) ([]campaign.Report, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, at, district, number, claimed, indicators, loss, id_number, officer FROM hub_reports WHERE at >= ?`), since.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("hub store: %w", err)
	}
	defer rows.Close()
	var out []campaign.Report
	for rows.Next() {
		var r campaign.Report
		var at int64
		var ind string
		if err := rows.Scan(&r.ID, &at, &r.District, &r.Number, &r.Claimed, &ind, &r.Loss, &r.IDNumber, &r.Officer); err != nil {
			return nil, fmt.Errorf("hub store: %w", err)
		}
		r.At = time.UnixMicro(at).UTC()
		if ind != "" {
			r.Indicators = strings.Split(ind, ",")
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Reports returns the reports with these IDs, oldest first.
func (s *Store) Reports(ctx context.Context, ids []string) ([]hub.Report, error) {
	var out []hub.Report
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT body FROM hub_reports WHERE id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("hub store: %w", err)
		}
		for rows.Next() {
			var body string
			var r hub.Report
			if err := rows.Scan(&body); err != nil {
				rows.Close()
				return nil, fmt.Errorf("hub store: %w", err)
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				rows.Close()
				return nil, fmt.Errorf("hub store: stored report: %w", err)
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("hub store: %w", err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// CountReports counts stored reports.
func (s *Store) CountReports(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM hub_reports`).Scan(&n)
	return n, err
}

// AddBlocks puts numbers on the block-list (a number already there keeps its first entry).
func (s *Store) AddBlocks(ctx context.Context, blocks []hub.Block) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, b := range blocks {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO hub_blocks (number, campaign, reason, by_whom, at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (number) DO NOTHING`), b.Number, b.Campaign, b.Reason, b.By, b.At.UnixMicro()); err != nil {
				return fmt.Errorf("hub store: block %s: %w", b.Number, err)
			}
		}
		return nil
	})
}

// RemoveBlock takes a number off the block-list, or returns hub.ErrNotBlocked.
func (s *Store) RemoveBlock(ctx context.Context, number string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM hub_blocks WHERE number = ?`), number)
	if err != nil {
		return fmt.Errorf("hub store: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%s: %w", number, hub.ErrNotBlocked)
	}
	return nil
}

// Blocks lists the block-list, oldest first.
func (s *Store) Blocks(ctx context.Context) ([]hub.Block, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT number, campaign, reason, by_whom, at FROM hub_blocks ORDER BY at, number`)
	if err != nil {
		return nil, fmt.Errorf("hub store: %w", err)
	}
	defer rows.Close()
	var out []hub.Block
	for rows.Next() {
		b := hub.Block{V: hub.Version}
		var at int64
		if err := rows.Scan(&b.Number, &b.Campaign, &b.Reason, &b.By, &at); err != nil {
			return nil, fmt.Errorf("hub store: %w", err)
		}
		b.At = time.UnixMicro(at).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// AddAlert records a community alert.
func (s *Store) AddAlert(ctx context.Context, a hub.CommunityAlert) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO hub_alerts (id, campaign, districts, title, body, by_whom, at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		a.ID, a.Campaign, strings.Join(a.Districts, "\n"), a.Title, a.Body, a.By, a.At.UnixMicro())
	if err != nil {
		return fmt.Errorf("hub store: %w", err)
	}
	return nil
}

// AddReceipt records a guard's receipt of an alert (once per alert and household).
func (s *Store) AddReceipt(ctx context.Context, r hub.Receipt) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO hub_receipts (alert_id, household, district, guardians, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (alert_id, household) DO NOTHING`), r.Alert, r.Household, r.District, r.Guardians, r.At.UnixMicro())
	if err != nil {
		return fmt.Errorf("hub store: %w", err)
	}
	return nil
}

// Alerts lists community alerts, newest first, with their reach.
func (s *Store) Alerts(ctx context.Context, limit int) ([]hub.AlertReach, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT a.id, a.campaign, a.districts, a.title, a.body, a.by_whom, a.at,
			COUNT(r.household), COALESCE(SUM(r.guardians), 0)
		FROM hub_alerts a LEFT JOIN hub_receipts r ON r.alert_id = a.id
		GROUP BY a.id, a.campaign, a.districts, a.title, a.body, a.by_whom, a.at
		ORDER BY a.at DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("hub store: %w", err)
	}
	defer rows.Close()
	var out []hub.AlertReach
	for rows.Next() {
		var a hub.AlertReach
		var districts string
		var at int64
		if err := rows.Scan(&a.ID, &a.Campaign, &districts, &a.Title, &a.Body, &a.By, &at, &a.Households, &a.Guardians); err != nil {
			return nil, fmt.Errorf("hub store: %w", err)
		}
		a.V, a.At, a.Districts = hub.Version, time.UnixMicro(at).UTC(), strings.Split(districts, "\n")
		out = append(out, a)
	}
	return out, rows.Err()
}

// Reset deletes every row (tests and benchmarks only).
func (s *Store) Reset(ctx context.Context) error {
	var errs []error
	for _, t := range []string{"hub_reports", "hub_blocks", "hub_alerts", "hub_receipts"} {
		if _, err := s.db.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
