package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/testenv"
)

// clusterSpec: 16 runs long enough (a few seconds each) to be stopped in
// the middle.
const clusterSpec = `name = "cluster"
dataset = "synthetic:classes=4,train=16,test=8"
backbone = "resnet"
profile = "smoke"
seeds = [1, 2, 3, 4, 5, 6, 7, 8]
metrics = ["acc.S4"]

[base]
epochs = 12

[[variant]]
label = "baseline"
steps = 0

[[variant]]
label = "two-step"
steps = 2
`

// TestSlurmStudy: a study of 16 runs submitted to the single-node Slurm
// with 4 workers, 2 at a time, finishes every run exactly once with no
// duplicate metric point, although one array task is cancelled (scancel)
// and one worker is killed with SIGKILL in the middle of runs: their runs
// are queued again and finished by other workers from their checkpoints.
func TestSlurmStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test: skipped with -short")
	}
	_, err := exec.LookPath("sbatch")
	testenv.Need(t, err == nil && os.Getenv("SLURM_CONF") != "", "no Slurm: sbatch on PATH and SLURM_CONF are needed"+testenv.ClusterHint)
	dbURL := testenv.PGSchema(t, "e2e_")
	dir := t.TempDir()
	spec := filepath.Join(dir, "cluster.toml")
	if err := os.WriteFile(spec, []byte(clusterSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(dir, "artifacts")
	out, errs := workbench(t, "submit", spec, "--db", dbURL, "--artifacts", art, "--slurm", "--workers", "4", "--parallel", "2",
		"--cpus-per-task", "1", "--idle-exit", "5s", "--grace", "15s", "--checkpoint-every", "2", "--yes")
	if !strings.Contains(out, "queued 16 run(s)") || !strings.Contains(out, "submitted Slurm job") {
		t.Fatalf("submit:\n%s%s", out, errs)
	}
	jobID := strings.Fields(out[strings.Index(out, "submitted Slurm job")+len("submitted Slurm job"):])[0]
	jobID = strings.TrimSuffix(jobID, ":")
	t.Cleanup(func() { exec.Command("scancel", jobID).Run() })

	st, err := store.OpenURL(dbURL, store.Options{Artifacts: art, NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	// running waits for a running run with a committed checkpoint, other
	// than skip, and returns it.
	running := func(skip int64) store.Run {
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			runs, err := st.Runs(ctx, store.RunFilter{Study: "cluster", Statuses: []store.Status{store.Running}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				if r.ID != skip && r.CheckpointStep > 0 && r.PID > 0 {
					return r
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal("no run reached a checkpoint within 3 minutes")
		return store.Run{}
	}

	// scancel the array task of one running run: its worker gets SIGTERM,
	// checkpoints and gives the run back.
	cancelled := running(0)
	task := slurmJobOf(t, cancelled.PID)
	if b, err := exec.Command("scancel", task).CombinedOutput(); err != nil {
		t.Fatalf("scancel %s: %v %s", task, err, b)
	}
	// SIGKILL the worker of another: its lease expires after the grace
	// period and another worker continues the run.
	killed := running(cancelled.ID)
	if err := syscall.Kill(killed.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", killed.PID, err)
	}
	t.Logf("scancel'd task %s (run %d), killed worker %d (run %d)", task, cancelled.ID, killed.PID, killed.ID)

	// Wait for the array to drain.
	deadline := time.Now().Add(8 * time.Minute)
	for {
		q, err := exec.Command("squeue", "-h", "-j", jobID).CombinedOutput()
		if err != nil && !strings.Contains(string(q), "Invalid job id") {
			t.Fatalf("squeue: %v %s", err, q)
		}
		if strings.TrimSpace(string(q)) == "" || strings.Contains(string(q), "Invalid job id") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job array did not finish in time:\n%s", q)
		}
		time.Sleep(500 * time.Millisecond)
	}

	runs, err := st.Runs(ctx, store.RunFilter{Study: "cluster"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 16 {
		t.Fatalf("%d runs, want 16", len(runs))
	}
	unfinished := ""
	for _, r := range runs {
		if r.Status != store.Finished {
			unfinished += fmt.Sprintf(" run %d %s (%s);", r.ID, r.Status, r.Error)
		}
	}
	if unfinished != "" {
		t.Fatalf("not finished:%s\n%s", unfinished, slurmLogs(art))
	}
	for _, id := range []int64{cancelled.ID, killed.ID} {
		r, _ := st.Run(ctx, id)
		if r.Attempts < 2 {
			t.Errorf("run %d finished after %d attempt(s); want it continued by another worker\n%s", id, r.Attempts, slurmLogs(art))
		}
	}
	// No duplicate (run, key, step), and every run's loss curve complete.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, distinct int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT (run_id, key, step)) FROM metrics`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != distinct || rows == 0 {
		t.Fatalf("%d metric rows, %d distinct (run, key, step)", rows, distinct)
	}
	var short int
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT run_id FROM metrics WHERE key = 'loss.ce4' GROUP BY run_id
		HAVING COUNT(*) <> MAX(step) / (SELECT MIN(step) FROM metrics m WHERE m.run_id = metrics.run_id AND m.key = 'loss.ce4')) x`).Scan(&short); err != nil {
		t.Fatal(err)
	}
	if short != 0 {
		t.Errorf("%d run(s) have gaps in their loss curve", short)
	}
	t.Logf("16 runs finished, %d metric points, none duplicated", rows)
}

// slurmJobOf is the array task (ARRAYJOB_TASK, as scancel takes it) a
// worker process runs in.
func slurmJobOf(t *testing.T, pid int) string {
	t.Helper()
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Fatalf("environment of worker %d: %v", pid, err)
	}
	vars := map[string]string{}
	for _, kv := range strings.Split(string(env), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	job, task := vars["SLURM_ARRAY_JOB_ID"], vars["SLURM_ARRAY_TASK_ID"]
	if job == "" || task == "" {
		t.Fatalf("worker %d is not in a Slurm array task", pid)
	}
	return job + "_" + task
}

// slurmLogs are the workers' outputs, for failure messages.
func slurmLogs(art string) string {
	logs, _ := filepath.Glob(filepath.Join(art, "slurm", "*.out"))
	var b strings.Builder
	for _, l := range logs {
		c, _ := os.ReadFile(l)
		fmt.Fprintf(&b, "== %s\n%s", l, c)
	}
	return b.String()
}

// TestPostgresSameTables: the same study trained on PostgreSQL and on
// SQLite gives the same tables (the trainer is deterministic; the stores
// must not change a number), and the read verbs work on a URL.
func TestPostgresSameTables(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a smoke study twice: skipped with -short")
	}
	pg := testenv.PGSchema(t, "e2e_")
	t.Setenv("WORKBENCH_ARTIFACTS", t.TempDir())
	lite := filepath.Join(t.TempDir(), "runs.db")
	for _, db := range []string{pg, lite} {
		workbench(t, "run", "table10", "--profile", "smoke", "--db", db, "--yes")
	}
	for _, format := range []string{"md", "csv"} {
		a, _ := workbench(t, "table", "table10", "--profile", "smoke", "--format", format, "--db", pg)
		b, _ := workbench(t, "table", "table10", "--profile", "smoke", "--format", format, "--db", lite)
		if a != b || !strings.Contains(a, "two-step") {
			t.Fatalf("table10 (%s) differs between PostgreSQL and SQLite:\n%s\n---\n%s", format, a, b)
		}
	}
	list, _ := workbench(t, "runs", "--db", pg)
	if n := strings.Count(list, " finished "); n != 9 {
		t.Fatalf("runs on PostgreSQL lists %d finished runs, want 9:\n%s", n, list)
	}
	if _, errs := workbench(t, "show", "1", "--db", pg); errs != "" {
		t.Fatalf("show on PostgreSQL: %s", errs)
	}
}
