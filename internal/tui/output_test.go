package tui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/store"
)

// TestCheckOutput: no TUI output may be the runs database, its SQLite side
// files or anything in its artifact directory, however the path is spelt.
func TestCheckOutput(t *testing.T) {
	f := newFixture(t) // the project directory, with runs.db, is the working directory
	be, err := newBackend(Options{Store: f.st})
	must(t, err)
	must(t, os.Symlink("runs.db", "alias.db"))
	must(t, os.Link("runs.db", "hard.db"))
	abs, _ := filepath.Abs("runs.db")
	for _, p := range []string{"runs.db", "./runs.db", abs, "plots/../runs.db", "runs.db-wal", "runs.db-shm",
		"runs.db-journal", "runs.db.d", "runs.db.d/ckpt/1.ckpt", "alias.db", "hard.db"} {
		if err := be.checkOutput(p); err == nil || !strings.Contains(err.Error(), "refusing to write over") {
			t.Errorf("checkOutput(%q) = %v, want a refusal", p, err)
		}
	}
	for _, p := range []string{"plots/fixture.md", "runs.db2", "runs.db.dx/a", "experiments/runs.toml"} {
		if err := be.checkOutput(p); err != nil {
			t.Errorf("checkOutput(%q) = %v, want nil", p, err)
		}
	}
}

// TestExportNeverReplacesTheStore: a database that sits where an export
// goes (workbench --db plots/fixture.md) is refused, not overwritten.
func TestExportNeverReplacesTheStore(t *testing.T) {
	newFixture(t)
	must(t, os.MkdirAll("plots", 0o755))
	db := filepath.Join("plots", "fixture.md")
	st, err := store.Open(db)
	must(t, err)
	t.Cleanup(func() { st.Close() })
	before, err := os.ReadFile(db)
	must(t, err)
	be, err := newBackend(Options{Store: st, SpecDir: "experiments", PlotDir: "plots"})
	must(t, err)
	if _, err := be.export(context.Background(), "fixture"); err == nil || !strings.Contains(err.Error(), "refusing to write over") {
		t.Fatalf("export over the database: %v, want a refusal", err)
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
		t.Fatalf("the database changed: %d bytes before, %d after", len(before), len(after))
	}
	if left, _ := filepath.Glob(filepath.Join("plots", ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestExportReplacesFilesWhole: exporting again replaces every file (no
// stale content, no temporary files beside them).
func TestExportReplacesFilesWhole(t *testing.T) {
	f := newFixture(t)
	be, err := newBackend(Options{Store: f.st, SpecDir: "experiments", PlotDir: "plots"})
	must(t, err)
	ctx := context.Background()
	paths, err := be.export(ctx, "fixture")
	must(t, err)
	if len(paths) < 4 {
		t.Fatalf("exported %v, want tables and figures", paths)
	}
	for _, p := range paths {
		must(t, os.WriteFile(p, []byte("stale"), 0o600))
	}
	again, err := be.export(ctx, "fixture")
	must(t, err)
	for _, p := range again {
		b, err := os.ReadFile(p)
		must(t, err)
		if string(b) == "stale" {
			t.Errorf("%s was not replaced", p)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", p, fi.Mode().Perm())
		}
	}
	if left, _ := filepath.Glob(filepath.Join("plots", ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestBuilderSaveNeverReplacesTheStore: saving a study named like the
// database file (workbench --db experiments/abl-1.toml) is refused even
// after the user confirms the replacement.
func TestBuilderSaveNeverReplacesTheStore(t *testing.T) {
	f := newFixture(t)
	db := filepath.Join("experiments", "abl-1.toml")
	st, err := store.Open(db)
	must(t, err)
	t.Cleanup(func() { st.Close() })
	before, err := os.ReadFile(db)
	must(t, err)
	m, err := New(context.Background(), Options{Store: st, Runner: &fakeRunner{}, SpecDir: "experiments", PlotDir: "plots",
		Start: screenBuilder, Refresh: 50 * time.Millisecond})
	must(t, err)
	s := start2(t, m)
	s.f = f
	s.waitFor("Define a study")
	s.keys("enter", "abl-1", "ctrl+s")
	s.waitFor("Replace")
	s.keys("y")
	s.waitFor("refusing to writ", "(! shows all)")
	m = s.finish()
	if !strings.Contains(m.lastErr, "refusing to write over") {
		t.Errorf("last error %q", m.lastErr)
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
		t.Fatalf("the database changed: %d bytes before, %d after", len(before), len(after))
	}
}
