package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/testenv"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory (unmounted at
// the end of the test). It needs root; without it the test is skipped,
// except in CI ($WORKBENCH_CI), where a skip would hide a missing check.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.FormatInt(size, 10), "tmpfs", dir).CombinedOutput()
	testenv.Need(t, err == nil, "full-disk test needs root to mount a small tmpfs: "+strings.TrimSpace(string(out)))
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file that leaves about free bytes on dir's file system.
func fill(t *testing.T, dir string, free int64) string {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	avail := int64(fs.Bavail) * fs.Bsize
	path := filepath.Join(dir, "filler")
	if err := os.WriteFile(path, make([]byte, max(0, avail-free)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFullDiskMidStudy: the disk holding runs.db fills up in the middle of
// a study. The command fails, names every run that did not finish with its
// status and says what to do; runs.db stays intact; after space is freed,
// resume finishes every run.
func TestFullDiskMidStudy(t *testing.T) {
	dir := mountTmpfs(t, 16<<20)
	spec := filepath.Join(dir, "full.toml")
	if err := os.WriteFile(spec, []byte(strings.Replace(gcSpec, `name = "gc"`, `name = "full"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "runs.db")
	workbench(t, "run", spec, "--seeds", "1", "--db", db)
	filler := fill(t, dir, 600<<10) // room for about two more checkpoints

	cmd := workbenchCmd(t, "run", spec, "--seeds", "2,3,4,5", "--db", db, "--checkpoint-every", "1")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err == nil {
		t.Fatalf("a study on a full disk succeeded:\n%s", text)
	}
	for _, want := range []string{"did not finish:", "the disk is full: free space, then `workbench resume`"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// Every run of the study but the first is listed, by status.
	for _, seed := range []string{"seed 2", "seed 3", "seed 4", "seed 5"} {
		if !strings.Contains(text, "full/baseline "+seed) {
			t.Errorf("output does not list %s:\n%s", seed, text)
		}
	}
	if strings.Contains(text, "panic") {
		t.Fatalf("panic on a full disk:\n%s", text)
	}

	os.Remove(filler)
	if ok := integrityCheck(t, db); ok != "ok" {
		t.Fatalf("integrity check after the full disk: %s", ok)
	}
	resumed, errs := workbench(t, "resume", "--db", db)
	st, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), store.RunFilter{Study: "full"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 5 {
		t.Fatalf("%d runs, want 5\n%s%s", len(runs), resumed, errs)
	}
	for _, r := range runs {
		if r.Status != store.Finished {
			t.Fatalf("run %d is %s after resume (%s)\n%s%s", r.ID, r.Status, r.Error, resumed, errs)
		}
	}
}
