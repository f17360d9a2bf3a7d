package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
)

// The end-to-end tests build the workbench binary once and run it as a
// user would, from the repository root, on a runs.db in a temporary
// directory.

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryOut  []byte
)

// workbenchBinary builds cmd/workbench into a temporary directory.
func workbenchBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		// Replaying the tests against another build (an older commit, say)
		// shows which cases it fails.
		if p := os.Getenv("WORKBENCH_TEST_BINARY"); p != "" {
			binaryPath = p
			return
		}
		dir, err := os.MkdirTemp("", "workbench-e2e-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "workbench")
		cmd := exec.Command("go", "build", "-o", binaryPath, ".")
		binaryOut, binaryErr = cmd.CombinedOutput()
	})
	if binaryErr != nil {
		t.Fatalf("go build: %v\n%s", binaryErr, binaryOut)
	}
	return binaryPath
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// workbenchCmd prepares the binary with args, run in the repository root.
// The code version is pinned: other work on the training packages between
// two invocations must not change the config hashes under the test.
func workbenchCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(workbenchBinary(t), args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), runner.EnvCodeVersion+"=e2e-test")
	return cmd
}

// workbench runs the binary to the end and returns stdout and stderr.
func workbench(t *testing.T, args ...string) (string, string) {
	t.Helper()
	cmd := workbenchCmd(t, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("workbench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// TestRunTable9SmokeTwice: the shipped table9 study completes at the smoke
// profile, and running it again reuses every run.
func TestRunTable9SmokeTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "runs.db")
	out, _ := workbench(t, "run", "experiments/table9.toml", "--profile", "smoke", "--db", db)
	m := regexp.MustCompile(`(?m)^trained (\d+) run\(s\), 0 reused$`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatalf("first run did not train the study:\n%s", out)
	}
	trained := m[1]
	for _, want := range []string{"table9: ", "started: table9/baseline seed 1", "finished in"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _ = workbench(t, "run", "experiments/table9.toml", "--profile", "smoke", "--db", db)
	if !strings.Contains(out, "trained 0 run(s), "+trained+" reused") || strings.Contains(out, "started:") {
		t.Fatalf("second run trained again (want 0 trained, %s reused):\n%s", trained, out)
	}

	st, err := store.OpenWith(db, store.Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), store.RunFilter{Study: "table9"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(runs); n == 0 || trained != strconv.Itoa(n) {
		t.Fatalf("%d runs recorded for table9, %s trained", n, trained)
	}
	for _, r := range runs {
		if r.Status != store.Finished || r.CodeVersion != "e2e-test" || r.GoVersion == "" || r.Host == "" || r.DatasetFingerprint == "" {
			t.Fatalf("run %+v", r)
		}
	}
}

// longSpec trains long enough (tens of batches) to be killed midway.
const longSpec = `name = "long"
title = "A run long enough to be killed"
dataset = "synthetic"
seeds = [1]
metrics = ["acc.S4"]

[base]
steps = 2
epochs = 60
eval_every = 20
log_every = 1

[[variant]]
label = "two-step"
`

// TestKillMidRun kills the workbench with SIGKILL while it trains: the
// database stays readable with every metric point committed before the
// kill, the next workbench command marks the run interrupted, and resume
// finishes it from its checkpoint.
func TestKillMidRun(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "long.toml")
	if err := os.WriteFile(spec, []byte(longSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "runs.db")
	cmd := workbenchCmd(t, "run", spec, "--profile", "smoke", "--db", db, "--checkpoint-every", "5")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	exited := start(t, cmd)
	// Wait until the run has committed a good number of metric points.
	seen := waitForPoints(t, db, 40, exited, &out)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited

	// Readable, intact, every point seen before the kill still there, the
	// run still marked running (nobody has looked yet).
	st, err := store.OpenWith(db, store.Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.Run(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if run.Status != store.Running {
		t.Fatalf("after SIGKILL the run is %s, want still running\n%s", run.Status, out.String())
	}
	if n := countPoints(t, db); n < seen {
		t.Fatalf("%d metric points after the kill, %d were committed before it", n, seen)
	}
	if ok := integrityCheck(t, db); ok != "ok" {
		t.Fatalf("integrity_check: %s", ok)
	}

	// A read verb finds the dead run and says so, without writing runs.db.
	listing, errs := workbench(t, "runs", "--db", db)
	if !strings.Contains(errs, "run(s) 1 look abandoned") || !regexp.MustCompile(`(?m)^1\s+running\s+long`).MatchString(listing) {
		t.Fatalf("runs after the kill:\nstdout:\n%s\nstderr:\n%s", listing, errs)
	}
	// A write verb marks it interrupted; resume continues from the
	// checkpoint written before the kill.
	resumed, errs := workbench(t, "resume", "--db", db)
	if !strings.Contains(errs, "marked 1 run(s) interrupted whose workbench process is gone: 1") {
		t.Fatalf("resume did not mark the dead run:\n%s", errs)
	}
	if !strings.Contains(resumed, "run 1 resumed from its checkpoint") || !strings.Contains(resumed, "trained 1 run(s)") {
		t.Fatalf("resume:\n%s", resumed)
	}
	shown, _ := workbench(t, "show", "1", "--db", db)
	for _, want := range []string{`(?m)^Status\s+finished \(2 attempts\)$`, `(?m)^\s+acc\.S4\s+\d`, `(?m)^\s+checkpoint\s+1\.ckpt\s+\S+runs\.db\.d/ckpt/1\.ckpt \(\d+ bytes\)$`} {
		if !regexp.MustCompile(want).MatchString(shown) {
			t.Errorf("show does not match %s:\n%s", want, shown)
		}
	}
	if n := countPoints(t, db); n <= seen {
		t.Fatalf("resume logged no new points (%d, %d before)", n, seen)
	}
}

// start starts cmd and returns a channel that yields its exit; the
// process is killed when the test ends early.
func start(t *testing.T, cmd *exec.Cmd) <-chan error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	return exited
}

// waitForPoints waits until run 1 has committed at least n metric points
// and returns how many it has; it fails when the process exits first.
func waitForPoints(t *testing.T, db string, n int, exited <-chan error, out *lockedBuffer) int {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if seen := countPoints(t, db); seen >= n {
			return seen
		}
		select {
		case err := <-exited:
			t.Fatalf("workbench exited (%v) before run 1 logged %d points:\n%s", err, n, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("run 1 logged fewer than %d points in 90 s:\n%s", n, out.String())
		}
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// countPoints counts the committed metric points, as a reader beside the
// writer sees them.
func countPoints(t *testing.T, db string) int {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		return 0
	}
	st, err := store.OpenWith(db, store.Options{NoRecover: true})
	if err != nil {
		t.Fatalf("open beside the writer: %v", err)
	}
	defer st.Close()
	counts, err := st.CountMetrics(context.Background(), 1)
	if err != nil {
		t.Fatalf("read beside the writer: %v", err)
	}
	return counts[1]
}

func integrityCheck(t *testing.T, db string) string {
	t.Helper()
	st, err := store.OpenWith(db, store.Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.IntegrityCheck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestInterruptSignal: SIGINT makes the running run checkpoint and end
// interrupted, the command exits with an error saying how to continue.
func TestInterruptSignal(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "long.toml")
	if err := os.WriteFile(spec, []byte(longSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "runs.db")
	cmd := workbenchCmd(t, "run", spec, "--profile", "smoke", "--seeds", "1,2", "--jobs", "1", "--db", db, "--checkpoint-every", "0")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	exited := start(t, cmd)
	waitForPoints(t, db, 20, exited, &out)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err == nil {
			t.Fatalf("an interrupted run exited 0\n%s", out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no exit within 60 s of SIGINT\n%s", out.String())
	}
	for _, want := range []string{"run 1 interrupted", "2 run(s) interrupted: continue them with workbench resume"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	st, err := store.OpenWith(db, store.Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for id, why := range map[int64]string{1: "interrupted", 2: "stopped before it started"} {
		run, err := st.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != store.Interrupted || !strings.Contains(run.Error, why) {
			t.Errorf("run %d: %s, %q; want interrupted (%s)", id, run.Status, run.Error, why)
		}
	}
	arts, err := st.Artifacts(ctx, 1)
	if err != nil || len(arts) != 1 || arts[0].Kind != store.ArtifactCheckpoint {
		t.Fatalf("checkpoint of the interrupted run: %+v, %v", arts, err)
	}
	if _, err := os.Stat(arts[0].Path); err != nil {
		t.Fatalf("checkpoint file: %v", err)
	}
}
