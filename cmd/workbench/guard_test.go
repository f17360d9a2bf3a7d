package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreGuard: every way of naming the store, its side files or its
// artifact directory is refused; other paths, including look-alikes, are
// not.
func TestStoreGuard(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	writeFile(t, db, "not really sqlite")
	writeFile(t, db+"-wal", "")
	if err := os.MkdirAll(filepath.Join(db+".d", "ckpt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(db, filepath.Join(dir, "sym.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(db, filepath.Join(dir, "hard.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(db+".d", filepath.Join(dir, "art")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(t.TempDir(), "elsewhere")); err != nil {
		t.Fatal(err)
	}
	// The guard is built from a relative --db, as users type it.
	t.Chdir(dir)
	g, err := newStoreGuard("runs.db")
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{
		db:                               "the runs database",
		"runs.db":                        "the runs database",
		"./x/../runs.db":                 "the runs database",
		db + "-wal":                      "write-ahead log",
		db + "-shm":                      "shared-memory index",
		"runs.db-journal":                "rollback journal",
		"sym.json":                       "the runs database",
		"hard.json":                      "the runs database",
		"runs.db.d":                      "artifact directory",
		"runs.db.d/ckpt/1.ckpt":          "artifact directory",
		"runs.db.d/new/dir/x.png":        "artifact directory",
		"art/ckpt/2.ckpt":                "artifact directory",
		filepath.Join(dir, "art", "x"):   "artifact directory",
		filepath.Join(dir, "runs.db.d/"): "artifact directory",
	}
	for p, what := range refused {
		err := g.check("--out", p)
		if err == nil || !strings.Contains(err.Error(), what) || !strings.Contains(err.Error(), "--out "+p+":") {
			t.Errorf("check(%q) = %v, want a refusal naming --out, the path and %q", p, err, what)
		}
	}
	for _, p := range []string{"runs.json", "runs.db.json", "runs.db.dx", "runs.db-walrus", "plots", filepath.Join(dir, "sub", "runs.db")} {
		if err := g.check("--out", p); err != nil {
			t.Errorf("check(%q) = %v, want nil", p, err)
		}
	}
	if err := g.check("--out", " "); err == nil || !strings.Contains(err.Error(), "--out is empty") {
		t.Errorf("check of a blank path: %v", err)
	}
}

// TestWriteOutputAtomic: a fill that fails leaves the old file as it was
// and no temporary file; one that succeeds replaces it whole.
func TestWriteOutputAtomic(t *testing.T) {
	dir := t.TempDir()
	g, err := newStoreGuard(filepath.Join(dir, "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "export.json")
	writeFile(t, out, "old")
	boom := errors.New("boom")
	err = writeOutput(g, "--out", out, func(w io.Writer) error {
		io.WriteString(w, "half of the new")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("writeOutput = %v, want the fill's error", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Fatalf("after a failed write: %q", b)
	}
	noTempFiles(t, dir)
	if err := writeOutput(g, "--out", out, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "new" {
		t.Fatalf("after a write: %q", b)
	}
	if err := writeOutput(g, "--out", dir, func(io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("writing over a directory: %v", err)
	}
}

// TestExportOutStoreInProcess: the bug of the issue, through the verb:
// export --out runs.db --db runs.db refuses and leaves runs.db as it was.
func TestExportOutStoreInProcess(t *testing.T) {
	db := runsFixture(t)
	before := fileSHA(t, db)
	_, stderr, code := cli(t, "export", "--json", "--out", db, "--db", db)
	if code != 1 || !strings.Contains(stderr, "export: --out "+db+": refusing to write over the runs database") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if after := fileSHA(t, db); after != before {
		t.Fatal("runs.db changed")
	}
}
