package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

// Job is one run to compute: a variant of a study at a seed, with its
// effective config and config hash (see experiment.RunSpec).
type Job struct {
	Study, Variant string
	Seed           int64
	Profile        string
	Config         train.Config
	ConfigJSON     string // canonical JSON of Config, as hashed
	Hash           string
	// Params are recorded for filtering (experiment.Params of the config);
	// "profile" is added from Profile.
	Params          map[string]string
	DataFingerprint string
	CodeVersion     string
}

// TrainFunc trains one run (train.Run behind a data set loader). It must
// honour ctx: on cancellation it checkpoints to opts.CheckpointPath and
// returns an error wrapping train.ErrInterrupted.
type TrainFunc func(ctx context.Context, cfg train.Config, opts train.Options) (train.Result, error)

// Options configure a Runner. Zero fields take the defaults.
type Options struct {
	// Jobs is the number of runs trained at once (default DefaultJobs()).
	Jobs int
	// Train trains a run (default DefaultTrain: data.Open + train.Run;
	// tests pass a fake).
	Train TrainFunc
	// Provenance of this process (default DetectProvenance(".")).
	Provenance *store.Provenance
	// Progress receives the progress display (nil: none); TTY draws bars
	// redrawn in place, otherwise plain lines are written.
	Progress io.Writer
	TTY      bool
	// Width is the terminal's width in columns; bars are cut to fit
	// (default 80).
	Width int
	// CheckpointEvery is passed to the trainer (0: at epoch ends and on
	// interruption only).
	CheckpointEvery int
	// Heartbeat is how often running runs report to the store (default
	// store.HeartbeatEvery).
	Heartbeat time.Duration
	// Writer tunes the metric writer.
	Writer store.WriterOptions
	// DropFinishedCheckpoints removes a run's checkpoint once it finishes
	// (otherwise its final checkpoint stays, for Figure 4's Grad-CAM maps;
	// `workbench gc` removes it later).
	DropFinishedCheckpoints bool
}

// DefaultJobs is how many runs train at once: one per core. A run's
// kernels spread over the cores other runs leave idle (ops' loops take only
// waiting helpers), and runs side by side keep the cores busy through what
// one run does alone (evaluation, optimizer, small layers). Measured on 2
// cores (table9, quick, 6 runs): 190 s with 2 jobs, 238 s with 1.
func DefaultJobs() int { return max(1, runtime.NumCPU()) }

// Plan says what Submit or Resume did with each job (see store.Plan).
type Plan = store.Plan

// Outcome is how one run ended in this runner.
type Outcome struct {
	RunID          int64
	Study, Variant string
	Seed           int64
	Status         store.Status
	Error          string
	Duration       time.Duration
}

// Runner trains queued runs on parallel workers until Close.
type Runner struct {
	st   *store.Store
	opt  Options
	prov store.Provenance
	ctx  context.Context
	stop context.CancelFunc
	w    *store.MetricWriter
	disp *display

	submitMu sync.Mutex // one Submit or Resume at a time

	mu       sync.Mutex
	cond     *sync.Cond
	pending  []*task
	active   map[int64]*task // queued or running here
	running  int
	closed   bool
	outcomes []Outcome
	// halt, once set, is why no further run starts (the store's disk is
	// full): queued runs end interrupted with it instead.
	halt string

	workers sync.WaitGroup
	bg      sync.WaitGroup
	bgStop  chan struct{}
}

// task is a run queued or running in this runner.
type task struct {
	id     int64
	job    Job
	resume bool
	ctx    context.Context
	cancel context.CancelFunc
	lease  store.Lease // set when a worker goroutine has claimed the run

	mu       sync.Mutex
	running  bool
	started  time.Time
	prog     store.Progress
	rateFrom struct {
		at    time.Time
		batch int
	}
	shown int // plain display: last tenth of the run printed
}

// New starts a runner with its workers. Cancelling ctx interrupts running
// runs (they checkpoint) and keeps queued ones from starting; Close waits for
// them and records them interrupted.
func New(ctx context.Context, st *store.Store, opt Options) (*Runner, error) {
	if st == nil {
		return nil, errors.New("runner: no store")
	}
	if opt.Jobs <= 0 {
		opt.Jobs = DefaultJobs()
	}
	if opt.Train == nil {
		opt.Train = DefaultTrain
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = store.HeartbeatEvery
	}
	var prov store.Provenance
	if opt.Provenance != nil {
		prov = *opt.Provenance
	} else {
		prov = DetectProvenance(".")
	}
	rctx, stop := context.WithCancel(ctx)
	r := &Runner{
		st: st, opt: opt, prov: prov, ctx: rctx, stop: stop,
		w:      st.NewMetricWriter(opt.Writer),
		active: map[int64]*task{},
		bgStop: make(chan struct{}),
	}
	r.cond = sync.NewCond(&r.mu)
	r.disp = newDisplay(opt.Progress, opt.TTY, r.runningTasks)
	if opt.Width > 0 {
		r.disp.width = opt.Width
	}
	context.AfterFunc(rctx, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	for range opt.Jobs {
		r.workers.Add(1)
		go r.worker()
	}
	r.bg.Add(2)
	go r.heartbeats()
	go r.disp.loop(r.bgStop, &r.bg)
	return r, nil
}

// Submit records a study and queues its jobs. Unless force is set, a job
// whose config hash matches a finished or diverged run reuses it, one that
// matches a queued or running run is left to it, and one that matches an
// interrupted run continues it from its checkpoint. Every run a job maps to
// is added to the study under the job's variant label.
func (r *Runner) Submit(ctx context.Context, study store.Study, jobs []Job, force bool) (Plan, error) {
	r.submitMu.Lock()
	defer r.submitMu.Unlock()
	var plan Plan
	if r.isClosed() {
		return plan, errors.New("runner: closed")
	}
	if err := r.st.PutStudy(ctx, study); err != nil {
		return plan, err
	}
	seen := map[string]int64{} // hash -> run, within this submission
	var queue []queued
	defer func() { // queued after the plan is printed, even when a later job fails
		for _, q := range queue {
			r.enqueue(q.id, *q.job, q.resume)
		}
	}()
	for _, j := range jobs {
		if j.Study == "" {
			j.Study = study.Name
		}
		if j.Hash == "" {
			return plan, fmt.Errorf("runner: job %s/%s seed %d has no config hash", j.Study, j.Variant, j.Seed)
		}
		if id, ok := seen[j.Hash]; ok { // the same run twice in one study: train it once
			if err := r.st.AddToStudy(ctx, id, j.Study, j.Variant); err != nil {
				return plan, err
			}
			plan.Reused = append(plan.Reused, id)
			continue
		}
		p, q, err := r.submitOne(ctx, j, force)
		if err != nil {
			return plan, err
		}
		seen[j.Hash] = q.id
		if q.job != nil {
			queue = append(queue, q)
		}
		plan.Add(p)
	}
	r.disp.logf("%s: %d runs: %d to train (%d resumed), %d reused, %d already queued or running",
		study.Name, len(jobs), plan.Train(), len(plan.Resumed), len(plan.Reused), len(plan.Busy))
	return plan, nil
}

// queued is a run Submit decided to train.
type queued struct {
	id     int64
	job    *Job // nil: nothing to train
	resume bool
}

// submitOne decides what to do with one job and records it in the store.
func (r *Runner) submitOne(ctx context.Context, j Job, force bool) (Plan, queued, error) {
	var plan Plan
	if !force {
		same, err := r.st.Runs(ctx, store.RunFilter{ConfigHash: j.Hash})
		if err != nil {
			return plan, queued{}, err
		}
		if run, ok := newest(same, store.Finished, store.Diverged); ok {
			plan.Reused = append(plan.Reused, run.ID)
			return plan, queued{id: run.ID}, r.st.AddToStudy(ctx, run.ID, j.Study, j.Variant)
		}
		if run, ok := newest(same, store.Running, store.Queued); ok {
			plan.Busy = append(plan.Busy, run.ID)
			return plan, queued{id: run.ID}, r.st.AddToStudy(ctx, run.ID, j.Study, j.Variant)
		}
		if run, ok := newest(same, store.Interrupted); ok {
			if r.isActive(run.ID) { // already queued here to resume
				plan.Busy = append(plan.Busy, run.ID)
				return plan, queued{id: run.ID}, r.st.AddToStudy(ctx, run.ID, j.Study, j.Variant)
			}
			if err := r.st.AddToStudy(ctx, run.ID, j.Study, j.Variant); err != nil {
				return plan, queued{}, err
			}
			// Queued again, for this process only (another planner may have
			// been faster: then it is busy).
			if err := r.st.RequeueFor(ctx, run.ID, r.prov); errors.Is(err, store.ErrConflict) {
				plan.Busy = append(plan.Busy, run.ID)
				return plan, queued{id: run.ID}, nil
			} else if err != nil {
				return plan, queued{}, err
			}
			plan.Resumed = append(plan.Resumed, run.ID)
			return plan, queued{id: run.ID, job: &j, resume: true}, nil
		}
	}
	rec, err := newRun(j, r.prov)
	if err != nil {
		return plan, queued{}, err
	}
	id, err := r.st.CreateRun(ctx, rec)
	if errors.Is(err, store.ErrRunLive) { // another process planned it a moment ago
		plan.Busy = append(plan.Busy, id)
		return plan, queued{id: id}, r.st.AddToStudy(ctx, id, j.Study, j.Variant)
	}
	if err != nil {
		return plan, queued{}, err
	}
	plan.Queued = append(plan.Queued, id)
	return plan, queued{id: id, job: &j}, nil
}

// Resume queues stored runs to continue from their checkpoints (from the
// start when they have none): the given ones, which must be interrupted or
// failed, or with no ids every interrupted run.
func (r *Runner) Resume(ctx context.Context, ids ...int64) (Plan, error) {
	r.submitMu.Lock()
	defer r.submitMu.Unlock()
	var plan Plan
	if r.isClosed() {
		return plan, errors.New("runner: closed")
	}
	var runs []store.Run
	var err error
	if len(ids) == 0 {
		runs, err = r.st.Runs(ctx, store.RunFilter{Statuses: []store.Status{store.Interrupted}})
	} else {
		runs, err = r.st.Runs(ctx, store.RunFilter{IDs: ids})
		if err == nil && len(runs) < len(ids) {
			found := map[int64]bool{}
			for _, run := range runs {
				found[run.ID] = true
			}
			for _, id := range ids {
				if !found[id] {
					return plan, fmt.Errorf("resume: no run %d in %s", id, r.st.Path())
				}
			}
		}
	}
	if err != nil {
		return plan, err
	}
	params, err := r.st.Params(ctx, idsOf(runs)...)
	if err != nil {
		return plan, err
	}
	for _, run := range runs {
		switch run.Status {
		case store.Interrupted, store.Failed:
		case store.Queued, store.Running:
			plan.Busy = append(plan.Busy, run.ID)
			continue
		default:
			return plan, fmt.Errorf("resume: run %d is %s; to compute it again use `workbench run --force`", run.ID, run.Status)
		}
		if r.isActive(run.ID) {
			plan.Busy = append(plan.Busy, run.ID)
			continue
		}
		var cfg train.Config
		if err := json.Unmarshal([]byte(run.Config), &cfg); err != nil {
			return plan, fmt.Errorf("resume: run %d: stored config: %w", run.ID, err)
		}
		if run.CodeVersion != "" && r.prov.CodeVersion != "" && run.CodeVersion != r.prov.CodeVersion {
			r.disp.logf("run %d was started with code %s; continuing it with %s", run.ID, run.CodeVersion, r.prov.CodeVersion)
		}
		j := Job{Study: run.Study, Variant: run.Variant, Seed: run.Seed, Profile: params[run.ID]["profile"],
			Config: cfg, ConfigJSON: run.Config, Hash: run.ConfigHash, Params: params[run.ID],
			DataFingerprint: run.DatasetFingerprint, CodeVersion: run.CodeVersion}
		if err := r.st.RequeueFor(ctx, run.ID, r.prov); errors.Is(err, store.ErrConflict) {
			plan.Busy = append(plan.Busy, run.ID) // taken meanwhile, or an identical run is live
			continue
		} else if err != nil {
			return plan, err
		}
		r.enqueue(run.ID, j, true)
		plan.Resumed = append(plan.Resumed, run.ID)
	}
	return plan, nil
}

// Cancel stops a run of this runner: a queued one is dropped from the queue
// and marked interrupted; a running one checkpoints and ends interrupted.
func (r *Runner) Cancel(id int64) error {
	r.mu.Lock()
	t, ok := r.active[id]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("runner: run %d is not queued or running here", id)
	}
	queued := false
	for i, p := range r.pending {
		if p == t {
			r.pending = append(r.pending[:i], r.pending[i+1:]...)
			queued = true
			break
		}
	}
	if queued {
		delete(r.active, id)
		r.cond.Broadcast()
	}
	r.mu.Unlock()
	t.cancel() // a worker that already took it sees a cancelled context
	if queued {
		return r.endUnstarted(t, "interrupted: cancelled before it started")
	}
	return nil
}

// Active is the number of runs queued or running in this runner.
func (r *Runner) Active() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.active)
}

// Wait blocks until every queued run has ended, or, once the runner's
// context is cancelled, until the running ones have stopped.
func (r *Runner) Wait() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.running > 0 || (len(r.pending) > 0 && r.ctx.Err() == nil) {
		r.cond.Wait()
	}
}

// Close stops the runner: running runs are interrupted (they checkpoint),
// queued ones are marked interrupted, pending metric points are written. It
// returns the outcomes of the runs that ended in this runner, in order.
func (r *Runner) Close() ([]Outcome, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.Outcomes(), nil
	}
	r.closed = true
	r.mu.Unlock()
	r.stop()
	r.workers.Wait()

	var errs []error
	r.mu.Lock()
	left := r.pending
	r.pending = nil
	r.mu.Unlock()
	for _, t := range left {
		if err := r.endUnstarted(t, "interrupted: stopped before it started"); err != nil {
			errs = append(errs, err)
		}
	}
	close(r.bgStop)
	r.bg.Wait()
	if err := r.w.Close(); err != nil {
		errs = append(errs, fmt.Errorf("runner: metric points not written: %w", err))
	}
	r.disp.finish()
	return r.Outcomes(), errors.Join(errs...)
}

// Outcomes lists the runs that ended in this runner so far, in order.
func (r *Runner) Outcomes() []Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Outcome(nil), r.outcomes...)
}

func (r *Runner) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func (r *Runner) isActive(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.active[id]
	return ok
}

func (r *Runner) enqueue(id int64, j Job, resume bool) {
	ctx, cancel := context.WithCancel(r.ctx)
	t := &task{id: id, job: j, resume: resume, ctx: ctx, cancel: cancel}
	r.mu.Lock()
	r.active[id] = t
	r.pending = append(r.pending, t)
	r.cond.Signal()
	r.mu.Unlock()
}

// next takes the next queued task, or nil when the runner stops.
func (r *Runner) next() *task {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.pending) == 0 && !r.closed && r.ctx.Err() == nil {
		r.cond.Wait()
	}
	if len(r.pending) == 0 || r.ctx.Err() != nil {
		return nil
	}
	t := r.pending[0]
	r.pending = r.pending[1:]
	r.running++
	return t
}

func (r *Runner) worker() {
	defer r.workers.Done()
	for {
		t := r.next()
		if t == nil {
			return
		}
		if why := r.halted(); why != "" {
			if err := r.endUnstarted(t, "interrupted: not started: "+why); err != nil {
				r.disp.logf("run %d: %v", t.id, err)
			}
		} else {
			r.execute(t)
		}
		r.mu.Lock()
		r.running--
		delete(r.active, t.id)
		r.cond.Broadcast()
		r.mu.Unlock()
	}
}

// execute trains one run and records how it ended.
func (r *Runner) execute(t *task) {
	// Bookkeeping must reach the store even while the runner is cancelled.
	bg := context.WithoutCancel(r.ctx)
	prov := r.prov
	prov.Dataset, prov.DatasetFingerprint = t.job.Config.Dataset, t.job.DataFingerprint
	// The same claim and lease as a worker's, limited to this run and to
	// runs this process queued: every later write goes through the lease.
	_, lease, err := r.st.ClaimRun(bg, prov, store.ClaimFilter{IDs: []int64{t.id}, Owner: r.prov.OwnerToken()})
	if err != nil {
		r.disp.logf("run %d not started: %v", t.id, err)
		return
	}
	t.mu.Lock()
	t.lease = lease
	t.mu.Unlock()
	ckpt, exists, err := checkpointFile(r.st, t.id)
	if err != nil {
		r.end(t, store.End{Status: store.Failed, Error: err.Error()})
		return
	}
	resume := t.resume && exists
	t.mu.Lock()
	t.running, t.started = true, time.Now()
	t.mu.Unlock()
	how := "started"
	if resume {
		how = "resumed from its checkpoint"
	} else if t.resume {
		how = "restarted (no checkpoint)"
	}
	r.disp.logf("run %d %s: %s", t.id, how, t.label())

	res, err := r.train(t, train.Options{
		Logger:          &runLogger{w: r.w, t: t, owner: lease.Token},
		CheckpointPath:  ckpt,
		Resume:          resume,
		CheckpointEvery: r.opt.CheckpointEvery,
		Commit:          func(step int) error { return r.w.CommitLeased(bg, lease, step) },
	})
	if ferr := r.w.Flush(bg); ferr != nil {
		r.disp.logf("run %d: metric points not yet written (retrying): %v", t.id, ferr)
	}
	e := classify(err, t.ctx.Err() != nil, res)
	if e.Status == store.Failed && store.IsFull(err) {
		// Not the run's fault: it continues from its last checkpoint once
		// there is space, like any interrupted run.
		e = store.End{Status: store.Interrupted, Error: "interrupted: " + e.Error}
		r.haltQueue(fmt.Sprintf("the disk of %s is full; free space, then `workbench resume`", r.st.Path()))
	}
	if e.Status == store.Finished && r.opt.DropFinishedCheckpoints {
		if rerr := os.Remove(ckpt); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			r.disp.logf("run %d: %v", t.id, rerr)
		}
	} else if aerr := recordCheckpoint(bg, r.st, t.id, ckpt); aerr != nil {
		r.disp.logf("run %d: %v", t.id, aerr)
	}
	r.end(t, e)
}

// haltQueue keeps queued runs from starting: each would fail the same way.
func (r *Runner) haltQueue(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.halt == "" {
		r.halt = why
	}
}

func (r *Runner) halted() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.halt
}

// classify turns the trainer's result into the run's end status.
func classify(err error, cancelled bool, res train.Result) store.End {
	var div *train.DivergedError
	switch {
	case err == nil:
		return store.End{Status: store.Finished, Summaries: res.Summaries}
	case errors.As(err, &div):
		return store.End{Status: store.Diverged, Error: err.Error(), DivergedStep: int64(div.Step), Summaries: res.Summaries}
	case errors.Is(err, train.ErrInterrupted), cancelled && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return store.End{Status: store.Interrupted, Error: err.Error()}
	default:
		return store.End{Status: store.Failed, Error: err.Error()}
	}
}

// train calls the TrainFunc, turning a panic into an error.
func (r *Runner) train(t *task, opts train.Options) (train.Result, error) {
	return callTrain(t.ctx, r.opt.Train, t.job.Config, opts)
}

// end records how a started run ended.
func (r *Runner) end(t *task, e store.End) {
	bg := context.WithoutCancel(r.ctx)
	t.mu.Lock()
	prog := t.progressLocked()
	started, lease := t.started, t.lease
	t.running = false
	t.mu.Unlock()
	e.Progress = &prog
	if err := r.st.EndLeased(bg, lease, e); err != nil {
		r.disp.logf("run %d: %v", t.id, err)
	}
	o := Outcome{RunID: t.id, Study: t.job.Study, Variant: t.job.Variant, Seed: t.job.Seed,
		Status: e.Status, Error: e.Error, Duration: time.Since(started)}
	r.mu.Lock()
	r.outcomes = append(r.outcomes, o)
	r.mu.Unlock()
	msg := fmt.Sprintf("run %d %s in %s: %s", t.id, e.Status, fmtDuration(o.Duration), t.label())
	switch e.Status {
	case store.Finished:
		if keys := summaryLine(e.Summaries); keys != "" {
			msg += "  " + keys
		}
	case store.Interrupted:
		msg += " (continue with `workbench resume`)"
	default:
		msg += ": " + firstLine(e.Error)
	}
	r.disp.logf("%s", msg)
}

// endUnstarted marks a run that never started in this runner interrupted,
// so that `workbench resume` picks it up, and records its outcome, also
// when the store cannot be written (the outcome then says so, and the run
// stays queued until the next workbench command finds its owner gone).
func (r *Runner) endUnstarted(t *task, why string) error {
	bg := context.WithoutCancel(r.ctx)
	o := Outcome{RunID: t.id, Study: t.job.Study, Variant: t.job.Variant, Seed: t.job.Seed,
		Status: store.Interrupted, Error: why}
	run, err := r.st.Run(bg, t.id)
	if err == nil && run.Status == store.Queued {
		err = r.st.EndRun(bg, t.id, store.End{Status: store.Interrupted, Error: why})
	}
	if err != nil {
		o.Status = store.Queued
		o.Error = fmt.Sprintf("%s; could not record it in %s: %v", why, r.st.Path(), err)
	}
	if err == nil && run.Status != store.Queued && run.Status != store.Interrupted {
		return nil // it ended elsewhere meanwhile
	}
	r.mu.Lock()
	r.outcomes = append(r.outcomes, o)
	r.mu.Unlock()
	return err
}

// heartbeats renews the lease of each running run every opt.Heartbeat,
// with its progress (a run whose lease is lost — another process took it
// over — is stopped), and keeps the runs queued here alive.
func (r *Runner) heartbeats() {
	defer r.bg.Done()
	tick := time.NewTicker(r.opt.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.bgStop:
			return
		case <-tick.C:
		}
		bg := context.WithoutCancel(r.ctx)
		for _, t := range r.runningTasks() {
			t.mu.Lock()
			p, lease := t.progressLocked(), t.lease
			t.mu.Unlock()
			if lease.Token == "" {
				continue // not claimed yet
			}
			if err := r.st.Renew(bg, lease, p); errors.Is(err, store.ErrLeaseLost) {
				r.disp.logf("run %d was taken over by another process (its lease is lost); stopped here", t.id)
				t.cancel()
			} else if err != nil {
				r.disp.logf("heartbeat of run %d: %v", t.id, err)
			}
		}
		if _, err := r.st.Heartbeat(bg, r.prov.Host, r.prov.PID, nil); err != nil {
			r.disp.logf("heartbeat: %v", err)
		}
	}
}

// runningTasks lists the tasks being trained, by run id.
func (r *Runner) runningTasks() []*task {
	r.mu.Lock()
	var out []*task
	for _, t := range r.active {
		out = append(out, t)
	}
	r.mu.Unlock()
	running := out[:0]
	for _, t := range out {
		if t.isRunning() {
			running = append(running, t)
		}
	}
	sort.Slice(running, func(i, j int) bool { return running[i].id < running[j].id })
	return running
}

func (t *task) isRunning() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running
}

func (t *task) label() string {
	return fmt.Sprintf("%s/%s seed %d", t.job.Study, t.job.Variant, t.job.Seed)
}

// runLogger turns the trainer's events into metric points and the run's
// progress, both written by the metric writer in one transaction. Its
// methods only append to memory: the trainer never waits on the disk.
type runLogger struct {
	w     *store.MetricWriter
	t     *task
	owner string // the run's owner token (lease or process), guarding its progress
}

func (l *runLogger) Step(e train.StepEvent) {
	now := time.Now()
	id := l.t.id
	for k, v := range e.Losses {
		l.w.Log(store.Metric{RunID: id, Key: k, Step: e.Step, Epoch: e.Epoch, Value: v, Time: now})
	}
	l.w.Log(store.Metric{RunID: id, Key: train.KeyLR, Step: e.Step, Epoch: e.Epoch, Value: e.LR, Time: now})
	if e.ImagesPerSec > 0 {
		l.w.Log(store.Metric{RunID: id, Key: train.KeyImagesPerSec, Step: e.Step, Epoch: e.Epoch, Value: e.ImagesPerSec, Time: now})
	}
	t := l.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rateFrom.at.IsZero() {
		t.rateFrom.at, t.rateFrom.batch = now, e.Batch
	}
	t.prog.Step, t.prog.Batch, t.prog.TotalBatches, t.prog.Epoch = e.Step, e.Batch, e.TotalBatches, e.Epoch
	if e.ImagesPerSec > 0 {
		t.prog.ImagesPerSec = e.ImagesPerSec
	}
	if t.prog.Latest == nil {
		t.prog.Latest = map[string]float64{}
	}
	for k, v := range e.Losses {
		t.prog.Latest[k] = v
	}
	t.prog.Latest[train.KeyLR] = e.LR
	l.w.SetProgress(t.id, l.owner, t.progressLocked())
}

func (l *runLogger) Epoch(e train.EpochEvent) {
	now := time.Now()
	for k, v := range e.Metrics {
		l.w.Log(store.Metric{RunID: l.t.id, Key: k, Step: e.Step, Epoch: e.Epoch, Value: v, Time: now})
	}
	t := l.t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prog.Step, t.prog.Epoch = e.Step, e.Epoch
	if t.prog.Latest == nil {
		t.prog.Latest = map[string]float64{}
	}
	for k, v := range e.Metrics {
		t.prog.Latest[k] = v
	}
	l.w.SetProgress(t.id, l.owner, t.progressLocked())
}

// progressLocked is a copy of the task's progress; t.mu is held.
func (t *task) progressLocked() store.Progress {
	p := t.prog
	p.Latest = copyLatest(t.prog.Latest)
	return p
}

func copyLatest(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func idsOf(runs []store.Run) []int64 {
	out := make([]int64, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// summaryLine shows the headline accuracies of a finished run.
func summaryLine(sums map[string]float64) string {
	var parts []string
	for _, k := range []string{train.KeyAccS3, train.KeyAccS4} {
		if v, ok := sums[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f", k, v))
		}
	}
	return strings.Join(parts, "  ")
}
