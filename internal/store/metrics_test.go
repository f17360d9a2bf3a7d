package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func countMetrics(t testing.TB, s *Store, run int64) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM metrics WHERE run_id = ?", run).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMetricWriterBatches(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "x")
	id := mustRun(t, s, "x", "v", 1, nil)
	w := s.NewMetricWriter(WriterOptions{BatchSize: 100, Interval: time.Hour})

	// A full batch is written without waiting for the interval.
	for i := range 250 {
		w.Log(Metric{RunID: id, Key: "loss.ce4", Step: i, Value: float64(i)})
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.Stats().Written < 200 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := w.Stats(); st.Written < 200 || st.Batches < 2 {
		t.Fatalf("after 250 points with batch size 100: %+v", st)
	}
	// Flush writes the rest, in transactions of at most BatchSize points
	// (how the first 200 were split depends on when the writer woke).
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Written != 250 || st.Pending != 0 || st.Batches < 3 {
		t.Fatalf("after flush: %+v, want 250 points in at least 3 batches", st)
	}
	if n := countMetrics(t, s, id); n != 250 {
		t.Fatalf("%d points in the db, want 250", n)
	}
	w.Log(Metric{RunID: id, Key: "lr", Step: 1, Value: 1e-3})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Log(Metric{RunID: id, Key: "lr", Step: 2, Value: 1e-3}) // after Close: dropped
	if n := countMetrics(t, s, id); n != 251 {
		t.Fatalf("%d points after close, want 251", n)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := w.Flush(ctx); err == nil {
		t.Fatal("flush after close succeeded")
	}
}

func TestMetricWriterInterval(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "x")
	id := mustRun(t, s, "x", "v", 1, nil)
	w := s.NewMetricWriter(WriterOptions{BatchSize: 1000, Interval: 20 * time.Millisecond})
	defer w.Close()
	w.Log(Metric{RunID: id, Key: "loss.ce4", Step: 1, Value: 1})
	deadline := time.Now().Add(5 * time.Second)
	for countMetrics(t, s, id) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a lone point was not written within the interval")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetricWriterKeepsPointsOnError(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "x")
	id := mustRun(t, s, "x", "v", 1, nil)
	w := s.NewMetricWriter(WriterOptions{Interval: time.Hour})
	w.Log(Metric{RunID: 999, Key: "loss.ce4", Step: 1, Value: 1}) // no such run: the foreign key fails
	err := w.Flush(ctx)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "foreign key") {
		t.Fatalf("flush of a point of a missing run: %v", err)
	}
	if st := w.Stats(); st.Pending != 1 || st.Written != 0 {
		t.Fatalf("failed point not kept: %+v", st)
	}
	if err := w.Close(); err == nil {
		t.Fatal("close did not report the failing write")
	}
	_ = id
}

// TestReaderBesideWriter is the TUI beside a training run: one process logs
// 100,000 points through a MetricWriter and heartbeats while another opens
// the same file and queries it continuously. Nothing may fail with
// "database is locked".
func TestReaderBesideWriter(t *testing.T) {
	path := newLocation(t)
	w, err := openAt(t, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mustStudy(t, w, "table9")
	id := mustRun(t, w, "table9", "two-step", 1, nil)
	if err := w.StartRun(ctx, id, me); err != nil {
		t.Fatal(err)
	}
	reader, err := openAt(t, path, Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	const total = 100_000
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	var reads atomic.Int64
	wg.Add(2)
	go func() { // the reader: what the TUI polls
		defer wg.Done()
		for !done.Load() {
			if _, err := reader.Live(ctx, RunFilter{}); err != nil {
				errs <- err
				return
			}
			if _, err := reader.Series(ctx, []int64{id}, []string{"loss.ce4"}, 200); err != nil {
				errs <- err
				return
			}
			if _, err := reader.Studies(ctx); err != nil {
				errs <- err
				return
			}
			reads.Add(1)
		}
	}()
	go func() { // the runner's heartbeat, writing beside the metric writer
		defer wg.Done()
		for i := 0; !done.Load(); i++ {
			if _, err := w.Heartbeat(ctx, me.Host, me.PID, []Beat{{RunID: id, Progress: Progress{Step: i}}}); err != nil {
				errs <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	mw := w.NewMetricWriter(WriterOptions{})
	keys := []string{"loss.ce3", "loss.ce4", "loss.kd", "lr"}
	for i := range total {
		mw.Log(Metric{RunID: id, Key: keys[i%len(keys)], Step: i / len(keys), Epoch: 1, Value: float64(i)})
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	// Keep reading a little after the last write so both sides overlap fully.
	time.Sleep(50 * time.Millisecond)
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent access failed: %v", err)
	}
	if n := countMetrics(t, reader, id); n != total {
		t.Fatalf("%d points readable, want %d", n, total)
	}
	if counts, err := reader.CountMetrics(ctx, id, 999); err != nil || counts[id] != total || counts[999] != 0 {
		t.Fatalf("CountMetrics: %v, %v", counts, err)
	}
	if res, err := reader.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q, %v", res, err)
	}
	if reads.Load() == 0 {
		t.Fatal("the reader never completed a round")
	}
	t.Logf("%d points written in %d transactions; %d reader rounds meanwhile", total, mw.Stats().Batches, reads.Load())
}

// BenchmarkMetricWriter reports points/s into runs.db, batched (the
// MetricWriter) against its peer, one transaction per point.
func BenchmarkMetricWriter(b *testing.B) {
	for _, bc := range []struct {
		name  string
		batch int
	}{{"batched", 0}, {"tx-per-point", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openTemp(b)
			mustStudy(b, s, "bench")
			id := mustRun(b, s, "bench", "v", 1, nil)
			w := s.NewMetricWriter(WriterOptions{BatchSize: bc.batch})
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				w.Log(Metric{RunID: id, Key: "loss.ce4", Step: i, Epoch: 1, Value: float64(i)})
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "points/s")
		})
	}
}

// TestPointsAreUniquePerRunKeyStep: a point logged again (a resumed run
// redoing steps after its checkpoint) is skipped; the first value stays.
func TestPointsAreUniquePerRunKeyStep(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "x")
	id := mustRun(t, s, "x", "a", 1, nil)
	w := s.NewMetricWriter(WriterOptions{BatchSize: 3})
	for round := range 3 {
		for step := 1; step <= 10; step++ {
			w.Log(Metric{RunID: id, Key: "loss.ce4", Step: step, Value: float64(100*round + step)})
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	series, err := s.Series(ctx, []int64{id}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := countMetrics(t, s, id); n != 10 || len(series) != 1 || series[0].Points[9].Value != 10 {
		t.Fatalf("%d rows, series %+v: want 10 points with the first values", n, series)
	}
}

// TestCommitRecordsCheckpointStep: Commit writes every waiting point and the
// checkpoint step in one transaction, also when no point waits.
func TestCommitRecordsCheckpointStep(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "x")
	id := mustRun(t, s, "x", "a", 1, nil)
	w := s.NewMetricWriter(WriterOptions{BatchSize: 1 << 20, Interval: time.Hour})
	defer w.Close()
	for step := 1; step <= 25; step++ {
		w.Log(Metric{RunID: id, Key: "lr", Step: step, Value: 1})
	}
	if r, _ := s.Run(ctx, id); r.CheckpointStep != -1 || countMetrics(t, s, id) != 0 {
		t.Fatalf("before Commit: checkpoint step %d, %d points", r.CheckpointStep, countMetrics(t, s, id))
	}
	if err := w.Commit(ctx, id, 25); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Run(ctx, id); r.CheckpointStep != 25 || countMetrics(t, s, id) != 25 {
		t.Fatalf("after Commit: checkpoint step %d, %d points", r.CheckpointStep, countMetrics(t, s, id))
	}
	if err := w.Commit(ctx, id, 30); err != nil { // nothing waits
		t.Fatal(err)
	}
	if r, _ := s.Run(ctx, id); r.CheckpointStep != 30 {
		t.Fatalf("checkpoint step %d, want 30", r.CheckpointStep)
	}
	if err := w.Commit(ctx, id+100, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("commit for a missing run: %v, want ErrNotFound", err)
	}
}

// BenchmarkIngest16Workers is 16 workers logging into one store at once,
// each with its own MetricWriter (as separate processes would have): the
// points/s the store takes, and how long one Log call (what the trainer
// pays per point) takes meanwhile.
func BenchmarkIngest16Workers(b *testing.B) {
	const workers = 16
	s := openTemp(b)
	mustStudy(b, s, "ingest")
	ids := make([]int64, workers)
	for i := range ids {
		ids[i] = mustRun(b, s, "ingest", fmt.Sprintf("w%d", i), int64(i), nil)
	}
	per := max(1, b.N/workers)
	var logged atomic.Int64 // nanoseconds spent inside Log
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mw := s.NewMetricWriter(WriterOptions{})
			for i := range per {
				t0 := time.Now()
				mw.Log(Metric{RunID: ids[w], Key: "loss.ce4", Step: i, Epoch: 1, Value: float64(i)})
				logged.Add(int64(time.Since(t0)))
			}
			if err := mw.Close(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	total := per * workers
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "points/s")
	b.ReportMetric(float64(logged.Load())/float64(total), "ns/Log")
}

// BenchmarkLog is what the trainer pays per point: one Log call, while the
// writer commits earlier points in the background.
func BenchmarkLog(b *testing.B) {
	s := openTemp(b)
	mustStudy(b, s, "log")
	id := mustRun(b, s, "log", "v", 1, nil)
	w := s.NewMetricWriter(WriterOptions{})
	b.ResetTimer()
	for i := range b.N {
		w.Log(Metric{RunID: id, Key: "loss.ce4", Step: i, Epoch: 1, Value: float64(i)})
	}
	b.StopTimer()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
