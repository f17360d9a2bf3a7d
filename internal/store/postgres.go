package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also the database/sql driver "pgx"

	"github.com/mksmt/workbench/internal/fault"
)

// ConnectTimeout bounds how long opening a PostgreSQL store waits for an
// unreachable server before it says so.
const ConnectTimeout = 10 * time.Second

// IsURL reports whether db names a PostgreSQL database (postgres:// or
// postgresql://) rather than an SQLite file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// MaskURL is db with its password replaced (in the user part and in a
// password= parameter), for messages.
func MaskURL(db string) string {
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://… (not a valid URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// postgresDialect is the shared backend: many workbench processes on many
// machines, one database.
type postgresDialect struct{}

func (postgresDialect) name() string            { return "postgres" }
func (postgresDialect) rebind(q string) string  { return numbered(q) }
func (postgresDialect) migrations() []migration { return postgresMigrations }
func (postgresDialect) skipLocked() string      { return " FOR UPDATE SKIP LOCKED" }

func (postgresDialect) schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// migrationLock is the advisory lock that serialises migrators.
const migrationLock = 0x6d6b736d74 // "mksmt"

func (postgresDialect) lockMigrations(ctx context.Context, tx *txx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(migrationLock))
	return err
}

func (postgresDialect) recordVersion(context.Context, *txx, int) error { return nil }

// check: the server keeps its own pages consistent (and checksums them
// where enabled); there is nothing for a client to scan.
func (postgresDialect) check(context.Context, *dbx, bool) (string, error) { return "", nil }

// openPostgres connects to the database at dsn (see connectPostgres),
// applies pending migrations and, unless opt.NoRecover, marks runs whose
// owner is gone interrupted. Artifacts (checkpoints) are kept under
// opt.Artifacts, which every machine must see at the same path.
func openPostgres(dsn string, opt Options) (*Store, error) {
	if opt.Artifacts == "" {
		return nil, fmt.Errorf("store: %s: a PostgreSQL store needs an artifacts directory (--artifacts DIR) on storage every worker shares, for checkpoints", MaskURL(dsn))
	}
	s, err := connectPostgres(dsn)
	if err != nil {
		return nil, err
	}
	s.artifactDir = opt.Artifacts
	if _, err := s.migrate(context.Background(), LatestSchemaVersion()); err != nil {
		s.Close()
		return nil, err
	}
	if !opt.NoRecover {
		ids, err := s.RecoverStale(context.Background(), opt.Stale)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.recovered = ids
	}
	return s, nil
}

// connectPostgres opens a connection pool to dsn and waits at most
// ConnectTimeout for the server to answer.
func connectPostgres(dsn string) (*Store, error) {
	masked := MaskURL(dsn)
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: cannot parse the database URL (a password with / # ? or @ must be percent-encoded)", masked)
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", fmt.Sprint(int(ConnectTimeout/time.Second)))
	}
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", masked, err)
	}
	db.SetMaxOpenConns(16)
	db.SetConnMaxIdleTime(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), ConnectTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: cannot reach %s within %s: %w", masked, ConnectTimeout, err)
	}
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", masked, err)
	}
	return &Store{db: &dbx{DB: db, d: postgresDialect{}}, path: masked, dsn: u.String(), lockClass: lockClass(schema)}, nil
}

// writeMetrics copies the points into a temporary table with COPY (one
// round trip for the whole batch) and moves them into metrics with one
// INSERT … ON CONFLICT DO NOTHING, in one transaction with the mark.
func (postgresDialect) writeMetrics(ctx context.Context, db *dbx, b metricBatch) error {
	ms, mark := b.points, b.mark
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: write %d metric points: %w", len(ms), err)
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return fmt.Errorf("store: write %d metric points: %w", len(ms), err)
		}
		defer tx.Rollback(ctx)
		if mark == nil {
			// A plain batch does not wait for the server's disk: a server
			// crash may lose the last fraction of a second of such points,
			// never consistency. A batch that records a checkpoint commits
			// synchronously, which also flushes every earlier batch, so the
			// points a checkpoint covers are always on disk before its file
			// is renamed.
			if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return fmt.Errorf("store: write %d metric points: %w", len(ms), err)
			}
		}
		if mark != nil {
			q, args := mark.sql()
			tag, err := tx.Exec(ctx, numbered(q), args...)
			if err != nil {
				return fmt.Errorf("store: record checkpoint step %d of run %d: %w", mark.step, mark.runID, err)
			}
			if tag.RowsAffected() == 0 {
				return mark.missing()
			}
		}
		for _, r := range b.progress {
			q, args, err := r.sql()
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, numbered(q), args...); err != nil {
				return fmt.Errorf("store: progress of run %d: %w", r.runID, err)
			}
		}
		if len(ms) > 0 {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS metrics_in (run_id BIGINT, key TEXT, step BIGINT,
				epoch BIGINT, value DOUBLE PRECISION, time BIGINT) ON COMMIT DELETE ROWS`); err != nil {
				return fmt.Errorf("store: write %d metric points: %w", len(ms), err)
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"metrics_in"}, []string{"run_id", "key", "step", "epoch", "value", "time"},
				pgx.CopyFromSlice(len(ms), func(i int) ([]any, error) {
					m := ms[i]
					return []any{m.RunID, m.Key, int64(m.Step), int64(m.Epoch), nullFloat(m.Value), m.Time.UnixMilli()}, nil
				}))
			if err != nil {
				return fmt.Errorf("store: write metric points of run %d: %w", ms[0].RunID, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO metrics (run_id, key, step, epoch, value, time)
				SELECT run_id, key, step, epoch, value, time FROM metrics_in
				ON CONFLICT (run_id, key, step) DO NOTHING`); err != nil {
				return fmt.Errorf("store: write metric points of run %d: %w", ms[0].RunID, err)
			}
		}
		fault.Point(fault.MetricsBeforeCommit)
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("store: commit metric points: %w", err)
		}
		return nil
	})
}

// OpenURLReadOnly opens the store db names for a verb that only reads: an
// SQLite file with OpenReadOnly, or a PostgreSQL database without
// migrating it (an older schema is an error naming the write verbs that
// upgrade it) and without sweeping stale runs. artifacts may be "" when
// the verb reads no checkpoint.
func OpenURLReadOnly(db, artifacts string) (*Store, error) {
	if !IsURL(db) {
		s, err := OpenReadOnly(db)
		if err == nil && artifacts != "" {
			s.artifactDir = artifacts
		}
		return s, err
	}
	s, err := connectPostgres(db)
	if err != nil {
		return nil, err
	}
	s.artifactDir, s.readOnly = artifacts, true
	v, err := s.db.d.schemaVersion(context.Background(), s.db)
	if err != nil {
		v = 0 // no schema_migrations table: not a workbench database (yet)
	}
	if err := s.finishReadOnly(context.Background(), v); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
