package store

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// dirNames lists a directory's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestOpenReadOnlyWritesNothing: a read-only open reads runs and leaves the
// file, and the directory, exactly as they were, also where a stale run
// would be swept by a write open.
func TestOpenReadOnlyWritesNothing(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustStudy(t, s, "x")
	id := mustRun(t, s, "x", "a", 1, nil)
	if _, err := s.db.Exec("UPDATE runs SET heartbeat = 1, owner = ? WHERE id = ?", "gone", id); err != nil { // its owner is long gone
		t.Fatal(err)
	}
	finish(t, s, mustRun(t, s, "x", "b", 1, nil), map[string]float64{"acc.S4": 50})
	s.Close()
	before, names := fileSum(t, path), dirNames(t, dir)

	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := ro.Recovered(); len(got) != 1 || got[0] != id {
		t.Fatalf("read-only open lists %v as abandoned, want [%d]", got, id)
	}
	runs, err := ro.Runs(ctx, RunFilter{Study: "x"})
	if err != nil || len(runs) != 2 || runs[0].ID != id || runs[0].Status != Queued {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	if err := ro.PutStudy(ctx, Study{Name: "y", Spec: "x"}); err == nil {
		t.Fatal("a write through a read-only store succeeded")
	}
	ro.Close()
	if fileSum(t, path) != before {
		t.Fatal("a read-only open changed runs.db")
	}
	// SQLite may leave its -wal and -shm beside the file; nothing else.
	for _, n := range dirNames(t, dir) {
		if n != "runs.db-wal" && n != "runs.db-shm" && !slices.Contains(names, n) {
			t.Fatalf("a read-only open made %s (before: %v)", n, names)
		}
	}
}

// TestOpenReadOnlyDirectory: a runs.db in a directory this process cannot
// write is listed (immutable), and a write open says why it cannot.
func TestOpenReadOnlyDirectory(t *testing.T) {
	sqliteOnly(t)
	if os.Geteuid() == 0 {
		t.Skip("root can write any directory; this test needs an ordinary user (the CLI reliability suite covers it with a read-only bind mount)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustStudy(t, s, "x")
	s.Close()
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := ro.Studies(ctx); err != nil || len(st) != 1 {
		t.Fatalf("studies %v, %v", st, err)
	}
	ro.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("write open in a read-only directory: %v", err)
	}
}

func TestOpenReadOnlyRefuses(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o644)
	text := filepath.Join(dir, "text.db")
	os.WriteFile(text, []byte(strings.Repeat("not a database\n", 100)), 0o644)
	old := filepath.Join(dir, "old.db")
	o, err := openDB(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.migrate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	o.Close()
	oldSum := fileSum(t, old)
	for _, c := range []struct{ path, want string }{
		{empty, "is empty (0 bytes)"},
		{text, "not an SQLite database"},
		{old, "read-only: " + old + " needs migration 4 (run_owner); run any write verb"},
		{filepath.Join(dir, "missing.db"), "no such file"},
		{":memory:", "must be a file"},
		{dir, "is a directory"},
	} {
		s, err := OpenReadOnly(c.path)
		if err == nil {
			s.Close()
			t.Errorf("%s: opened, want an error containing %q", c.path, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.path, err, c.want)
		}
	}
	if b, _ := os.ReadFile(empty); len(b) != 0 {
		t.Fatal("the empty file was written")
	}
	if fileSum(t, old) != oldSum {
		t.Fatal("the old-schema file was written")
	}
	if _, err := Open(":memory:"); err == nil || !strings.Contains(err.Error(), "must be a file") {
		t.Fatalf("Open(:memory:): %v", err)
	}
}
