package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const gcSpec = `name = "gc"
dataset = "synthetic"
backbone = "resnet"
profile = "smoke"
seeds = [1, 2]
metrics = ["acc.S4"]

[[variant]]
label = "baseline"
steps = 0
`

// TestGC: finished runs keep their final checkpoint; gc removes those and
// orphans and says how much it freed; --drop-checkpoints keeps none.
func TestGC(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "gc.toml")
	if err := os.WriteFile(spec, []byte(gcSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "runs.db")
	workbench(t, "run", spec, "--db", db)
	ckpts := func() []string {
		m, _ := filepath.Glob(filepath.Join(db+".d", "ckpt", "*"))
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m
	}
	if got := strings.Join(ckpts(), " "); got != "1.ckpt 2.ckpt" {
		t.Fatalf("checkpoints after the runs: %q, want each finished run's final one", got)
	}
	os.WriteFile(filepath.Join(db+".d", "ckpt", "7.ckpt.tmp99"), []byte("half a checkpoint"), 0o644)

	out, _ := workbench(t, "gc", "--dry-run", "--db", db)
	if !regexp.MustCompile(`(?m)^would remove 3 checkpoint file\(s\), \d+(\.\d)? [KM]?B; kept 0$`).MatchString(out) || len(ckpts()) != 3 {
		t.Fatalf("gc --dry-run:\n%s\nleft %v", out, ckpts())
	}
	out, _ = workbench(t, "gc", "--db", db)
	if !regexp.MustCompile(`(?m)^removed 3 checkpoint file\(s\), \d+(\.\d)? [KM]?B; kept 0$`).MatchString(out) || len(ckpts()) != 0 {
		t.Fatalf("gc:\n%s\nleft %v", out, ckpts())
	}
	shown, _ := workbench(t, "show", "1", "--db", db)
	if strings.Contains(shown, "1.ckpt") {
		t.Fatalf("show still lists the removed checkpoint:\n%s", shown)
	}
	if out, _ = workbench(t, "gc", "--db", db); !strings.HasPrefix(out, "removed 0 checkpoint file(s), 0 B") {
		t.Fatalf("second gc: %s", out)
	}

	workbench(t, "run", spec, "--seeds", "3", "--drop-checkpoints", "--db", db)
	if got := ckpts(); len(got) != 0 {
		t.Fatalf("--drop-checkpoints left %v", got)
	}
}
