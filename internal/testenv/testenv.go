// Package testenv gives tests the services they need — a PostgreSQL
// database, root — in one way: missing, the test fails in CI
// ($WORKBENCH_CI, set by .ci/run) and is skipped with the reason elsewhere.
// scripts/cluster-up.sh starts the services and prints the variables.
//
// Only tests import it.
package testenv

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
)

// EnvPG names the PostgreSQL server tests use.
const EnvPG = "WORKBENCH_TEST_PG"

// ClusterHint says how to start the services.
const ClusterHint = ` (eval "$(scripts/cluster-up.sh)" starts PostgreSQL and Slurm)`

// Need fails the test in CI and skips it elsewhere when ok is false.
func Need(t testing.TB, ok bool, msg string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("WORKBENCH_CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// PGSchema makes a fresh schema on the test server and returns the
// server's URL with it as the search path; the schema is dropped when the
// test ends.
func PGSchema(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv(EnvPG)
	Need(t, base != "", "no PostgreSQL server: set "+EnvPG+ClusterHint)
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
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
