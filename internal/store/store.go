package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3" // also the database/sql driver "sqlite3"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// BusyTimeout is how long a statement waits for another connection's write
// lock before failing with "database is locked".
const BusyTimeout = 10 * time.Second

// ErrNotFound is returned (wrapped) when a run, study or artifact does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a run is not in the state an update
// needs, for example starting a run that another process is already running.
var ErrConflict = errors.New("conflict")

// Store is an open runs database: an SQLite file (runs.db, the default) or
// a PostgreSQL database shared by many machines. It is safe for concurrent
// use.
type Store struct {
	db *dbx
	// path is the SQLite file, or the PostgreSQL URL with its password
	// masked, for messages.
	path        string
	artifactDir string
	recovered   []int64
	readOnly    bool
	// PostgreSQL: the lease locks this process holds, and the first key of
	// this schema's locks (lease_lock.go).
	holds     leaseHolds
	lockClass int32
	dsn       string // PostgreSQL: the URL the lease connections dial
}

// Options tune Open. The zero value is what the workbench uses.
type Options struct {
	// Stale decides which runs with a dead owner are marked interrupted when
	// the store is opened. Zero fields take their defaults (see StaleOptions).
	Stale StaleOptions
	// NoRecover skips that sweep (for tools that must not write).
	NoRecover bool
	// Artifacts is the directory for file artifacts (checkpoints): by
	// default next to an SQLite file ("runs.db.d"); required with
	// PostgreSQL, on storage every worker shares.
	Artifacts string
}

// OpenURL opens the store db names: a postgres:// URL (see IsURL) or an
// SQLite file path.
func OpenURL(db string, opt Options) (*Store, error) {
	if IsURL(db) {
		return openPostgres(db, opt)
	}
	return OpenWith(db, opt)
}

// Open opens (creating if needed) the SQLite database at path, applies any
// pending migrations, and marks runs whose owning process is gone as
// interrupted (see RecoverStale; Recovered lists them).
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, opt Options) (*Store, error) {
	s, err := openDB(path)
	if err != nil {
		return nil, err
	}
	if opt.Artifacts != "" {
		s.artifactDir = opt.Artifacts
	}
	ctx := context.Background()
	if err := s.checkPages(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.migrate(ctx, LatestSchemaVersion()); err != nil {
		s.Close()
		return nil, err
	}
	if !opt.NoRecover {
		ids, err := s.RecoverStale(ctx, opt.Stale)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.recovered = ids
	}
	return s, nil
}

func openDB(path string) (*Store, error) {
	if err := checkFilePath(path); err != nil {
		return nil, err
	}
	if why := readOnlyCause(path); why != "" {
		return nil, fmt.Errorf("store: cannot write %s: %s; read verbs (runs, show, table, export) still work", path, why)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", strconv.Itoa(int(BusyTimeout/time.Millisecond)))
	q.Set("_synchronous", "NORMAL") // durable against process crashes in WAL mode
	// Write transactions take the write lock at BEGIN, so two writers never
	// deadlock upgrading read locks (which fails at once, ignoring the timeout).
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(time.Minute)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, unwrapSQLite(err))
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, unwrapSQLite(err))
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("store: open %s: journal mode is %q, want wal (is the file on a network file system?)", path, mode)
	}
	return &Store{db: &dbx{DB: db, d: sqliteDialect{}}, path: path, artifactDir: path + ".d"}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.holds.dropAll()
	return s.db.Close()
}

// Path is the database file's path, or its URL with the password masked.
func (s *Store) Path() string { return s.path }

// Backend is "sqlite" or "postgres".
func (s *Store) Backend() string { return s.db.d.name() }

// ArtifactDir is the directory where file artifacts (checkpoints, maps)
// are kept: next to an SQLite file ("runs.db" -> "runs.db.d"), or the one
// given when a PostgreSQL store was opened.
func (s *Store) ArtifactDir() string { return s.artifactDir }

// CheckpointPath is where run id's checkpoint file lives.
func (s *Store) CheckpointPath(id int64) string {
	return filepath.Join(s.ArtifactDir(), "ckpt", strconv.FormatInt(id, 10)+".ckpt")
}

// Recovered lists the runs that Open marked interrupted because their owner
// process was gone; for a read-only store, the runs it would have marked.
func (s *Store) Recovered() []int64 { return s.recovered }

// migration is one numbered SQL file.
type migration struct {
	Version int
	Name    string
	SQL     string
}

// The numbered schema changes of each backend. Both have the same
// versions: migration N of SQLite and of PostgreSQL make the same schema
// in each one's types.
var (
	sqliteMigrations   = mustLoadMigrations("migrations/sqlite")
	postgresMigrations = mustLoadMigrations("migrations/postgres")
)

// mustLoadMigrations reads dir/NNNN_name.sql in order; the numbers must run
// 1, 2, 3, ... without gaps.
func mustLoadMigrations(dir string) []migration {
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("store: migration file name must be NNNN_name.sql: " + e.Name())
		}
		b, err := migrationFiles.ReadFile(dir + "/" + e.Name())
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			panic(fmt.Sprintf("store: %s: migration %d missing (found %d)", dir, i+1, m.Version))
		}
	}
	return ms
}

// SchemaVersion is the number of the last migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	v, err := s.db.d.schemaVersion(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v, nil
}

// LatestSchemaVersion is the schema version this build of the workbench writes.
func LatestSchemaVersion() int { return len(sqliteMigrations) }

// migrate applies migrations up to version target, each in its own
// transaction together with its record in schema_migrations (and, on
// SQLite, PRAGMA user_version). It returns the versions it applied.
func (s *Store) migrate(ctx context.Context, target int) ([]int, error) {
	if err := s.createMigrationsTable(ctx); err != nil {
		return nil, fmt.Errorf("store: %s: create schema_migrations: %w", s.path, err)
	}
	cur, err := s.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	migrations := s.db.d.migrations()
	if cur > len(migrations) {
		return nil, fmt.Errorf("store: %s has schema version %d, newer than this workbench knows (%d): update the workbench", s.path, cur, len(migrations))
	}
	var applied []int
	for _, m := range migrations {
		if m.Version > target {
			break
		}
		if m.Version <= cur {
			continue
		}
		did, err := s.applyMigration(ctx, m)
		if err != nil {
			return applied, err
		}
		if did {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// createMigrationsTable makes the bookkeeping table under the migration
// lock, so that processes opening an empty database at once do not race
// (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against that).
func (s *Store) createMigrationsTable(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.db.d.lockMigrations(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)`); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) applyMigration(ctx context.Context, m migration) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: %s: migration %d: %w", s.path, m.Version, err)
	}
	defer tx.Rollback()
	if err := s.db.d.lockMigrations(ctx, tx); err != nil {
		return false, fmt.Errorf("store: %s: migration %d: %w", s.path, m.Version, err)
	}
	// Another process may have migrated while we waited for the write lock.
	cur, err := s.db.d.schemaVersion(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("store: %s: migration %d: %w", s.path, m.Version, err)
	}
	if cur >= m.Version {
		return false, nil
	}
	if cur != m.Version-1 {
		return false, fmt.Errorf("store: %s: migration %d needs schema version %d, found %d", s.path, m.Version, m.Version-1, cur)
	}
	if _, err := tx.Tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("store: %s: migration %04d_%s: %w", s.path, m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)",
		m.Version, m.Name, ms(time.Now())); err != nil {
		return false, fmt.Errorf("store: %s: record migration %d: %w", s.path, m.Version, err)
	}
	if err := s.db.d.recordVersion(ctx, tx, m.Version); err != nil {
		return false, fmt.Errorf("store: %s: record migration %d: %w", s.path, m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: %s: commit migration %d: %w", s.path, m.Version, err)
	}
	return true, nil
}

// ms converts a time to the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored Unix milliseconds (NULL: zero time) back.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

// nullMS stores the zero time as NULL.
func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// IsFull reports whether err says the disk holding a file, or the database,
// is full. The text is checked too: the trainer's errors reach the runner
// formatted, without their chain.
func IsFull(err error) bool {
	if err == nil {
		return false
	}
	var se sqlite3.Error
	if errors.Is(err, syscall.ENOSPC) || (errors.As(err, &se) && se.Code == sqlite3.ErrFull) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "no space left on device") || strings.Contains(msg, "database or disk is full")
}
