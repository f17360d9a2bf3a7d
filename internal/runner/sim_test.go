package runner

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/testenv"
	"github.com/mksmt/workbench/internal/train"
)

// streamTrainer trains nothing but emits what the real trainer emits for a
// quick-profile run: Epochs × Batches steps, each logging four losses, the
// learning rate and the speed; per epoch three accuracies and a checkpoint
// (the points committed before it, as the trainer does).
type streamTrainer struct {
	Epochs, Batches int
}

func (f streamTrainer) train(ctx context.Context, cfg train.Config, opts train.Options) (train.Result, error) {
	total := f.Epochs * f.Batches
	step := 0
	for e := 1; e <= f.Epochs; e++ {
		for b := 1; b <= f.Batches; b++ {
			if ctx.Err() != nil {
				return train.Result{}, train.ErrInterrupted
			}
			step++
			opts.Logger.Step(train.StepEvent{Step: step, Batch: step, TotalBatches: total, Epoch: e, LR: 1e-3,
				Losses: map[string]float64{train.KeyLossCE2: 2, train.KeyLossCE3: 1.5, train.KeyLossCE4: 1 / float64(step),
					train.KeyLossKD: 0.4}, ImagesPerSec: 300})
		}
		opts.Logger.Epoch(train.EpochEvent{Epoch: e, Step: step, Metrics: map[string]float64{
			train.KeyAccS2: 40, train.KeyAccS3: 50, train.KeyAccS4: 55 + float64(e)}})
		if err := os.WriteFile(opts.CheckpointPath, []byte("ckpt"), 0o644); err != nil {
			return train.Result{}, err
		}
		if err := opts.Commit(step); err != nil {
			return train.Result{}, err
		}
	}
	return train.Result{Steps: step, Summaries: map[string]float64{train.KeyAccS4: 59, train.KeyAccS3: 54}}, nil
}

// BenchmarkSimulatedStudy: a study of 1,000 runs drained by 32 workers (each
// with its own connection pool, as 32 processes would have) running a
// trainer that emits a quick-profile run's metric stream (4 epochs × 60
// batches: 1,452 points and 4 checkpoints per run). On PostgreSQL when
// $WORKBENCH_TEST_PG is set, else SQLite. Reports wall time, points/s and
// claims/s, and checks every run finished once with every point once.
func BenchmarkSimulatedStudy(b *testing.B) {
	const runs, workers = 1000, 32
	sim := streamTrainer{Epochs: 4, Batches: 60}
	perRun := sim.Epochs*sim.Batches*6 + sim.Epochs*3
	for b.Loop() {
		loc, artifacts := b.TempDir()+"/runs.db", b.TempDir()
		if os.Getenv(testenv.EnvPG) != "" {
			loc = testenv.PGSchema(b, "sim_")
		}
		open := func() *store.Store {
			st, err := store.OpenURL(loc, store.Options{Artifacts: artifacts, NoRecover: true})
			if err != nil {
				b.Fatal(err)
			}
			return st
		}
		st := open()
		jobs := make([]Job, runs)
		for i := range jobs {
			jobs[i] = Job{Study: "sim", Variant: fmt.Sprintf("v%02d", i%50), Seed: int64(i / 50), Hash: fmt.Sprintf("sim-%d", i),
				Config: train.DefaultConfig()}
		}
		if _, err := Enqueue(bg, st, store.Study{Name: "sim", Spec: "x"}, jobs, false); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var done int
		for w := range workers {
			ws := open()
			defer ws.Close()
			prov := testProv
			prov.Host, prov.PID = fmt.Sprintf("node%02d", w), 10000+w
			wk := NewWorker(ws, WorkerOptions{Train: sim.train, Provenance: &prov, IdleExit: 300 * time.Millisecond,
				Poll: 50 * time.Millisecond})
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := wk.Run(bg)
				if err != nil {
					b.Error(err)
				}
				mu.Lock()
				done += s.Finished
				mu.Unlock()
			}()
		}
		wg.Wait()
		wall := time.Since(start)
		all, err := st.Runs(bg, store.RunFilter{Study: "sim"})
		if err != nil {
			b.Fatal(err)
		}
		finished := 0
		for _, r := range all {
			if r.Status == store.Finished && r.Attempts == 1 {
				finished++
			}
		}
		counts, err := st.CountMetrics(bg, idsOf(all)...)
		if err != nil {
			b.Fatal(err)
		}
		var points int64
		for _, n := range counts {
			points += int64(n)
		}
		if done != runs || finished != runs || points != int64(runs*perRun) {
			b.Fatalf("%d runs ended by workers, %d finished once, %d points; want %d, %d, %d", done, finished, points, runs, runs, runs*perRun)
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(points)/wall.Seconds(), "points/s")
		b.ReportMetric(runs/wall.Seconds(), "runs/s")
		b.Logf("%s: %d runs, %d workers, %d points in %s", st.Backend(), runs, workers, points, wall.Round(time.Millisecond))
		st.Close()
	}
}

// BenchmarkRunLoggerStep is what one training step spends in logging: the
// trainer's Step event turned into six metric points and the run's progress,
// all appended to memory (the metric writer's goroutine writes them; on a
// busy 2-core machine its writes run in the same wall time).
func BenchmarkRunLoggerStep(b *testing.B) {
	st, err := store.Open(b.TempDir() + "/runs.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := st.NewMetricWriter(store.WriterOptions{})
	defer w.Close()
	l := &runLogger{w: w, t: &task{id: 1}, owner: "x"}
	b.ReportAllocs()
	e := train.StepEvent{Step: 1, Batch: 1, TotalBatches: 240, Epoch: 1, LR: 1e-3, ImagesPerSec: 300,
		Losses: map[string]float64{train.KeyLossCE2: 2, train.KeyLossCE3: 1.5, train.KeyLossCE4: 1, train.KeyLossKD: 0.4}}
	for b.Loop() {
		e.Step++
		l.Step(e)
	}
}
