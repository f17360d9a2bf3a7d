package store

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/testenv"
)

// The store's tests are its contract: every one runs on SQLite, and
// TestContractPostgres runs the whole suite again on PostgreSQL (the test
// binary re-executed with $WORKBENCH_STORE_BACKEND=postgres), each test in
// a fresh schema of the server named by $WORKBENCH_TEST_PG (see
// scripts/cluster-up.sh). Tests of SQLite's own machinery (WAL, PRAGMAs,
// read-only files) call sqliteOnly.

const envBackend = "WORKBENCH_STORE_BACKEND"

func onPostgres() bool { return os.Getenv(envBackend) == "postgres" }

// sqliteOnly skips a test of SQLite's own machinery in the PostgreSQL run.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("SQLite only")
	}
}

// newLocation makes a place for a fresh store: a file in a temporary
// directory, or a new schema on the test server (dropped at the end).
func newLocation(t testing.TB) string {
	t.Helper()
	if !onPostgres() {
		return filepath.Join(t.TempDir(), "runs.db")
	}
	return testenv.PGSchema(t, "t_")
}

// openAt opens the store at a location made by newLocation.
func openAt(t testing.TB, loc string, opt Options) (*Store, error) {
	t.Helper()
	if IsURL(loc) && opt.Artifacts == "" {
		opt.Artifacts = t.TempDir()
	}
	return OpenURL(loc, opt)
}

// openRaw connects to a location without migrating it.
func openRaw(t testing.TB, loc string) *Store {
	t.Helper()
	var s *Store
	var err error
	if IsURL(loc) {
		s, err = connectPostgres(loc)
	} else {
		s, err = openDB(loc)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// setSchemaVersion records v as the applied schema version.
func setSchemaVersion(t testing.TB, s *Store, v int) {
	t.Helper()
	var err error
	if s.Backend() == "postgres" {
		_, err = s.db.Exec("INSERT INTO schema_migrations (version, name, applied) VALUES (?, 'future', 0)", v)
	} else {
		_, err = s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestContractPostgres runs every test of this package on PostgreSQL.
func TestContractPostgres(t *testing.T) {
	if onPostgres() {
		t.Skip("already the PostgreSQL run")
	}
	testenv.Need(t, os.Getenv(testenv.EnvPG) != "", "no PostgreSQL server: set "+testenv.EnvPG+testenv.ClusterHint)
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envBackend+"=postgres")
	out, err := cmd.CombinedOutput()
	var passed, skipped []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- PASS: "); ok && !strings.Contains(name, "/") {
			passed = append(passed, strings.Fields(name)[0])
		}
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- SKIP: "); ok {
			skipped = append(skipped, strings.Fields(name)[0])
		}
	}
	if err != nil {
		t.Fatalf("the store's tests on PostgreSQL: %v\n%s", err, out)
	}
	t.Logf("on PostgreSQL: %d tests passed; skipped (SQLite only): %s", len(passed), strings.Join(skipped, ", "))
}
