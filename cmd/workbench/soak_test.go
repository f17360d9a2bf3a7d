package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/fault"
	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

// soakSpec is a small study whose two runs take a few dozen batches each,
// long enough to be killed many times.
const soakSpec = `name = "soak"
title = "kill soak"
dataset = "synthetic:classes=4,train=16,test=8"
backbone = "resnet"
profile = "smoke"
seeds = [1, 2]
metrics = ["acc.S4"]

[base]
steps = 2
distill = "decision"
epochs = 40

[[variant]]
label = "two-step"
`

// faultBinary builds the workbench with fault points armed (see package
// fault): $WORKBENCH_FAULT kills it at a chosen point.
func faultBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "workbench-fault")
	if out, err := exec.Command("go", "build", "-tags", "faultinject", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags faultinject: %v\n%s", err, out)
	}
	return bin
}

// TestKillSoak kills `workbench run` with SIGKILL at random moments, at
// least once at each fault point (inside a metrics transaction, half-way
// through a checkpoint file, between the checkpoint file and the commit of
// its points, between that commit and the rename), runs the same command
// again after each kill, and checks that the finished runs have every
// metric point of an uninterrupted run exactly once and the same final
// weights, bit for bit.
func TestKillSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("kill soak: skipped with -short")
	}
	bin := faultBinary(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "soak.toml")
	if err := os.WriteFile(spec, []byte(soakSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	command := func(db, faults string) *exec.Cmd {
		cmd := exec.Command(bin, "run", spec, "--db", db, "--checkpoint-every", "1", "--jobs", "1")
		cmd.Env = append(os.Environ(), runner.EnvCodeVersion+"=soak", "WORKBENCH_FAULT="+faults)
		return cmd
	}

	ref := filepath.Join(dir, "ref.db")
	if out, err := command(ref, "").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	// Each round kills one fresh database's study until it finishes, then
	// compares it with the reference; rounds go on until there were
	// minKills kills, at least one at every fault point.
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("kill schedule seed %d", seed)
	points := []string{fault.MetricsBeforeCommit, fault.CheckpointHalfWritten, fault.CheckpointBeforeCommit, fault.CheckpointBeforeRename}
	const minKills = 24
	kills, byKind, attempt := 0, map[string]int{}, 0
	for round := 1; ; round++ {
		killed := filepath.Join(dir, fmt.Sprintf("killed-%d.db", round))
		for {
			attempt++
			if attempt > 300 {
				t.Fatalf("no end after %d attempts (%d kills)", attempt, kills)
			}
			var faults, kind string
			var after time.Duration
			if attempt%2 == 0 {
				p := points[(attempt/2)%len(points)]
				faults = fmt.Sprintf("%s:%d", p, 1+rng.IntN(4))
				kind = p
			} else {
				after = time.Duration(100+rng.IntN(1500)) * time.Millisecond
				kind = "timer"
			}
			cmd := command(killed, faults)
			out := &strings.Builder{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var timer *time.Timer
			if after > 0 {
				timer = time.AfterFunc(after, func() { cmd.Process.Signal(syscall.SIGKILL) })
			}
			err := cmd.Wait()
			if timer != nil {
				timer.Stop()
			}
			var ee *exec.ExitError
			if err == nil {
				break // the study finished
			}
			if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("attempt %d (%s): %v\n%s", attempt, kind, err, out)
			}
			kills++
			byKind[kind]++
		}
		compareRuns(t, ref, killed)
		if kills >= minKills && len(missingKinds(byKind, points)) == 0 {
			break
		}
	}
	t.Logf("%d kills: %v", kills, byKind)
}

func missingKinds(byKind map[string]int, points []string) []string {
	var out []string
	for _, p := range points {
		if byKind[p] == 0 {
			out = append(out, p)
		}
	}
	return out
}

// compareRuns checks that every run of the killed database has the same
// metric points (run, key, step) as the uninterrupted one, each once, the
// same summaries, and the same final weights.
func compareRuns(t *testing.T, refPath, killedPath string) {
	t.Helper()
	ctx := context.Background()
	open := func(p string) *store.Store {
		st, err := store.OpenWith(p, store.Options{NoRecover: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if ok, err := st.IntegrityCheck(ctx); err != nil || ok != "ok" {
			t.Fatalf("%s: integrity check %q, %v", p, ok, err)
		}
		return st
	}
	ref, killed := open(refPath), open(killedPath)
	refRuns, err := ref.Runs(ctx, store.RunFilter{Study: "soak"})
	if err != nil {
		t.Fatal(err)
	}
	killedRuns, err := killed.Runs(ctx, store.RunFilter{Study: "soak"})
	if err != nil {
		t.Fatal(err)
	}
	if len(refRuns) != 2 || len(killedRuns) != 2 {
		t.Fatalf("%d and %d runs, want 2 each", len(refRuns), len(killedRuns))
	}
	points, resumes := 0, 0
	for i := range refRuns {
		a, b := refRuns[i], killedRuns[i]
		if a.Seed != b.Seed || a.Status != store.Finished || b.Status != store.Finished {
			t.Fatalf("runs %+v / %+v: want both finished, same seed", a, b)
		}
		resumes += b.Attempts - 1
		sa, err := ref.Series(ctx, []int64{a.ID}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := killed.Series(ctx, []int64{b.ID}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		counts, err := killed.CountMetrics(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sa) != len(sb) {
			t.Fatalf("seed %d: %d metric keys, want %d", a.Seed, len(sb), len(sa))
		}
		rows := 0
		for k := range sa {
			stepsA, stepsB := steps(sa[k]), steps(sb[k])
			if sa[k].Key != sb[k].Key || !slices.Equal(stepsA, stepsB) {
				t.Errorf("seed %d %s: steps %v, want %v", a.Seed, sb[k].Key, stepsB, stepsA)
			}
			rows += len(stepsA)
		}
		if counts[b.ID] != rows {
			t.Errorf("seed %d: %d metric rows, want %d (each step once)", a.Seed, counts[b.ID], rows)
		}
		points += counts[b.ID]
		wa, err := train.CheckpointWeights(ref.CheckpointPath(a.ID))
		if err != nil {
			t.Fatal(err)
		}
		wb, err := train.CheckpointWeights(killed.CheckpointPath(b.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(wa) != len(wb) {
			t.Fatalf("seed %d: %d tensors, want %d", a.Seed, len(wb), len(wa))
		}
		for name, va := range wa {
			if !slices.Equal(va, wb[name]) {
				t.Errorf("seed %d: final %s differs from the uninterrupted run's", a.Seed, name)
			}
		}
		sums, err := killed.Summaries(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		refSums, err := ref.Summaries(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{train.KeyAccS3, train.KeyAccS4} {
			if sums[b.ID][k] != refSums[a.ID][k] {
				t.Errorf("seed %d %s = %v, want %v", a.Seed, k, sums[b.ID][k], refSums[a.ID][k])
			}
		}
	}
	t.Logf("%d metric points checked, %d resumes, no duplicates, no gaps", points, resumes)
}

func steps(s store.Series) []int {
	out := make([]int, len(s.Points))
	for i, p := range s.Points {
		out[i] = p.Step
	}
	return out
}
