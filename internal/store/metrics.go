package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/mksmt/workbench/internal/fault"
)

// WriterOptions tune a MetricWriter. Zero fields take the defaults.
type WriterOptions struct {
	// BatchSize: a write starts as soon as this many points wait (default 2000).
	BatchSize int
	// Interval: waiting points are written at least this often (default 1s).
	Interval time.Duration
	// MaxPending bounds the points held while the database cannot be
	// reached (default 1,000,000, about 80 MB). Points beyond it are
	// dropped, and the next checkpoint of their run fails (the run stops;
	// resumed from its previous checkpoint, it logs those steps again).
	MaxPending int
	// GiveUp is how long a checkpoint waits for an unreachable database
	// (default 5 min), retrying with backoff; then it fails with
	// ErrStoreUnreachable and the run stops, its previous checkpoint and
	// every committed point intact.
	GiveUp time.Duration
}

// The writer's behaviour when the database goes away (documented in the
// README, "Scaling out"): training goes on and points wait in memory
// (MaxPending); writes are retried with a backoff doubling from Interval
// to maxBackoff; a checkpoint waits up to GiveUp for its points to commit.
const maxBackoff = 30 * time.Second

// ErrStoreUnreachable is returned (wrapped) by Commit when the database did
// not take the points a checkpoint covers within WriterOptions.GiveUp.
var ErrStoreUnreachable = errors.New("the database did not answer")

// ErrPointsDropped is returned (wrapped) by Commit when points of the run
// were dropped because too many waited for an unreachable database.
var ErrPointsDropped = errors.New("metric points were dropped")

// MetricWriter appends metric points to the store in batches, one
// transaction per BatchSize points or per Interval, from its own goroutine.
// Log never touches the disk and never waits for it, so the trainer can call
// it from its loop. A failed write keeps its points and is retried at the
// next interval; Flush and Close report the failure.
type MetricWriter struct {
	s   *Store
	opt WriterOptions

	mu       sync.Mutex
	pending  []Metric
	progress map[int64]progressRow // newest progress per run, written with the next batch
	written  int64
	batches  int64
	lastErr  error
	closed   bool
	// While writes fail: since when, when to try next, the current backoff,
	// and the points dropped per run because MaxPending were waiting.
	failingSince time.Time
	nextTry      time.Time
	backoff      time.Duration
	dropped      map[int64]int

	wake    chan struct{}     // a full batch is waiting
	flushes chan flushRequest // Flush and Commit requests
	stop    chan chan error   // Close request
	done    chan struct{}     // the loop has exited
}

// WriterStats counts what a MetricWriter did.
type WriterStats struct {
	Written int64 // points committed
	Batches int64 // transactions committed
	Pending int   // points waiting
	Dropped int   // points dropped (MaxPending were waiting), not yet reported by a Commit
}

// NewMetricWriter starts a writer; Close it to write the rest and stop it.
func (s *Store) NewMetricWriter(opt WriterOptions) *MetricWriter {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 2000
	}
	if opt.Interval <= 0 {
		opt.Interval = time.Second
	}
	if opt.MaxPending <= 0 {
		opt.MaxPending = 1_000_000
	}
	if opt.GiveUp <= 0 {
		opt.GiveUp = 5 * time.Minute
	}
	w := &MetricWriter{
		s:       s,
		opt:     opt,
		wake:    make(chan struct{}, 1),
		flushes: make(chan flushRequest),
		stop:    make(chan chan error),
		done:    make(chan struct{}),
	}
	go w.loop()
	return w
}

// Log queues one point. A zero Time is set to now. Points logged after Close
// are dropped.
func (w *MetricWriter) Log(m Metric) {
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	if len(w.pending) >= w.opt.MaxPending {
		if w.dropped == nil {
			w.dropped = map[int64]int{}
		}
		w.dropped[m.RunID]++
		w.mu.Unlock()
		return
	}
	w.pending = append(w.pending, m)
	full := len(w.pending) >= w.opt.BatchSize
	w.mu.Unlock()
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// SetProgress records where a run is (step, batch, epoch, speed, newest
// values), written in the next batch's transaction: readers (the TUI, `runs`,
// another host's Live view) see progress as fresh as the metric points,
// and on PostgreSQL are told at once (NOTIFY). Only a running run owned by
// owner (its lease token, or the local process's token) is updated, so a
// worker that lost its run cannot move the new owner's progress.
func (w *MetricWriter) SetProgress(runID int64, owner string, p Progress) {
	p.Latest = maps.Clone(p.Latest)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.progress == nil {
		w.progress = map[int64]progressRow{}
	}
	w.progress[runID] = progressRow{runID: runID, owner: owner, p: p}
}

// Flush writes every point logged before it and waits for the commit.
func (w *MetricWriter) Flush(ctx context.Context) error { return w.flush(ctx, nil) }

// Commit writes every point logged before it and, in the transaction of the
// last of them, records step as the run's checkpoint step (see
// Run.CheckpointStep). The trainer calls it before it renames a checkpoint
// file into place, so a checkpoint never gets ahead of the metric points
// of the steps it covers: a process killed at any moment loses no point
// that a resume from the newest checkpoint would not log again.
func (w *MetricWriter) Commit(ctx context.Context, runID int64, step int) error {
	return w.commit(ctx, &checkpointMark{runID: runID, step: step})
}

// commit flushes with mark, retrying while the database is unreachable
// for at most GiveUp since the first failed write.
func (w *MetricWriter) commit(ctx context.Context, mark *checkpointMark) error {
	for {
		err := w.flush(ctx, mark)
		if err == nil {
			w.mu.Lock()
			n := w.dropped[mark.runID]
			delete(w.dropped, mark.runID)
			w.mu.Unlock()
			if n > 0 {
				return fmt.Errorf("store: checkpoint of run %d at step %d: %d %w while the database was unreachable (more than %d waiting)",
					mark.runID, mark.step, n, ErrPointsDropped, w.opt.MaxPending)
			}
			return nil
		}
		if errors.Is(err, ErrLeaseLost) || errors.Is(err, ErrNotFound) || ctx.Err() != nil {
			return err
		}
		w.mu.Lock()
		since, wait := w.failingSince, w.backoff
		w.mu.Unlock()
		if since.IsZero() || time.Since(since) >= w.opt.GiveUp {
			return fmt.Errorf("store: checkpoint of run %d at step %d: %w for %s: %v", mark.runID, mark.step,
				ErrStoreUnreachable, time.Since(since).Round(time.Second), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(wait, w.opt.GiveUp-time.Since(since))):
		}
	}
}

// CommitLeased is Commit for a leased run: the checkpoint step is recorded
// only while the lease holds (ErrLeaseLost otherwise, and the caller keeps
// its previous checkpoint), so a worker that lost its run cannot move the
// new owner's checkpoint.
func (w *MetricWriter) CommitLeased(ctx context.Context, l Lease, step int) error {
	return w.commit(ctx, &checkpointMark{runID: l.RunID, step: step, owner: l.Token})
}

// checkpointMark is a run's checkpoint step, written with the last points;
// with an owner, only while the run is running with that owner.
type checkpointMark struct {
	runID int64
	step  int
	owner string
}

// sql is the statement that records the mark and its arguments.
func (m *checkpointMark) sql() (string, []any) {
	if m.owner != "" {
		return "UPDATE runs SET checkpoint_step = ? WHERE id = ? AND owner = ? AND status = 'running'", []any{m.step, m.runID, m.owner}
	}
	return "UPDATE runs SET checkpoint_step = ? WHERE id = ?", []any{m.step, m.runID}
}

// missing is the error for a mark that updated no row.
func (m *checkpointMark) missing() error {
	if m.owner != "" {
		return fmt.Errorf("store: record checkpoint step %d of run %d: %w", m.step, m.runID, ErrLeaseLost)
	}
	return fmt.Errorf("store: record checkpoint step %d of run %d: %w", m.step, m.runID, ErrNotFound)
}

// progressRow is one run's progress, written with a batch of points.
type progressRow struct {
	runID int64
	owner string
	p     Progress
}

// sql is the statement that writes the row and its arguments.
func (r progressRow) sql() (string, []any, error) {
	latest, err := encodeLatest(r.p.Latest)
	if err != nil {
		return "", nil, fmt.Errorf("store: progress of run %d: %w", r.runID, err)
	}
	return `UPDATE runs SET step = ?, batch = ?, total_batches = ?, epoch = ?, images_per_sec = ?, latest = ?
		WHERE id = ? AND status = 'running' AND owner = ?`,
		[]any{r.p.Step, r.p.Batch, r.p.TotalBatches, r.p.Epoch, finiteOr0(r.p.ImagesPerSec), latest, r.runID, r.owner}, nil
}

// metricBatch is what one transaction writes: points, and optionally a
// checkpoint mark and the progress of runs.
type metricBatch struct {
	points   []Metric
	mark     *checkpointMark
	progress []progressRow
}

type flushRequest struct {
	mark  *checkpointMark
	reply chan error
}

func (w *MetricWriter) flush(ctx context.Context, mark *checkpointMark) error {
	req := flushRequest{mark: mark, reply: make(chan error, 1)}
	select {
	case w.flushes <- req:
	case <-w.done:
		return errors.New("store: metric writer is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes the remaining points and stops the writer. It returns the
// error of the last write if points could not be written.
func (w *MetricWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	reply := make(chan error, 1)
	w.stop <- reply
	err := <-reply
	<-w.done
	return err
}

// Stats returns counts of what the writer did so far.
func (w *MetricWriter) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	dropped := 0
	for _, n := range w.dropped {
		dropped += n
	}
	return WriterStats{Written: w.written, Batches: w.batches, Pending: len(w.pending), Dropped: dropped}
}

func (w *MetricWriter) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.opt.Interval)
	defer tick.Stop()
	for {
		select {
		case <-w.wake:
			w.writeUnlessBackingOff()
		case <-tick.C:
			w.writeUnlessBackingOff()
		case req := <-w.flushes:
			req.reply <- w.writePending(req.mark)
		case reply := <-w.stop:
			reply <- w.writePending(nil)
			return
		}
	}
}

// writeUnlessBackingOff writes what waits, unless the last write failed
// and its backoff has not passed (flushes and Close always try).
func (w *MetricWriter) writeUnlessBackingOff() {
	w.mu.Lock()
	next := w.nextTry
	w.mu.Unlock()
	if !next.IsZero() && time.Now().Before(next) {
		return
	}
	w.writePending(nil)
}

// failed records a failed write and schedules the next try.
func (w *MetricWriter) failed(err error) {
	now := time.Now()
	w.lastErr = err
	if w.failingSince.IsZero() {
		w.failingSince = now
	}
	w.backoff = min(max(2*w.backoff, w.opt.Interval), maxBackoff)
	w.nextTry = now.Add(w.backoff)
}

// writePending writes everything waiting, in transactions of at most
// BatchSize points; a mark is written in the last one (in a transaction of
// its own when nothing waits). Points of a failed transaction go back to
// the front.
func (w *MetricWriter) writePending(mark *checkpointMark) error {
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	progress := w.progress
	w.progress = nil
	w.mu.Unlock()
	for first := true; first || len(batch) > 0; first = false {
		n := min(len(batch), w.opt.BatchSize)
		b := metricBatch{points: batch[:n]}
		if n == len(batch) { // the last transaction also carries the mark and the progress
			b.mark = mark
			for _, r := range progress {
				b.progress = append(b.progress, r)
			}
		}
		if n == 0 && b.mark == nil && len(b.progress) == 0 {
			return nil
		}
		if err := w.s.db.d.writeMetrics(context.Background(), w.s.db, b); err != nil {
			w.mu.Lock()
			w.pending = append(batch, w.pending...)
			for id, r := range progress { // newer progress set meanwhile wins
				if _, ok := w.progress[id]; !ok {
					if w.progress == nil {
						w.progress = map[int64]progressRow{}
					}
					w.progress[id] = r
				}
			}
			w.failed(err)
			w.mu.Unlock()
			return err
		}
		batch = batch[n:]
		w.mu.Lock()
		w.written += int64(n)
		if n > 0 {
			w.batches++
		}
		w.lastErr = nil
		w.failingSince, w.nextTry, w.backoff = time.Time{}, time.Time{}, 0
		w.mu.Unlock()
	}
	return nil
}

// rowsPerInsert points go into one INSERT statement (6 values each, well
// under SQLite's limit on bound parameters).
const rowsPerInsert = 100

// writeMetrics adds points in one transaction (a point whose run, key and
// step are already stored is skipped), and records mark when not nil.
func (s *Store) writeMetrics(ctx context.Context, ms []Metric, mark *checkpointMark) error {
	return s.db.d.writeMetrics(ctx, s.db, metricBatch{points: ms, mark: mark})
}

// writeMetricsSQL is writeMetrics in plain SQL: multi-row INSERTs of
// rowsPerInsert points, one prepared statement per transaction.
func writeMetricsSQL(ctx context.Context, db *dbx, b metricBatch) error {
	ms, mark := b.points, b.mark
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: write %d metric points: %w", len(ms), err)
	}
	defer tx.Rollback()
	if mark != nil {
		if err := recordCheckpointStep(ctx, tx, mark); err != nil {
			return err
		}
	}
	for _, r := range b.progress {
		q, args, err := r.sql()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: progress of run %d: %w", r.runID, err)
		}
	}
	if len(ms) == 0 {
		return commitMetrics(tx)
	}
	full, err := tx.PrepareContext(ctx, insertMetrics(rowsPerInsert))
	if err != nil {
		return fmt.Errorf("store: write %d metric points: %w", len(ms), err)
	}
	defer full.Close()
	args := make([]any, 0, 6*rowsPerInsert)
	for len(ms) > 0 {
		n := min(len(ms), rowsPerInsert)
		args = args[:0]
		for _, m := range ms[:n] {
			args = append(args, m.RunID, m.Key, m.Step, m.Epoch, nullFloat(m.Value), m.Time.UnixMilli())
		}
		if n == rowsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertMetrics(n), args...)
		}
		if err != nil {
			return fmt.Errorf("store: write metric points of run %d: %w", ms[0].RunID, err)
		}
		ms = ms[n:]
	}
	return commitMetrics(tx)
}

func commitMetrics(tx *txx) error {
	fault.Point(fault.MetricsBeforeCommit)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit metric points: %w", err)
	}
	return nil
}

// recordCheckpointStep writes a run's checkpoint step in tx.
func recordCheckpointStep(ctx context.Context, tx *txx, mark *checkpointMark) error {
	q, args := mark.sql()
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: record checkpoint step %d of run %d: %w", mark.step, mark.runID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mark.missing()
	}
	return nil
}

func insertMetrics(rows int) string {
	return "INSERT INTO metrics (run_id, key, step, epoch, value, time) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", rows), ", ") +
		" ON CONFLICT (run_id, key, step) DO NOTHING"
}

// LogMetrics writes points at once in one transaction, bypassing any
// MetricWriter (for tests, imports and small one-off writes).
func (s *Store) LogMetrics(ctx context.Context, ms []Metric) error {
	for i := range ms {
		if ms[i].Time.IsZero() {
			ms[i].Time = time.Now()
		}
	}
	for len(ms) > 0 {
		n := min(len(ms), 5000)
		if err := s.writeMetrics(ctx, ms[:n], nil); err != nil {
			return err
		}
		ms = ms[n:]
	}
	return nil
}
