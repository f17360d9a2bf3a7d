package main

// The reliability suite (issue 10): the hostile and clumsy inputs of the
// issue, replayed through the real binary as a table. Each case runs on a
// fresh copy of one runs.db seeded once by a smoke study and checks the
// exit status, the message, that nothing crashed, that no error repeats a
// prefix, and that runs.db is unchanged: the same sha256 and PRAGMA
// integrity_check = ok. Every command runs under a 6 GiB address-space
// limit, so a case whose fix has not landed fails instead of exhausting
// the machine.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/mksmt/workbench/internal/runner"
)

// relEnv is one case's directory: runs.db (a copy of the seed unless the
// case has noDB) and whatever its setup adds.
type relEnv struct {
	dir string
	db  string
	out string // a writable directory for outputs, outside dir
}

type stdoutKind int

const (
	stdoutCaptured stdoutKind = iota
	stdoutClosed              // started with fd 1 closed (>&-)
	stdoutDeadPipe            // a pipe whose reader is gone
)

// anyFailure: the case must fail (any non-zero status, no crash).
const anyFailure = -1

type relCase struct {
	name string
	// issue names the item of the issue's "Why" the case replays, and who
	// fixes it when that is not cmd/workbench.
	issue string
	args  []string // {db}, {dir} are replaced; see expand
	setup func(t *testing.T, e *relEnv)
	inDir bool // run in the case's directory instead of the repository root
	out   stdoutKind
	noDB  bool // no seeded runs.db
	// wantErr is a substring of stderr; "" with wantCode 0 is success.
	wantErr  string
	wantCode int
	mutates  bool // a verb that writes runs.db: only the integrity check
	corrupt  bool // runs.db is corrupt on purpose: only the checksum
	unpinned bool // the code version is detected, not pinned by the environment
	check    func(t *testing.T, e *relEnv, stdout, stderr string)
}

var (
	seedOnce sync.Once
	seedDir  string
	seedErr  error
)

// seededDB trains table9 at the smoke profile, one seed (one run per
// variant: seedRuns), once per test binary, and returns the directory holding its runs.db and
// runs.db.d.
func seededDB(t *testing.T) string {
	t.Helper()
	seedOnce.Do(func() {
		seedDir, seedErr = os.MkdirTemp("", "workbench-reliability-seed-")
		if seedErr != nil {
			return
		}
		cmd := workbenchCmd(t, "run", "table9", "--profile", "smoke", "--seeds", "1", "--db", filepath.Join(seedDir, "runs.db"))
		if out, err := cmd.CombinedOutput(); err != nil {
			seedErr = fmt.Errorf("seeding runs.db: %v\n%s", err, out)
		}
	})
	if seedErr != nil {
		t.Fatal(seedErr)
	}
	if _, err := os.Stat(filepath.Join(seedDir, "runs.db-wal")); err == nil {
		t.Fatal("the seed runs.db has a -wal file left: copies of the main file would miss its pages")
	}
	return seedDir
}

// seedRuns is the number of runs in the seeded runs.db: one per variant of
// table9.
func seedRuns(t *testing.T) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(seededDB(t), "runs.db")+"?immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM runs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "absent"
	}
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sqliteIntegrity runs PRAGMA integrity_check on the file as it is on
// disk (immutable: no lock, no -wal, no -shm written by the check).
func sqliteIntegrity(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		return err.Error()
	}
	return res
}

func seq(from, to int) string {
	s := make([]string, 0, to-from+1)
	for i := from; i <= to; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, ",")
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// smallSpec is a valid one-variant study; extra goes at the end.
func smallSpec(seeds, extra string) string {
	return `name = "rel"
title = "reliability"
dataset = "synthetic"
profile = "smoke"
seeds = [` + seeds + `]
metrics = ["acc.S4"]

[base]
steps = 2

[[variant]]
label = "two-step"
` + extra
}

// corruptTablePage overwrites the root page of a table of the SQLite file
// at path with 0xff (all of it: a root that is an interior page of a
// grown table has its cells at the end and free space in the middle).
func corruptTablePage(t *testing.T, path, table string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	err = db.QueryRow("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&root)
	if err == nil {
		err = db.QueryRow("PRAGMA page_size").Scan(&pageSize)
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, int(pageSize)), (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
}

func reliabilityCases() []relCase {
	refuse := "refusing to write over"
	return []relCase{
		// 1. No output path may be the store.
		{name: "export --out the store", issue: "1", args: []string{"export", "--json", "--out", "{db}", "--db", "{db}"},
			wantErr: refuse + " the runs database (", wantCode: 1},
		{name: "export --out its -wal", issue: "1", args: []string{"export", "--json", "--out", "{db}-wal", "--db", "{db}"},
			wantErr: "write-ahead log", wantCode: 1},
		{name: "export --out its -shm", issue: "1", args: []string{"export", "--csv", "--out", "{db}-shm", "--db", "{db}"},
			wantErr: "shared-memory index", wantCode: 1},
		{name: "export --out its -journal", issue: "1", args: []string{"export", "--out", "{db}-journal", "--db", "{db}"},
			wantErr: "rollback journal", wantCode: 1},
		{name: "export --out the store by a relative path", issue: "1", inDir: true,
			args:    []string{"export", "--json", "--out", "./sub/../runs.db", "--db", "runs.db"},
			setup:   func(t *testing.T, e *relEnv) { os.Mkdir(filepath.Join(e.dir, "sub"), 0o755) },
			wantErr: refuse + " the runs database", wantCode: 1},
		{name: "export --out a symlink to the store", issue: "1", args: []string{"export", "--json", "--out", "{dir}/link.json", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				if err := os.Symlink(e.db, filepath.Join(e.dir, "link.json")); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: refuse + " the runs database", wantCode: 1},
		{name: "export --out a hard link to the store", issue: "1", args: []string{"export", "--json", "--out", "{dir}/hard.json", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				if err := os.Link(e.db, filepath.Join(e.dir, "hard.json")); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: refuse + " the runs database", wantCode: 1},
		{name: "export --out a checkpoint", issue: "1", args: []string{"export", "--json", "--out", "{db}.d/ckpt/1.ckpt", "--db", "{db}"},
			wantErr: "artifact directory", wantCode: 1,
			check: func(t *testing.T, e *relEnv, _, _ string) {
				if fi, err := os.Stat(e.db + ".d/ckpt/1.ckpt"); err != nil || fi.Size() < 1000 {
					t.Errorf("checkpoint 1 after the refused export: %v, %v", fi, err)
				}
			}},
		{name: "export --out through a symlink to the artifact directory", issue: "1",
			args: []string{"export", "--json", "--out", "{dir}/art/x.json", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				if err := os.Symlink(e.db+".d", filepath.Join(e.dir, "art")); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "artifact directory", wantCode: 1},
		{name: "plot --out the artifact directory", issue: "1", args: []string{"plot", "table9", "--profile", "smoke", "--out", "{db}.d", "--db", "{db}"},
			wantErr: "artifact directory", wantCode: 1},
		{name: "plot --out the store", issue: "1", args: []string{"plot", "table9", "--out", "{db}", "--db", "{db}"},
			wantErr: refuse + " the runs database", wantCode: 1},
		{name: "reproduce --out inside the artifact directory, before training", issue: "1",
			args:    []string{"reproduce", "--profile", "smoke", "--out", "{db}.d/plots", "--db", "{db}"},
			wantErr: "artifact directory", wantCode: 1},
		{name: "datasets show --out the artifact directory", issue: "1",
			args:    []string{"datasets", "show", "synthetic", "--out", "{db}.d", "--db", "{db}"},
			wantErr: "artifact directory", wantCode: 1},
		{name: "a failed export leaves the old --out file whole", issue: "1",
			args: []string{"export", "--json", "--out", "{dir}/old.json", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				writeFile(t, filepath.Join(e.dir, "old.json"), "previous export\n")
				corruptTablePage(t, e.db, "runs")
			},
			corrupt: true, wantCode: anyFailure,
			check: func(t *testing.T, e *relEnv, _, _ string) {
				if b, _ := os.ReadFile(filepath.Join(e.dir, "old.json")); string(b) != "previous export\n" {
					t.Errorf("old.json after a failed export: %q", b)
				}
				noTempFiles(t, e.dir)
			}},
		{name: "export --out a new file", issue: "1", args: []string{"export", "--json", "--out", "{dir}/runs.json", "--db", "{db}"},
			check: func(t *testing.T, e *relEnv, _, stderr string) {
				var doc struct{ Runs []json.RawMessage }
				b, err := os.ReadFile(filepath.Join(e.dir, "runs.json"))
				if err != nil || json.Unmarshal(b, &doc) != nil || len(doc.Runs) != seedRuns(t) {
					t.Errorf("runs.json: %d runs, %v", len(doc.Runs), err)
				}
				noTempFiles(t, e.dir)
			}},

		// 3. Unbounded input.
		{name: "run /dev/zero", issue: "3 (experiment)", args: []string{"run", "/dev/zero", "--profile", "smoke", "--db", "{db}"},
			wantErr: "not a regular file", wantCode: 1},
		{name: "a spec of 40 KB of nested inline tables", issue: "3 (experiment)", args: []string{"run", "{dir}/nested.toml", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				n := 40000 / 6
				writeFile(t, filepath.Join(e.dir, "nested.toml"), "a = "+strings.Repeat("{b = ", n)+"1"+strings.Repeat("}", n)+"\n")
			},
			wantErr: "nesting deeper than", wantCode: 1},
		{name: "a 10 MB spec", issue: "3, 9 (experiment)", args: []string{"run", "{dir}/big.toml", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				writeFile(t, filepath.Join(e.dir, "big.toml"), smallSpec("1", strings.Repeat("# padding padding padding padding\n", 10<<20/34)))
			},
			wantErr: "1 MiB limit", wantCode: 1},
		{name: "run on a synthetic set needing ~120 GB", issue: "3 (data, experiment)",
			args:    []string{"run", "table9", "--profile", "smoke", "--dataset", "synthetic:classes=200,train=100000,test=100000", "--db", "{db}"},
			wantErr: "of memory", wantCode: 1},
		{name: "datasets show on a synthetic set needing ~120 GB", issue: "3 (data)",
			args:    []string{"datasets", "show", "synthetic:classes=200,train=100000,test=100000", "--out", "{dir}/p", "--db", "{db}"},
			wantErr: "of memory", wantCode: 1},
		{name: "datasets show --scale 1000", issue: "3", args: []string{"datasets", "show", "synthetic", "--scale", "1000", "--out", "{dir}/p"},
			wantErr: "--scale 1000 is out of range (allowed: 1 to 16)", wantCode: 1},
		{name: "datasets show --per-class 0", issue: "3", args: []string{"datasets", "show", "synthetic", "--per-class", "0", "--out", "{dir}/p"},
			wantErr: "--per-class 0 is out of range", wantCode: 1},

		// 4. Seeds and run counts.
		{name: "--seeds 1..20000", issue: "4", args: []string{"run", "table9", "--profile", "smoke", "--seeds", seq(1, 20000), "--db", "{db}"},
			wantErr: "--seeds has 20000 seeds (allowed: at most 1000", wantCode: 1},
		{name: "--grid with 1001 values", issue: "4", args: []string{"run", "table9", "--profile", "smoke", "--grid", "temperature=" + seq(1, 1001), "--db", "{db}"},
			wantErr: "--grid temperature: 1001 values; at most 1000 variants per study", wantCode: 1},
		{name: "--grid of an unknown setting", issue: "4", args: []string{"run", "table10", "--profile", "smoke", "--grid", "tempreature=1,2", "--db", "{db}"},
			wantErr: `--grid tempreature: unknown setting; did you mean "temperature"?`, wantCode: 1},
		{name: "--grid 20 × --seeds 1000 is over 10,000 runs", issue: "4", args: []string{"run", "table10", "--profile", "smoke", "--grid", "temperature=" + seq(1, 20), "--seeds", seq(1, 1000), "--yes", "--db", "{db}"},
			wantErr: "at most 10000 per study", wantCode: 1},
		{name: "--seeds 0..999 asks for --yes", issue: "4", args: []string{"run", "table9", "--profile", "smoke", "--seeds", seq(0, 999), "--db", "{db}"},
			wantErr: "runs to train (more than 200 in one command): pass --yes", wantCode: 1,
			check: func(t *testing.T, e *relEnv, _, stderr string) {
				// 1,000 seeds of every variant, less seed 1's finished runs.
				if n := seedRuns(t); !strings.Contains(stderr, fmt.Sprintf("%d runs to train", 1000*n-n)) {
					t.Errorf("want %d runs to train:\n%s", 1000*n-n, stderr)
				}
			}},
		{name: "a spec with 1000 seeds asks for --yes", issue: "4", args: []string{"run", "{dir}/many.toml", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				writeFile(t, filepath.Join(e.dir, "many.toml"), smallSpec(seq(1000, 1999), ""))
			},
			wantErr: "1000 runs to train (more than 200 in one command): pass --yes", wantCode: 1},
		{name: "a spec with 1000 seeds asks for --yes before creating runs.db", issue: "4", noDB: true,
			args: []string{"run", "{dir}/many.toml", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				writeFile(t, filepath.Join(e.dir, "many.toml"), smallSpec(seq(1000, 1999), ""))
			},
			wantErr: "pass --yes", wantCode: 1,
			check: func(t *testing.T, e *relEnv, _, _ string) {
				if fileExists(e.db) {
					t.Error("a refused run created runs.db")
				}
			}},
		{name: "--seeds over the 10,000-run limit of a study, with --yes", issue: "4 (experiment)",
			args: []string{"run", "{dir}/wide.toml", "--seeds", seq(0, 999), "--yes", "--jobs", "1", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				var v strings.Builder
				for i := range 11 {
					fmt.Fprintf(&v, "\n[[variant]]\nlabel = \"t%d\"\ntemperature = %d\n", i, i+1)
				}
				spec := strings.Replace(smallSpec("1", v.String()), "[[variant]]\nlabel = \"two-step\"\n", "", 1)
				writeFile(t, filepath.Join(e.dir, "wide.toml"), spec)
			},
			wantErr: "at most 10000", wantCode: 1},

		// 5. Read-only access.
		{name: "runs in a read-only directory", issue: "5 (store)", args: []string{"runs", "--db", "{db}"}, setup: readOnlyDir,
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				if n := seedRuns(t); !strings.Contains(stdout, fmt.Sprintf("%d run(s): %d finished", n, n)) {
					t.Errorf("runs in a read-only directory:\n%s", stdout)
				}
			}},
		{name: "table in a read-only directory", issue: "5 (store)", setup: readOnlyDir,
			args: []string{"table", "table9", "--profile", "smoke", "--db", "{db}"}},
		{name: "export in a read-only directory", issue: "5 (store)", setup: readOnlyDir,
			args: []string{"export", "--json", "--out", "{out}/runs.json", "--db", "{db}"}},
		{name: "run in a read-only directory says why", issue: "5 (store)", setup: readOnlyDir,
			args:    []string{"run", "table9", "--profile", "smoke", "--seeds", "1", "--db", "{db}"},
			wantErr: "cannot write", wantCode: 1},
		{name: "runs on a 0-byte runs.db", issue: "5 (store)", args: []string{"runs", "--db", "{db}"},
			setup:    func(t *testing.T, e *relEnv) { os.Truncate(e.db, 0) },
			wantCode: anyFailure, corrupt: true},
		{name: "table on a 0-byte runs.db", issue: "5 (store)", args: []string{"table", "table9", "--db", "{db}"},
			setup:    func(t *testing.T, e *relEnv) { os.Truncate(e.db, 0) },
			wantCode: anyFailure, corrupt: true},
		{name: "show on a 0-byte runs.db", issue: "5 (store)", args: []string{"show", "1", "--db", "{db}"},
			setup:    func(t *testing.T, e *relEnv) { os.Truncate(e.db, 0) },
			wantCode: anyFailure, corrupt: true},

		// 7, 8. Provenance.
		{name: "git core.fsmonitor is not run", issue: "7 (runner)", inDir: true, unpinned: true, args: []string{"version"},
			setup: craftedRepo,
			check: func(t *testing.T, e *relEnv, _, _ string) {
				if _, err := os.Stat(filepath.Join(e.dir, "pwned")); err == nil {
					t.Error("workbench ran the repository's core.fsmonitor command")
				}
			}},
		{name: "the code version is the same from any directory", issue: "8 (runner)", inDir: true, unpinned: true, args: []string{"version", "--json"},
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				cmd := exec.Command(workbenchBinary(t), "version", "--json")
				cmd.Dir = repoRoot(t)
				cmd.Env = unpinnedEnv()
				fromRepo, err := cmd.Output()
				if err != nil {
					t.Fatal(err)
				}
				var a, b struct {
					CodeVersion string `json:"code_version"`
				}
				json.Unmarshal([]byte(stdout), &a)
				json.Unmarshal(fromRepo, &b)
				if a.CodeVersion == "" || a.CodeVersion != b.CodeVersion {
					t.Errorf("code version %q outside the repository, %q inside", a.CodeVersion, b.CodeVersion)
				}
			}},

		// 9. Smaller ones.
		{name: "--db :memory:", issue: "9", args: []string{"runs", "--db", ":memory:"},
			wantErr: "runs: --db :memory:: want a file path; in-memory databases", wantCode: 1},
		{name: "--db file: URI", issue: "9", args: []string{"run", "table9", "--db", "file:{db}?mode=rwc"},
			wantErr: "file: URIs are not accepted", wantCode: 1},
		{name: "--db empty", issue: "9", args: []string{"export", "--db", ""},
			wantErr: "--db is empty", wantCode: 1},
		{name: "--db a directory", issue: "9", args: []string{"show", "1", "--db", "{dir}"},
			wantErr: "is a directory", wantCode: 1},
		{name: "flags without a verb and no terminal", issue: "9 (tui)", args: []string{"--db", "{db}"},
			wantErr: "needs a terminal", wantCode: anyFailure},
		{name: "runs --limit -3", issue: "9", args: []string{"runs", "--limit", "-3", "--db", "{db}"},
			wantErr: "runs: --limit -3 is out of range (allowed: 0 or more", wantCode: 1},
		{name: "run --checkpoint-every -5", issue: "9", args: []string{"run", "table9", "--profile", "smoke", "--checkpoint-every", "-5", "--db", "{db}"},
			wantErr: "run: --checkpoint-every -5 is out of range (allowed: 0 or more", wantCode: 1},
		{name: "run --jobs 100000", issue: "9", args: []string{"run", "table9", "--profile", "smoke", "--jobs", "100000", "--db", "{db}"},
			wantErr: "run: --jobs 100000 is out of range (allowed: 0 to", wantCode: 1},
		{name: "resume --jobs -1", issue: "9", args: []string{"resume", "--jobs", "-1", "--db", "{db}"},
			wantErr: "resume: --jobs -1 is out of range", wantCode: 1},
		{name: "reproduce --jobs 100000", issue: "9", args: []string{"reproduce", "--jobs", "100000", "--db", "{db}"},
			wantErr: "reproduce: --jobs 100000 is out of range", wantCode: 1},
		{name: "negative seed", issue: "9", args: []string{"run", "table9", "--profile", "smoke", "--seeds", "1,-2", "--db", "{db}"},
			wantErr: "seed -2 is negative", wantCode: 1},
		{name: "a missing data set is named once", issue: "9 (experiment, data)",
			args:    []string{"run", "table9", "--profile", "smoke", "--dataset", "imagefolder:{dir}/missing", "--db", "{db}"},
			wantErr: "data set imagefolder:", wantCode: 1},
		{name: "a CUB list line over 64 KB", issue: "9 (data)", args: []string{"datasets", "show", "cub:{dir}/cub", "--out", "{dir}/p"},
			setup: func(t *testing.T, e *relEnv) {
				long := "1 " + strings.Repeat("x", 70<<10) + ".jpg\n"
				for _, f := range []string{"images.txt", "classes.txt", "image_class_labels.txt", "train_test_split.txt"} {
					writeFile(t, filepath.Join(e.dir, "cub", f), long)
				}
			},
			wantErr: "longer than 65536 bytes", wantCode: 1},
		{name: "runs on a corrupted params page", issue: "9 (store)", args: []string{"runs", "--db", "{db}"},
			setup:   func(t *testing.T, e *relEnv) { corruptTablePage(t, e.db, "params") },
			corrupt: true, wantErr: "malformed", wantCode: 1},
		{name: "table on a corrupted runs page", issue: "9", args: []string{"table", "table9", "--profile", "smoke", "--db", "{db}"},
			setup:   func(t *testing.T, e *relEnv) { corruptTablePage(t, e.db, "runs") },
			corrupt: true, wantErr: "malformed", wantCode: 1},
		// The params filter of table reads the (run, key) index, never the
		// corrupt table page: only a check of the file (quick_check) sees it.
		{name: "table on a corrupted params page", issue: "9 (store)", args: []string{"table", "table9", "--profile", "smoke", "--db", "{db}"},
			setup:   func(t *testing.T, e *relEnv) { corruptTablePage(t, e.db, "params") },
			corrupt: true, wantErr: "malformed", wantCode: 1},
		{name: "datasets --db", issue: "9", args: []string{"datasets", "--db", "{db}"},
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				if !strings.Contains(stdout, "synthetic") {
					t.Errorf("datasets:\n%s", stdout)
				}
			}},
		{name: "version --db", issue: "9", args: []string{"version", "--db", "{db}"}},
		{name: "export to a closed stdout", issue: "9", out: stdoutClosed, args: []string{"export", "--json", "--db", "{db}"},
			wantErr: "export: write standard output: it was closed", wantCode: 1},
		{name: "export to a pipe nobody reads", issue: "9", out: stdoutDeadPipe, args: []string{"export", "--json", "--db", "{db}"},
			wantErr: "broken pipe", wantCode: 1},
		{name: "runs to a closed stdout", issue: "9", out: stdoutClosed, args: []string{"runs", "--db", "{db}"},
			wantErr: "runs: output lost", wantCode: 1},
		{name: "table to a pipe nobody reads", issue: "9", out: stdoutDeadPipe, args: []string{"table", "table9", "--profile", "smoke", "--db", "{db}"},
			wantErr: "broken pipe", wantCode: 1},

		// Every flag validated (issue: what to build).
		{name: "version with an argument", issue: "flags", args: []string{"version", "extra"},
			wantErr: "version: unexpected argument", wantCode: 1},
		{name: "show 0", issue: "flags", args: []string{"show", "0", "--db", "{db}"},
			wantErr: "show: run id 0 is out of range (run ids start at 1)", wantCode: 1},
		{name: "resume -1", issue: "flags", args: []string{"resume", "--db", "{db}", "--", "-1"},
			wantErr: "resume: run id -1 is out of range", wantCode: 1},
		{name: "plot --gradcam -1", issue: "flags", args: []string{"plot", "table9", "--gradcam", "-1", "--db", "{db}"},
			wantErr: "plot: --gradcam -1 is out of range (allowed: 0 to 16", wantCode: 1},
		{name: "plot --format gif", issue: "flags", args: []string{"plot", "table9", "--format", "gif", "--db", "{db}"},
			wantErr: "plot: --format: unknown plot format", wantCode: 1},
		{name: "table --format xml", issue: "flags", args: []string{"table", "table9", "--format", "xml", "--db", "{db}"},
			wantErr: "table: --format: unknown table format", wantCode: 1},
		{name: "table --profile huge", issue: "flags", args: []string{"table", "table9", "--profile", "huge", "--db", "{db}"},
			wantErr: `table: --profile "huge": unknown profile (allowed: smoke, quick, paper)`, wantCode: 1},
		{name: "reproduce --experiments empty", issue: "flags", args: []string{"reproduce", "--experiments", "", "--db", "{db}"},
			wantErr: "reproduce: --experiments is empty", wantCode: 1},
		{name: "run --dataset blank", issue: "flags", args: []string{"run", "table9", "--dataset", " ", "--db", "{db}"},
			wantErr: "run: --dataset is blank", wantCode: 1},
		{name: "export --status bogus", issue: "flags", args: []string{"export", "--status", "bogus", "--db", "{db}"},
			wantErr: "export: --status: unknown run status", wantCode: 1},

		// What still works on the seeded store.
		{name: "runs", issue: "ok", args: []string{"runs", "--db", "{db}"},
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				if n := seedRuns(t); !strings.Contains(stdout, fmt.Sprintf("%d run(s): %d finished", n, n)) {
					t.Errorf("runs:\n%s", stdout)
				}
			}},
		{name: "table", issue: "ok", args: []string{"table", "table9", "--profile", "smoke", "--format", "md", "--db", "{db}"}},
		{name: "plot", issue: "ok", args: []string{"plot", "table9", "--profile", "smoke", "--gradcam", "0", "--format", "svg", "--out", "{dir}/plots", "--db", "{db}"},
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				if !strings.Contains(stdout, "wrote ") {
					t.Errorf("plot wrote nothing:\n%s", stdout)
				}
				noTempFiles(t, filepath.Join(e.dir, "plots"))
			}},
		{name: "run reuses with --yes", issue: "ok", mutates: true, args: []string{"run", "table9", "--profile", "smoke", "--seeds", "1", "--yes", "--db", "{db}"},
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				if !strings.Contains(stdout, fmt.Sprintf("trained 0 run(s), %d reused", seedRuns(t))) {
					t.Errorf("run:\n%s", stdout)
				}
			}},

		// Issue 13: run management and filters. A refused rm leaves every
		// run and checkpoint; a filter with a typo is an error, not 0 rows.
		{name: "rm an unknown run", issue: "13", args: []string{"rm", "999", "--db", "{db}"},
			wantErr: "rm: no run 999 in", wantCode: 1, check: allRunsKept},
		{name: "rm a running run", issue: "13", mutates: true, setup: leaseRun1, args: []string{"rm", "1", "--yes", "--db", "{db}"},
			wantErr: "rm: run 1 (table9 / ", wantCode: 1,
			check: func(t *testing.T, e *relEnv, stdout, stderr string) {
				if !strings.Contains(stderr, "is running (pid 4242 on other-host): wait for it to end or stop it first; nothing removed") {
					t.Errorf("stderr: %s", stderr)
				}
				allRunsKept(t, e, stdout, stderr)
			}},
		{name: "rm two runs without --yes", issue: "13", args: []string{"rm", "1-2", "--db", "{db}"},
			wantErr: "rm: 2 runs to remove (1, 2): pass --yes to confirm; nothing removed", wantCode: 1, check: allRunsKept},
		{name: "rm a range that runs backwards", issue: "13", args: []string{"rm", "5-1", "--db", "{db}"},
			wantErr: `rm: "5-1" is not a range of run ids`, wantCode: 1},
		{name: "archive a running run", issue: "13", mutates: true, setup: leaseRun1, args: []string{"archive", "1", "--db", "{db}"},
			wantErr: "is running (pid 4242 on other-host): wait for it to end or stop it first; nothing archived", wantCode: 1},
		{name: "tag an unknown run", issue: "13", args: []string{"tag", "999", "x", "--db", "{db}"},
			wantErr: "tag: no run 999 in", wantCode: 1},
		{name: "tag with a space", issue: "13", args: []string{"tag", "1", "two words", "--db", "{db}"},
			wantErr: `tag: tag "two words" has ' ': a tag is one word`, wantCode: 1},
		{name: "note an unknown run", issue: "13", args: []string{"note", "999", "text", "--db", "{db}"},
			wantErr: "note: no run 999 in", wantCode: 1},
		{name: "diff an unknown run", issue: "13", args: []string{"diff", "1", "999", "--db", "{db}"},
			wantErr: "diff: no run 999 in", wantCode: 1},
		{name: "diff one run", issue: "13", args: []string{"diff", "1", "--db", "{db}"},
			wantErr: "diff: name two or more runs", wantCode: 1},
		{name: "runs --where with a typo", issue: "13", args: []string{"runs", "--where", "temprature=4", "--db", "{db}"},
			wantErr: `runs: --where: "temprature=4": unknown field "temprature" (did you mean temperature?)`, wantCode: 1},
		{name: "runs --param with a typo", issue: "13", args: []string{"runs", "--param", "temprature=4", "--db", "{db}"},
			wantErr: `runs: --param temprature=4: unknown param "temprature" (did you mean temperature?)`, wantCode: 1},
		{name: "runs --where a word for a number", issue: "13", args: []string{"runs", "--where", "acc.S4>high", "--db", "{db}"},
			wantErr: `acc.S4 compares numbers; "high" is not one`, wantCode: 1},
		{name: "runs --where an unknown status", issue: "13", args: []string{"runs", "--where", "status:finised", "--db", "{db}"},
			wantErr: `unknown status "finised" (did you mean finished?)`, wantCode: 1},
		{name: "runs --where", issue: "ok", args: []string{"runs", "--where", "status:finished steps>=2", "--db", "{db}"},
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				if !strings.Contains(stdout, "filter: status = finished (run field) AND steps >= 2 (param)") {
					t.Errorf("runs --where:\n%s", stdout)
				}
			}},
		{name: "diff", issue: "ok", args: []string{"diff", "1", "2", "--db", "{db}"},
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				if !strings.Contains(stdout, "Params (") || !strings.Contains(stdout, "Metrics, final value @ step") {
					t.Errorf("diff:\n%s", stdout)
				}
			}},
		{name: "rm one run", issue: "ok", mutates: true, args: []string{"rm", "1", "--db", "{db}"},
			setup: func(t *testing.T, e *relEnv) {
				for _, id := range []string{"1", "2"} {
					if _, err := os.Stat(filepath.Join(e.dir, "runs.db.d", "ckpt", id+".ckpt")); err != nil {
						t.Fatalf("the seed has no checkpoint of run %s: %v", id, err)
					}
				}
			},
			check: func(t *testing.T, e *relEnv, stdout, _ string) {
				if n := relRunCount(t, e.db); n != seedRuns(t)-1 || !strings.Contains(stdout, "removed 1 run(s) and 1 file(s)") {
					t.Errorf("%d runs left:\n%s", n, stdout)
				}
				if _, err := os.Stat(filepath.Join(e.dir, "runs.db.d", "ckpt", "1.ckpt")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("run 1's checkpoint left: %v", err)
				}
				if _, err := os.Stat(filepath.Join(e.dir, "runs.db.d", "ckpt", "2.ckpt")); err != nil {
					t.Errorf("run 2's checkpoint removed: %v", err)
				}
			}},
	}
}

// leaseRun1 makes run 1 of a case's runs.db held by a worker's lease on
// another host, with a fresh heartbeat: nothing may archive or remove it.
func leaseRun1(t *testing.T, e *relEnv) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE runs SET status = 'running', owner = 'feedface/1', host = 'other-host', pid = 4242,
		heartbeat = ?, ended = NULL WHERE id = 1`, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
}

// relRunCount counts the runs in the file as it is on disk.
func relRunCount(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM runs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// allRunsKept checks that a refused command left every run and checkpoint.
func allRunsKept(t *testing.T, e *relEnv, _, _ string) {
	t.Helper()
	if n, want := relRunCount(t, e.db), seedRuns(t); n != want {
		t.Errorf("%d runs left, want %d", n, want)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "runs.db.d", "ckpt", "1.ckpt")); err != nil {
		t.Errorf("run 1's checkpoint: %v", err)
	}
}

// readOnlyDir moves the case's runs.db behind a read-only bind mount of its
// directory (root ignores permission bits; an ordinary user gets chmod
// 0555 instead). {out} stays writable.
func readOnlyDir(t *testing.T, e *relEnv) {
	if os.Geteuid() != 0 {
		os.Chmod(e.dir, 0o555)
		t.Cleanup(func() { os.Chmod(e.dir, 0o755) })
		return
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "--bind", e.dir, mnt).CombinedOutput(); err != nil {
		msg := "a read-only directory needs a bind mount: " + strings.TrimSpace(string(out))
		if os.Getenv("WORKBENCH_CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v\n%s", err, out)
	}
	e.db = filepath.Join(mnt, "runs.db")
}

// craftedRepo makes the case's directory a git repository whose
// core.fsmonitor command leaves a file behind (issue item 7).
func craftedRepo(t *testing.T, e *relEnv) {
	hook := filepath.Join(e.dir, "hook.sh")
	writeFile(t, hook, "#!/bin/sh\ntouch \""+filepath.Join(e.dir, "pwned")+"\"\n")
	os.Chmod(hook, 0o755)
	for _, args := range [][]string{{"init", "-q", "."}, {"add", "hook.sh"},
		{"-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "x"}, {"config", "core.fsmonitor", hook}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = e.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("git %v: %v\n%s", args, err, out)
		}
	}
}

func unpinnedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, runner.EnvCodeVersion+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// noTempFiles fails when atomicfile's temporary files are left in dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", filepath.Join(dir, e.Name()))
		}
	}
}

// expand replaces {db} and {dir} in an argument.
func (e *relEnv) expand(arg string) string {
	return strings.NewReplacer("{db}", e.db, "{dir}", e.dir, "{out}", e.out).Replace(arg)
}

// run runs the binary for case c and returns stdout, stderr, exit status.
func (e *relEnv) run(t *testing.T, c relCase) (string, string, int) {
	t.Helper()
	args := make([]string, len(c.args))
	for i, a := range c.args {
		args[i] = e.expand(a)
	}
	// sh caps the address space, and closes stdout when asked.
	script := `ulimit -v 6291456 2>/dev/null; exec "$0" "$@"`
	if c.out == stdoutClosed {
		script += " >&-"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, workbenchBinary(t)}, args...)...)
	cmd.Dir = repoRoot(t)
	if c.inDir {
		cmd.Dir = e.dir
	}
	cmd.Env = append(unpinnedEnv(), runner.EnvCodeVersion+"=e2e-test")
	if c.unpinned {
		cmd.Env = unpinnedEnv()
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if c.out == stdoutDeadPipe {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close() // nobody will read: every write gets EPIPE
		cmd.Stdout = w
		defer w.Close()
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("still running after 60 s; stderr:\n%s", errb.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// repeatedPrefix finds an error line that says the same prefix twice in a
// row ("run: run: …", "data set X: data set X: …") and returns it.
func repeatedPrefix(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		segs := strings.Split(line, ": ")
		for k := 1; k <= 3; k++ {
			for i := 0; i+2*k <= len(segs)-1; i++ { // the last segment is the message, not a prefix
				if slices.Equal(segs[i:i+k], segs[i+k:i+2*k]) {
					return line
				}
			}
		}
	}
	return ""
}

var crashRE = regexp.MustCompile(`(?m)^(panic: |fatal error: |SIGSEGV|goroutine \d+ \[)`)

func TestReliability(t *testing.T) {
	seed := seededDB(t)
	for _, c := range reliabilityCases() {
		t.Run(c.name, func(t *testing.T) {
			e := &relEnv{dir: t.TempDir(), out: t.TempDir()}
			e.db = filepath.Join(e.dir, "runs.db")
			if !c.noDB {
				copyTree(t, seed, e.dir)
			}
			if c.setup != nil {
				c.setup(t, e)
			}
			before := fileSHA(t, e.db)
			stdout, stderr, code := e.run(t, c)
			if m := crashRE.FindString(stderr); m != "" {
				t.Fatalf("[issue %s] crashed (exit %d):\n%s", c.issue, code, trimTail(stderr))
			}
			switch {
			case c.wantCode == anyFailure && code == 0:
				t.Errorf("[issue %s] exit 0, want a failure; stderr:\n%s", c.issue, trimTail(stderr))
			case c.wantCode != anyFailure && code != c.wantCode:
				t.Errorf("[issue %s] exit %d, want %d; stderr:\n%s", c.issue, code, c.wantCode, trimTail(stderr))
			}
			if c.wantErr != "" && !strings.Contains(stderr, c.wantErr) {
				t.Errorf("[issue %s] stderr lacks %q:\n%s", c.issue, c.wantErr, trimTail(stderr))
			}
			if line := repeatedPrefix(stderr); line != "" {
				t.Errorf("[issue %s] a prefix repeats: %s", c.issue, line)
			}
			if c.check != nil {
				c.check(t, e, stdout, stderr)
			}
			if c.noDB {
				return
			}
			if !c.mutates {
				if after := fileSHA(t, e.db); after != before {
					t.Errorf("[issue %s] runs.db changed (sha256 %.12s → %.12s)", c.issue, before, after)
				}
				if fi, err := os.Stat(e.db + "-wal"); err == nil && fi.Size() > 0 {
					t.Errorf("[issue %s] runs.db-wal left with %d bytes", c.issue, fi.Size())
				}
			}
			if !c.corrupt {
				if res := sqliteIntegrity(t, e.db); res != "ok" {
					t.Errorf("[issue %s] integrity_check: %s", c.issue, res)
				}
			}
		})
	}
}

func trimTail(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
