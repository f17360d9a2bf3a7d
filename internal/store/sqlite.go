package store

import (
	"context"
	"fmt"
	"strings"
)

// sqliteDialect is the embedded default: one file, WAL mode, the schema
// version also kept in PRAGMA user_version.
type sqliteDialect struct{}

func (sqliteDialect) name() string            { return "sqlite" }
func (sqliteDialect) rebind(q string) string  { return q }
func (sqliteDialect) migrations() []migration { return sqliteMigrations }

// skipLocked: SQLite has one writer at a time; the claim's UPDATE holds it.
func (sqliteDialect) skipLocked() string { return "" }

func (sqliteDialect) writeMetrics(ctx context.Context, db *dbx, b metricBatch) error {
	return writeMetricsSQL(ctx, db, b)
}

func (sqliteDialect) schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// lockMigrations: write transactions take SQLite's write lock at BEGIN
// (_txlock=immediate), which already serialises migrators.
func (sqliteDialect) lockMigrations(context.Context, *txx) error { return nil }

func (sqliteDialect) recordVersion(ctx context.Context, tx *txx, v int) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v))
	return err
}

// check runs integrity_check, or quick_check (every page of every table
// and index, without cross-checking indexes against tables: about 0.25 s
// for a 120 MB file).
func (sqliteDialect) check(ctx context.Context, db *dbx, quick bool) (string, error) {
	pragma := "PRAGMA integrity_check"
	if quick {
		pragma = "PRAGMA quick_check(20)"
	}
	rows, err := db.QueryContext(ctx, pragma)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	return strings.Join(problems, "\n"), rows.Err()
}
