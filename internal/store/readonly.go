package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// OpenReadOnly opens an existing runs.db for reading. It never writes the
// file: no migration, no sweep of stale runs (Recovered lists the runs a
// write open would mark interrupted, without marking them). A file with an
// older schema is refused with a message saying that a write verb upgrades
// it; an empty file, a directory or a file that is not SQLite, with a
// message saying what it is.
func OpenReadOnly(path string) (*Store, error) {
	if err := checkFilePath(path); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("store: %s is a directory, not a runs database", path)
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("store: %s is empty (0 bytes), not a runs database: name another with --db, or remove it and run a study to start a new one", path)
	}
	// With mode=ro SQLite still makes the -shm (and an empty -wal) it
	// needs to read beside a live writer; it never writes runs.db itself.
	// Where it cannot make them (a directory this process cannot write, a
	// full disk), the file is read as immutable — but only when its
	// write-ahead log is empty: another user may be writing a file in a
	// directory this one cannot write, and mode=ro reads that log through
	// the existing -shm.
	immutable := !writable(filepath.Dir(path)) && walEmpty(path)
	s, v, err := openReadOnly(path, immutable)
	if err != nil && !immutable && walEmpty(path) {
		if s2, v2, err2 := openReadOnly(path, true); err2 == nil {
			s, v, err = s2, v2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, unwrapSQLite(err))
	}
	if err := s.finishReadOnly(context.Background(), v); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// finishReadOnly checks a store opened read-only at schema version v: it
// must have this build's schema (a read verb never migrates) and sound
// pages; Recovered then lists the runs a write open would mark interrupted.
func (s *Store) finishReadOnly(ctx context.Context, v int) error {
	migrations := s.db.d.migrations()
	switch {
	case v > len(migrations):
		return fmt.Errorf("store: %s has schema version %d, newer than this workbench knows (%d): update the workbench", s.path, v, len(migrations))
	case v == 0:
		return fmt.Errorf("store: %s has no workbench schema: not a runs database (name another with --db)", s.path)
	case v < len(migrations):
		m := migrations[v]
		return fmt.Errorf("store: read-only: %s needs migration %d (%s); run any write verb (workbench run, resume, submit, worker) to upgrade it", s.path, m.Version, m.Name)
	}
	if err := s.checkPages(ctx); err != nil {
		return err
	}
	var err error
	s.recovered, err = s.RecoverStale(ctx, StaleOptions{DryRun: true})
	return err
}

// openReadOnly opens path with mode=ro (and immutable=1 when asked) and
// reads its schema version.
func openReadOnly(path string, immutable bool) (*Store, int, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", strconv.Itoa(int(BusyTimeout/time.Millisecond)))
	q.Set("_query_only", "1")
	if immutable {
		q.Set("immutable", "1")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, 0, err
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(time.Minute)
	s := &Store{db: &dbx{DB: db, d: sqliteDialect{}}, path: path, artifactDir: path + ".d", readOnly: true}
	v, err := s.SchemaVersion(context.Background())
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	return s, v, nil
}

// walEmpty reports whether path has no write-ahead log with content: all
// its committed transactions are in the main file.
func walEmpty(path string) bool {
	fi, err := os.Stat(path + "-wal")
	return err != nil || fi.Size() == 0
}

// checkPages runs SQLite's quick check (every page of every table and
// index, without cross-checking indexes against tables: about 0.25 s for a
// 120 MB file) so that a damaged file is reported by every verb, not only
// by the ones whose queries happen to touch the damaged page.
func (s *Store) checkPages(ctx context.Context) error {
	problems, err := s.db.d.check(ctx, s.db, true)
	if err != nil {
		return fmt.Errorf("store: %s is damaged: %w", s.path, unwrapSQLite(err))
	}
	if problems != "" {
		return fmt.Errorf("store: %s is damaged (%s): restore it from a copy, or salvage what is readable with `sqlite3 %s .recover`",
			s.path, strings.ReplaceAll(problems, "\n", "; "), s.path)
	}
	return nil
}

// ReadOnly reports whether the store was opened with OpenReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }

// checkFilePath refuses database names that are not files: runs must
// outlive the process, and the artifact directory lives beside the file.
func checkFilePath(path string) error {
	switch {
	case path == "":
		return errors.New("store: empty database path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return fmt.Errorf("store: %q is not a file path: the runs database must be a file (an in-memory database would lose every run at exit)", path)
	}
	return nil
}

// writable reports whether this process may create files in dir.
func writable(dir string) bool {
	return syscall.Access(dir, 2 /* W_OK */) == nil
}

// readOnlyCause explains why path cannot be opened for writing, or "" when
// nothing is in the way that can be seen before trying.
func readOnlyCause(path string) string {
	dir := filepath.Dir(path)
	if _, err := os.Stat(path); err == nil && syscall.Access(path, 2) != nil {
		return fmt.Sprintf("%s is read-only for this user", path)
	}
	if _, err := os.Stat(dir); err == nil && !writable(dir) {
		return fmt.Sprintf("its directory %s is not writable (SQLite keeps its -wal and -shm files there)", dir)
	}
	return ""
}

// unwrapSQLite turns SQLite's terse "file is not a database" into words.
func unwrapSQLite(err error) error {
	if err != nil && strings.Contains(err.Error(), "file is not a database") {
		return fmt.Errorf("not an SQLite database (%w)", err)
	}
	return err
}
