package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// dialect is what differs between the SQL databases a Store runs on: the
// store's queries are written once, with ? placeholders, in the SQL both
// SQLite and PostgreSQL accept; the dialect rebinds placeholders and knows
// its schema bookkeeping and checks.
type dialect interface {
	// name is "sqlite" or "postgres".
	name() string
	// rebind rewrites ? placeholders for the driver.
	rebind(q string) string
	// migrations are the backend's numbered schema changes.
	migrations() []migration
	// schemaVersion reads the number of the last migration applied.
	schemaVersion(ctx context.Context, q querier) (int, error)
	// lockMigrations serialises migrators inside tx (before the version
	// is read again); recordVersion stores v as applied in tx.
	lockMigrations(ctx context.Context, tx *txx) error
	recordVersion(ctx context.Context, tx *txx, v int) error
	// skipLocked ends the subquery that picks a run to claim, so that
	// concurrent claimers skip rows another one is taking.
	skipLocked() string
	// writeMetrics adds a batch's points in one transaction, skipping
	// those whose (run, key, step) is stored, with its mark and progress.
	writeMetrics(ctx context.Context, db *dbx, b metricBatch) error
	// check reports problems with the database's pages ("" when none).
	check(ctx context.Context, db *dbx, quick bool) (string, error)
}

// querier is what both dbx and txx offer for reading one row.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// dbx is a *sql.DB whose queries are rebound for its dialect.
type dbx struct {
	*sql.DB
	d dialect
}

func (db *dbx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.DB.ExecContext(ctx, db.d.rebind(q), args...)
}

func (db *dbx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.DB.QueryContext(ctx, db.d.rebind(q), args...)
}

func (db *dbx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return db.DB.QueryRowContext(ctx, db.d.rebind(q), args...)
}

func (db *dbx) Exec(q string, args ...any) (sql.Result, error) {
	return db.ExecContext(context.Background(), q, args...)
}

func (db *dbx) Query(q string, args ...any) (*sql.Rows, error) {
	return db.QueryContext(context.Background(), q, args...)
}

func (db *dbx) QueryRow(q string, args ...any) *sql.Row {
	return db.QueryRowContext(context.Background(), q, args...)
}

func (db *dbx) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txx, error) {
	tx, err := db.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &txx{Tx: tx, d: db.d}, nil
}

// txx is a *sql.Tx whose queries are rebound for its dialect.
type txx struct {
	*sql.Tx
	d dialect
}

func (tx *txx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(ctx, tx.d.rebind(q), args...)
}

func (tx *txx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(ctx, tx.d.rebind(q), args...)
}

func (tx *txx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(ctx, tx.d.rebind(q), args...)
}

func (tx *txx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return tx.Tx.PrepareContext(ctx, tx.d.rebind(q))
}

// numbered rewrites ? placeholders as $1, $2, ... (PostgreSQL), leaving
// question marks inside string literals alone.
func numbered(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, inString := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inString = !inString
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
