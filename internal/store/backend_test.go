package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The store's tests are its contract: every one runs on SQLite, and
// TestContractPostgres runs the whole suite again on PostgreSQL (the test
// binary re-executed with $WORKBENCH_STORE_BACKEND=postgres), each test in
// a fresh schema of the server named by $WORKBENCH_TEST_PG (see
// scripts/cluster-up.sh). Tests of SQLite's own machinery (WAL, PRAGMAs,
// read-only files) call sqliteOnly.

// EnvTestPG names the PostgreSQL server the tests use.
const EnvTestPG = "WORKBENCH_TEST_PG"

const envBackend = "WORKBENCH_STORE_BACKEND"

func onPostgres() bool { return os.Getenv(envBackend) == "postgres" }

// sqliteOnly skips a test of SQLite's own machinery in the PostgreSQL run.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("SQLite only")
	}
}

// TestPGURL returns the test server's URL; without one the test fails in
// CI ($WORKBENCH_CI) and is skipped elsewhere.
func testPGURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvTestPG)
	if u == "" {
		msg := "no PostgreSQL server: set " + EnvTestPG + " (eval \"$(scripts/cluster-up.sh)\" starts one)"
		if os.Getenv("WORKBENCH_CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

// newLocation makes a place for a fresh store: a file in a temporary
// directory, or a new schema on the test server (dropped at the end).
func newLocation(t testing.TB) string {
	t.Helper()
	if !onPostgres() {
		return filepath.Join(t.TempDir(), "runs.db")
	}
	base := testPGURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", base); err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
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
	testPGURL(t)
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
