package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

// WorkerOptions configure a Worker. Zero fields take the defaults.
type WorkerOptions struct {
	// MaxRuns: stop after this many runs (0: no limit).
	MaxRuns int
	// IdleExit: stop when no run has been queued for this long (0: 30 s;
	// negative: never). A worker does not stop while a leased run's
	// heartbeat is late: it waits to continue it if its worker is dead.
	IdleExit time.Duration
	// Poll is how often an idle worker looks for queued runs (default 1 s).
	Poll time.Duration
	// Grace: a running run without a heartbeat for this long belongs to a
	// dead worker and is re-queued (default 30 s, at least 3 heartbeats).
	Grace time.Duration
	// MaxAttempts before a run whose worker keeps dying is failed
	// (default store.DefaultMaxAttempts).
	MaxAttempts int
	// Heartbeat is how often a running run renews its lease (default
	// store.HeartbeatEvery).
	Heartbeat time.Duration
	// Studies limits the runs claimed to these studies (empty: any).
	Studies []string
	// CheckpointEvery is passed to the trainer.
	CheckpointEvery int
	// Train trains a run (default DefaultTrain).
	Train TrainFunc
	// Provenance of this worker (default DetectProvenance(".")).
	Provenance *store.Provenance
	// Log receives one line per event (nil: none).
	Log io.Writer
	// Writer tunes the metric writer.
	Writer store.WriterOptions
}

// Worker is one `workbench worker`: it claims queued runs from a store that
// any number of identical workers share, trains each under a lease, and
// writes its metrics, checkpoint and end through that lease. The engine that
// started it (Slurm, Kubernetes, a shell) decides nothing about which run
// goes where.
type Worker struct {
	st   *store.Store
	opt  WorkerOptions
	prov store.Provenance
}

// WorkerStats is what a worker did.
type WorkerStats struct {
	Runs     int // runs claimed
	Finished int
	Released int // given back to the queue when the worker was stopped
	Lost     int // leases lost to a re-queue while training
}

// NewWorker makes a worker on st.
func NewWorker(st *store.Store, opt WorkerOptions) *Worker {
	if opt.IdleExit == 0 {
		opt.IdleExit = 30 * time.Second
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = store.HeartbeatEvery
	}
	if opt.Grace <= 0 {
		opt.Grace = max(30*time.Second, 3*opt.Heartbeat)
	}
	if opt.Train == nil {
		opt.Train = DefaultTrain
	}
	prov := DetectProvenance(".")
	if opt.Provenance != nil {
		prov = *opt.Provenance
	}
	return &Worker{st: st, opt: opt, prov: prov}
}

func (w *Worker) logf(format string, args ...any) {
	if w.opt.Log != nil {
		fmt.Fprintf(w.opt.Log, format+"\n", args...)
	}
}

// Run claims and trains runs until ctx is cancelled (the run in progress
// checkpoints and goes back to the queue), MaxRuns runs were done, or no
// run was queued for IdleExit.
func (w *Worker) Run(ctx context.Context) (WorkerStats, error) {
	var stats WorkerStats
	mw := w.st.NewMetricWriter(w.opt.Writer)
	defer mw.Close()
	idleSince := time.Now()
	for ctx.Err() == nil {
		if w.opt.MaxRuns > 0 && stats.Runs >= w.opt.MaxRuns {
			break
		}
		requeued, failed, err := w.st.RequeueExpired(ctx, w.opt.Grace, w.opt.MaxAttempts)
		if err != nil && ctx.Err() == nil {
			return stats, err
		}
		for _, id := range requeued {
			w.logf("run %d: its worker is gone (no heartbeat for %s); queued again", id, w.opt.Grace)
		}
		for _, id := range failed {
			w.logf("run %d: its worker died %d times; failed", id, max(w.opt.MaxAttempts, store.DefaultMaxAttempts))
		}
		// The claim itself is not cancelled half-way: a run claimed as the
		// worker is stopped is given straight back.
		run, lease, err := w.st.ClaimRun(context.WithoutCancel(ctx), w.prov, store.ClaimFilter{Studies: w.opt.Studies})
		if err == nil && ctx.Err() != nil {
			if rerr := w.st.Release(context.WithoutCancel(ctx), lease, "released: the worker was stopped"); rerr != nil {
				w.logf("run %d: %v", run.ID, rerr)
			}
			break
		}
		if errors.Is(err, store.ErrNotFound) {
			// A run whose worker went quiet may come back to the queue when
			// its grace period ends: stay for it rather than leave it with
			// nobody to continue it.
			if n, err := w.st.SuspectLeases(ctx, 2*w.opt.Heartbeat); err == nil && n > 0 {
				idleSince = time.Now()
			}
			if w.opt.IdleExit > 0 && time.Since(idleSince) >= w.opt.IdleExit {
				w.logf("no queued run for %s: done", w.opt.IdleExit)
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(w.opt.Poll):
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return stats, err
		}
		stats.Runs++
		switch w.execute(ctx, mw, run, lease) {
		case store.Finished, store.Diverged, store.Failed:
			stats.Finished++
		case store.Queued:
			stats.Released++
		default:
			stats.Lost++
		}
		idleSince = time.Now()
	}
	return stats, mw.Close()
}

// execute trains one claimed run and records its end through the lease. It
// returns the status the run was left in ("" when the lease was lost).
func (w *Worker) execute(ctx context.Context, mw *store.MetricWriter, run store.Run, lease store.Lease) store.Status {
	bg := context.WithoutCancel(ctx)
	var cfg train.Config
	if err := json.Unmarshal([]byte(run.Config), &cfg); err != nil {
		return w.end(bg, lease, store.End{Status: store.Failed, Error: fmt.Sprintf("stored config: %v", err)})
	}
	ckpt, resume, err := checkpointFile(w.st, run.ID)
	if err != nil {
		return w.end(bg, lease, store.End{Status: store.Failed, Error: err.Error()})
	}
	how := "started"
	if resume {
		how = "resumed from its checkpoint"
	}
	w.logf("run %d %s (attempt %d): %s/%s seed %d", run.ID, how, lease.Attempt, run.Study, run.Variant, run.Seed)

	// The run's own context: cancelled when the worker is stopped or the
	// lease is lost (another worker owns the run then).
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := &task{id: run.ID, job: Job{Study: run.Study, Variant: run.Variant, Seed: run.Seed, Config: cfg}}
	lost := make(chan struct{})
	go func() {
		tick := time.NewTicker(w.opt.Heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-tick.C:
			}
			t.mu.Lock()
			p := t.progressLocked()
			t.mu.Unlock()
			if err := w.st.Renew(bg, lease, p); errors.Is(err, store.ErrLeaseLost) {
				close(lost)
				cancel()
				return
			} else if err != nil {
				w.logf("run %d: heartbeat: %v", run.ID, err)
			}
		}
	}()
	started := time.Now()
	res, err := callTrain(rctx, w.opt.Train, cfg, train.Options{
		Logger:          &runLogger{w: mw, t: t, owner: lease.Token},
		CheckpointPath:  ckpt,
		Resume:          resume,
		CheckpointEvery: w.opt.CheckpointEvery,
		Commit:          func(step int) error { return mw.CommitLeased(bg, lease, step) },
	})
	cancel()
	if ferr := mw.Flush(bg); ferr != nil {
		w.logf("run %d: metric points not yet written (retrying): %v", run.ID, ferr)
	}
	select {
	case <-lost:
		w.logf("run %d: lease lost (another worker owns it now); stopped", run.ID)
		return ""
	default:
	}
	e := classify(err, ctx.Err() != nil, res)
	if e.Status == store.Interrupted && ctx.Err() != nil {
		// Stopped (SIGTERM, preemption): back to the queue for any worker.
		if rerr := w.st.Release(bg, lease, "released: "+e.Error); rerr != nil {
			w.logf("run %d: %v", run.ID, rerr)
			return ""
		}
		w.logf("run %d released after %s: checkpointed, queued again", run.ID, fmtDuration(time.Since(started)))
		return store.Queued
	}
	if aerr := recordCheckpoint(bg, w.st, run.ID, ckpt); aerr != nil {
		w.logf("run %d: %v", run.ID, aerr)
	}
	st := w.end(bg, lease, e)
	w.logf("run %d %s in %s", run.ID, st, fmtDuration(time.Since(started)))
	return st
}

// end records a run's end through its lease; "" when the lease was lost.
func (w *Worker) end(ctx context.Context, lease store.Lease, e store.End) store.Status {
	if err := w.st.EndLeased(ctx, lease, e); err != nil {
		w.logf("run %d: %v", lease.RunID, err)
		return ""
	}
	return e.Status
}

// Enqueue records a study and queues its jobs for workers (workbench
// submit): like Submit, an identical finished run is reused and a queued or
// running one left to its worker, but new runs have no owner (any worker
// may claim them) and interrupted or failed ones are queued again, to
// continue from their checkpoints.
func Enqueue(ctx context.Context, st *store.Store, study store.Study, jobs []Job, force bool) (Plan, error) {
	var plan Plan
	if err := st.PutStudy(ctx, study); err != nil {
		return plan, err
	}
	seen := map[string]int64{}
	for _, j := range jobs {
		if j.Study == "" {
			j.Study = study.Name
		}
		if id, ok := seen[j.Hash]; ok {
			if err := st.AddToStudy(ctx, id, j.Study, j.Variant); err != nil {
				return plan, err
			}
			plan.Reused = append(plan.Reused, id)
			continue
		}
		if !force {
			same, err := st.Runs(ctx, store.RunFilter{ConfigHash: j.Hash})
			if err != nil {
				return plan, err
			}
			if run, ok := newest(same, store.Finished, store.Diverged); ok {
				seen[j.Hash] = run.ID
				plan.Reused = append(plan.Reused, run.ID)
				if err := st.AddToStudy(ctx, run.ID, j.Study, j.Variant); err != nil {
					return plan, err
				}
				continue
			}
			if run, ok := newest(same, store.Running, store.Queued); ok {
				seen[j.Hash] = run.ID
				plan.Busy = append(plan.Busy, run.ID)
				if err := st.AddToStudy(ctx, run.ID, j.Study, j.Variant); err != nil {
					return plan, err
				}
				continue
			}
			if run, ok := newest(same, store.Interrupted, store.Failed); ok {
				seen[j.Hash] = run.ID
				if err := st.AddToStudy(ctx, run.ID, j.Study, j.Variant); err != nil {
					return plan, err
				}
				if err := st.Requeue(ctx, run.ID); errors.Is(err, store.ErrConflict) {
					plan.Busy = append(plan.Busy, run.ID) // another planner re-queued it first
					continue
				} else if err != nil {
					return plan, err
				}
				plan.Resumed = append(plan.Resumed, run.ID)
				continue
			}
		}
		rec, err := newRun(j, store.Provenance{}) // no owner: any worker may claim it
		if err != nil {
			return plan, err
		}
		id, err := st.CreateRun(ctx, rec)
		if errors.Is(err, store.ErrRunLive) { // another planner queued it a moment ago
			seen[j.Hash] = id
			plan.Busy = append(plan.Busy, id)
			if err := st.AddToStudy(ctx, id, j.Study, j.Variant); err != nil {
				return plan, err
			}
			continue
		}
		if err != nil {
			return plan, err
		}
		seen[j.Hash] = id
		plan.Queued = append(plan.Queued, id)
	}
	return plan, nil
}
