package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

var bg = context.Background()

// fakeTrainer stands in for train.Run: it "trains" Batches batches, logs an
// event per batch, checkpoints the batch number, honours cancellation, and
// behaves as the config's Mode says: "" trains, "fail" errors, "diverge"
// returns a DivergedError at batch 2, "panic" panics, "block" stops after
// batch 2 until cancelled.
type fakeTrainer struct {
	Batches int

	mu      sync.Mutex
	calls   []fakeCall
	blocked chan struct{} // receives when a "block" run is waiting
}

type fakeCall struct {
	seed      int64
	resume    bool
	fromBatch int
}

func newFake() *fakeTrainer {
	return &fakeTrainer{Batches: 5, blocked: make(chan struct{}, 16)}
}

func (f *fakeTrainer) train(ctx context.Context, cfg train.Config, opts train.Options) (train.Result, error) {
	from := 0
	if opts.Resume {
		b, err := os.ReadFile(opts.CheckpointPath)
		if err != nil {
			return train.Result{}, fmt.Errorf("resume: %w", err)
		}
		from, _ = strconv.Atoi(string(b))
	}
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{seed: cfg.Seed, resume: opts.Resume, fromBatch: from})
	f.mu.Unlock()
	checkpoint := func(batch int) error {
		return os.WriteFile(opts.CheckpointPath, []byte(strconv.Itoa(batch)), 0o644)
	}
	for b := from + 1; b <= f.Batches; b++ {
		if ctx.Err() != nil {
			if err := checkpoint(b - 1); err != nil {
				return train.Result{}, err
			}
			return train.Result{}, fmt.Errorf("train %s: %w", cfg.Mode, train.ErrInterrupted)
		}
		opts.Logger.Step(train.StepEvent{Step: 2 * b, Batch: b, TotalBatches: f.Batches, Epoch: 1, LR: 0.01,
			Losses: map[string]float64{train.KeyLossCE4: 1 / float64(b), train.KeyLossKD: 0.5}, ImagesPerSec: 100})
		switch {
		case cfg.Mode == "diverge" && b == 2:
			return train.Result{}, &train.DivergedError{Step: 2 * b, Loss: train.KeyLossKD}
		case cfg.Mode == "fail" && b == 2:
			return train.Result{}, errors.New("data set synthetic: out of memory")
		case cfg.Mode == "panic" && b == 2:
			panic("index out of range [7] with length 7")
		case cfg.Mode == "block" && b == 2:
			f.blocked <- struct{}{}
			<-ctx.Done()
		}
	}
	opts.Logger.Epoch(train.EpochEvent{Epoch: 1, Step: 2 * f.Batches, Metrics: map[string]float64{train.KeyAccS4: 50 + float64(cfg.Seed)}})
	if err := checkpoint(f.Batches); err != nil {
		return train.Result{}, err
	}
	return train.Result{Steps: 2 * f.Batches, Summaries: map[string]float64{train.KeyAccS4: 50 + float64(cfg.Seed), train.KeyAccS3: 40}}, nil
}

func (f *fakeTrainer) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var testProv = store.Provenance{Host: "testhost", PID: os.Getpid(), GoVersion: "go-test", GitCommit: "c0ffee", CodeVersion: "c0ffee"}

func newRunner(t *testing.T, ctx context.Context, st *store.Store, f *fakeTrainer, jobs int, out *bytes.Buffer) *Runner {
	t.Helper()
	prov := testProv
	opt := Options{Jobs: jobs, Train: f.train, Provenance: &prov, Heartbeat: 10 * time.Millisecond,
		Writer: store.WriterOptions{Interval: 10 * time.Millisecond}}
	if out != nil {
		opt.Progress = &syncBuffer{b: out}
	}
	r, err := New(ctx, st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// syncBuffer lets the display goroutine and the test share a buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// jobs builds a study's jobs: each mode is a variant, run over the seeds.
func jobs(study string, seeds []int64, modes ...string) []Job {
	var out []Job
	for _, m := range modes {
		for _, seed := range seeds {
			cfg := train.DefaultConfig()
			cfg.Mode, cfg.Seed, cfg.Epochs = m, seed, 1
			label := m
			if label == "" {
				label = "ok"
			}
			out = append(out, Job{Study: study, Variant: label, Seed: seed, Profile: "smoke", Config: cfg,
				Hash: fmt.Sprintf("hash-%s-%d", m, seed), Params: map[string]string{"mode": m},
				DataFingerprint: "fp", CodeVersion: "c0ffee"})
		}
	}
	return out
}

func studyRec(name string) store.Study {
	return store.Study{Name: name, Title: "Test " + name, Spec: "name = \"" + name + "\"", SpecHash: "h-" + name}
}

func statuses(t *testing.T, st *store.Store, f store.RunFilter) map[int64]store.Run {
	t.Helper()
	runs, err := st.Runs(bg, f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.Run{}
	for _, r := range runs {
		out[r.ID] = r
	}
	return out
}

func TestTrainThenReuse(t *testing.T) {
	st := openStore(t)
	f := newFake()
	var out bytes.Buffer
	r := newRunner(t, bg, st, f, 1, &out)
	plan, err := r.Submit(bg, studyRec("table9"), jobs("table9", []int64{1, 2}, "", "sync"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Queued) != 4 || plan.Train() != 4 || len(plan.Reused) != 0 {
		t.Fatalf("first plan %+v", plan)
	}
	r.Wait()
	outcomes, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != 4 {
		t.Fatalf("outcomes %+v", outcomes)
	}
	for _, run := range statuses(t, st, store.RunFilter{Study: "table9"}) {
		if run.Status != store.Finished || run.Attempts != 1 || run.Host != "testhost" || run.GitCommit != "c0ffee" ||
			run.DatasetFingerprint != "fp" || run.Dataset != "synthetic" || run.Progress.Batch != 5 || run.Progress.Latest[train.KeyAccS4] == 0 {
			t.Fatalf("run after training: %+v", run)
		}
		sums, _ := st.Summaries(bg, run.ID)
		if sums[run.ID][train.KeyAccS4] != 50+float64(run.Seed) {
			t.Fatalf("run %d summaries %v", run.ID, sums)
		}
		params, _ := st.Params(bg, run.ID)
		if params[run.ID]["profile"] != "smoke" {
			t.Fatalf("run %d params %v", run.ID, params)
		}
		series, err := st.Series(bg, []int64{run.ID}, []string{train.KeyLossCE4, train.KeyAccS4, train.KeyLR}, 0)
		if err != nil || len(series) != 3 || len(series[2].Points) != 5 {
			t.Fatalf("run %d metrics %+v, %v", run.ID, series, err)
		}
		arts, _ := st.Artifacts(bg, run.ID)
		if len(arts) != 1 || arts[0].Kind != store.ArtifactCheckpoint || arts[0].Path != st.CheckpointPath(run.ID) {
			t.Fatalf("run %d artifacts %+v", run.ID, arts)
		}
	}
	for _, want := range []string{"table9: 4 runs: 4 to train", "run 1 started", "run 4 finished", "acc.S4 52.0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress output lacks %q:\n%s", want, out.String())
		}
	}

	// The same jobs again: every run is reused, nothing is trained.
	r2 := newRunner(t, bg, st, f, 1, nil)
	plan, err = r2.Submit(bg, studyRec("table9"), jobs("table9", []int64{1, 2}, "", "sync"), false)
	if err != nil {
		t.Fatal(err)
	}
	r2.Wait()
	r2.Close()
	if plan.Train() != 0 || len(plan.Reused) != 4 || f.callCount() != 4 {
		t.Fatalf("second plan %+v, %d trainer calls", plan, f.callCount())
	}

	// Another study asking for an identical run reuses it under its own label.
	r3 := newRunner(t, bg, st, f, 1, nil)
	other := jobs("table10", []int64{1}, "sync")
	other[0].Variant = "two-step"
	plan, err = r3.Submit(bg, studyRec("table10"), other, false)
	if err != nil {
		t.Fatal(err)
	}
	r3.Wait()
	r3.Close()
	if len(plan.Reused) != 1 {
		t.Fatalf("cross-study plan %+v", plan)
	}
	runs, _ := st.Runs(bg, store.RunFilter{Study: "table10"})
	if len(runs) != 1 || runs[0].Variant != "two-step" || runs[0].ID != plan.Reused[0] {
		t.Fatalf("table10 runs %+v", runs)
	}

	// --force trains them again as new runs.
	r4 := newRunner(t, bg, st, f, 2, nil)
	plan, err = r4.Submit(bg, studyRec("table9"), jobs("table9", []int64{1}, ""), true)
	if err != nil {
		t.Fatal(err)
	}
	r4.Wait()
	r4.Close()
	if len(plan.Queued) != 1 || plan.Queued[0] <= 4 || f.callCount() != 5 {
		t.Fatalf("forced plan %+v, %d trainer calls", plan, f.callCount())
	}
}

func TestDuplicateJobsTrainOnce(t *testing.T) {
	st := openStore(t)
	f := newFake()
	r := newRunner(t, bg, st, f, 2, nil)
	js := jobs("fig3", []int64{1}, "", "")
	js[1].Variant = "same-config"
	plan, err := r.Submit(bg, studyRec("fig3"), js, false)
	if err != nil {
		t.Fatal(err)
	}
	r.Wait()
	r.Close()
	if len(plan.Queued) != 1 || len(plan.Reused) != 1 || f.callCount() != 1 {
		t.Fatalf("plan %+v, %d calls", plan, f.callCount())
	}
	runs, _ := st.Runs(bg, store.RunFilter{Study: "fig3"})
	if len(runs) != 2 || runs[0].ID != runs[1].ID {
		t.Fatalf("both labels should share one run: %+v", runs)
	}
}

func TestEndStatuses(t *testing.T) {
	st := openStore(t)
	f := newFake()
	var out bytes.Buffer
	r := newRunner(t, bg, st, f, 2, &out)
	if _, err := r.Submit(bg, studyRec("s"), jobs("s", []int64{1}, "", "fail", "diverge", "panic"), false); err != nil {
		t.Fatal(err)
	}
	r.Wait()
	outcomes, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.Run{}
	for _, run := range statuses(t, st, store.RunFilter{}) {
		got[run.Variant] = run
	}
	tests := []struct {
		variant string
		status  store.Status
		errLike string
	}{
		{"ok", store.Finished, ""},
		{"fail", store.Failed, "out of memory"},
		{"diverge", store.Diverged, "loss.kd is not finite at step 4"},
		{"panic", store.Failed, "panic: index out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.variant, func(t *testing.T) {
			run := got[tt.variant]
			if run.Status != tt.status || !strings.Contains(run.Error, tt.errLike) || run.Ended.IsZero() {
				t.Fatalf("run %+v: want %s with error like %q", run, tt.status, tt.errLike)
			}
			if tt.status == store.Diverged && run.DivergedStep != 4 {
				t.Fatalf("diverged at step %d, want 4", run.DivergedStep)
			}
		})
	}
	if len(outcomes) != 4 {
		t.Fatalf("outcomes %+v", outcomes)
	}
	if !strings.Contains(out.String(), "run 3 diverged") || !strings.Contains(out.String(), "run 2 failed") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// TestInterruptThenResume: cancelling the context (SIGINT) interrupts the
// running run, which checkpoints, and marks the queued one interrupted;
// Resume continues the first from its checkpoint and starts the second.
func TestInterruptThenResume(t *testing.T) {
	st := openStore(t)
	f := newFake()
	ctx, cancel := context.WithCancel(bg)
	var out bytes.Buffer
	r := newRunner(t, ctx, st, f, 1, &out)
	if _, err := r.Submit(ctx, studyRec("s"), jobs("s", []int64{1, 2}, "block"), false); err != nil {
		t.Fatal(err)
	}
	<-f.blocked // run 1 is at batch 2
	// The heartbeat carries its progress into the store.
	deadline := time.Now().Add(5 * time.Second)
	for {
		live, err := st.Live(bg, store.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(live) == 2 && live[0].Status == store.Running && live[0].Progress.Batch == 2 && live[0].Progress.Latest[train.KeyLossKD] == 0.5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress heartbeat: %+v", live)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	r.Wait()
	if _, err := r.Close(); err != nil {
		t.Fatal(err)
	}
	runs := statuses(t, st, store.RunFilter{})
	if runs[1].Status != store.Interrupted || runs[2].Status != store.Interrupted || !strings.Contains(runs[2].Error, "before it started") {
		t.Fatalf("after interrupt: %+v / %+v", runs[1], runs[2])
	}
	if arts, _ := st.Artifacts(bg, 1); len(arts) != 1 {
		t.Fatalf("interrupted run's checkpoint not recorded: %+v", arts)
	}
	if !strings.Contains(out.String(), "workbench resume") {
		t.Fatalf("output does not say how to continue:\n%s", out.String())
	}

	// Resume both; make them train to the end this time.
	f2 := newFake()
	resumeJobs := func(ctx context.Context, cfg train.Config, opts train.Options) (train.Result, error) {
		cfg.Mode = ""
		return f2.train(ctx, cfg, opts)
	}
	prov := testProv
	r2, err := New(bg, st, Options{Jobs: 1, Train: resumeJobs, Provenance: &prov})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := r2.Resume(bg)
	if err != nil {
		t.Fatal(err)
	}
	r2.Wait()
	r2.Close()
	if len(plan.Resumed) != 2 {
		t.Fatalf("resume plan %+v", plan)
	}
	if len(f2.calls) != 2 || !f2.calls[0].resume || f2.calls[0].fromBatch != 2 || f2.calls[1].resume {
		t.Fatalf("resumed calls %+v: want run 1 from its checkpoint at batch 2, run 2 from the start", f2.calls)
	}
	runs = statuses(t, st, store.RunFilter{})
	if runs[1].Status != store.Finished || runs[1].Attempts != 2 || runs[2].Status != store.Finished {
		t.Fatalf("after resume: %+v / %+v", runs[1], runs[2])
	}
	// Resuming a finished run is refused with a hint.
	r3, _ := New(bg, st, Options{Jobs: 1, Train: f2.train, Provenance: &prov})
	defer r3.Close()
	if _, err := r3.Resume(bg, 1); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("resume of a finished run: %v", err)
	}
	if _, err := r3.Resume(bg, 99); err == nil {
		t.Fatal("resume of a missing run succeeded")
	}
}

// TestSubmitContinuesInterrupted: running a study again continues its
// interrupted runs instead of starting new ones.
func TestSubmitContinuesInterrupted(t *testing.T) {
	st := openStore(t)
	f := newFake()
	ctx, cancel := context.WithCancel(bg)
	r := newRunner(t, ctx, st, f, 1, nil)
	if _, err := r.Submit(ctx, studyRec("s"), jobs("s", []int64{1}, "block"), false); err != nil {
		t.Fatal(err)
	}
	<-f.blocked
	cancel()
	r.Wait()
	r.Close()

	unblock := func(ctx context.Context, cfg train.Config, opts train.Options) (train.Result, error) {
		cfg.Mode = ""
		return f.train(ctx, cfg, opts)
	}
	prov := testProv
	r2, _ := New(bg, st, Options{Jobs: 1, Train: unblock, Provenance: &prov})
	plan, err := r2.Submit(bg, studyRec("s"), jobs("s", []int64{1}, "block"), false)
	if err != nil {
		t.Fatal(err)
	}
	r2.Wait()
	r2.Close()
	if len(plan.Resumed) != 1 || plan.Resumed[0] != 1 || len(plan.Queued) != 0 {
		t.Fatalf("plan %+v", plan)
	}
	if run, _ := st.Run(bg, 1); run.Status != store.Finished {
		t.Fatalf("run 1 is %s", run.Status)
	}
}

func TestCancel(t *testing.T) {
	st := openStore(t)
	f := newFake()
	r := newRunner(t, bg, st, f, 1, nil)
	if _, err := r.Submit(bg, studyRec("s"), jobs("s", []int64{1, 2, 3}, "block"), false); err != nil {
		t.Fatal(err)
	}
	<-f.blocked // run 1 runs, 2 and 3 wait
	if r.Active() != 3 {
		t.Fatalf("active %d, want 3", r.Active())
	}
	if err := r.Cancel(2); err != nil {
		t.Fatal(err)
	}
	if err := r.Cancel(1); err != nil {
		t.Fatal(err)
	}
	<-f.blocked // run 3 started after 1 stopped
	if err := r.Cancel(3); err != nil {
		t.Fatal(err)
	}
	r.Wait()
	r.Close()
	if err := r.Cancel(1); err == nil {
		t.Fatal("cancel of an ended run succeeded")
	}
	runs := statuses(t, st, store.RunFilter{})
	for id := int64(1); id <= 3; id++ {
		if runs[id].Status != store.Interrupted {
			t.Fatalf("run %d is %s, want interrupted", id, runs[id].Status)
		}
	}
	if !strings.Contains(runs[2].Error, "cancelled before it started") {
		t.Fatalf("run 2 error %q", runs[2].Error)
	}
	if f.callCount() != 2 {
		t.Fatalf("%d trainer calls, want 2 (the cancelled queued run never starts)", f.callCount())
	}
}

func TestParallelWorkers(t *testing.T) {
	st := openStore(t)
	f := newFake()
	var mu sync.Mutex
	running, most := 0, 0
	slow := func(ctx context.Context, cfg train.Config, opts train.Options) (train.Result, error) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		return f.train(ctx, cfg, opts)
	}
	prov := testProv
	r, _ := New(bg, st, Options{Jobs: 2, Train: slow, Provenance: &prov})
	if _, err := r.Submit(bg, studyRec("s"), jobs("s", []int64{1, 2, 3, 4}, ""), false); err != nil {
		t.Fatal(err)
	}
	r.Wait()
	r.Close()
	if most != 2 {
		t.Fatalf("at most %d runs at once, want 2", most)
	}
	if DefaultJobs() < 1 {
		t.Fatal("DefaultJobs < 1")
	}
}

func TestNewNeedsStore(t *testing.T) {
	if _, err := New(bg, nil, Options{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}
