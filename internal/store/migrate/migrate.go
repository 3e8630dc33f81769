// Package migrate applies numbered SQL migrations (001_name.sql, 002_...) to a database:
// each once, in order, in its own transaction with its version recorded in a table.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Apply runs the files matching glob in files that table says are not applied yet.
// rebind rewrites ? placeholders for the database (nil keeps them).
func Apply(ctx context.Context, db *sql.DB, files fs.FS, glob, table string, rebind func(string) string) error {
	if rebind == nil {
		rebind = func(q string) string { return q }
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	var have int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&have); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	names, err := fs.Glob(files, glob)
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its version", name)
		}
		if v <= have {
			continue
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		// Without arguments, both SQLite and pgx run every statement in the file.
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, rebind(`INSERT INTO `+table+` (version, applied_at) VALUES (?, ?)`), v, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}
