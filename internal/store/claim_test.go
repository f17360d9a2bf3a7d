package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// queueRuns creates n queued runs of study that no process owns (as
// `workbench submit` leaves them).
func queueRuns(t testing.TB, s *Store, study string, n int) []int64 {
	t.Helper()
	mustStudy(t, s, study)
	ids := make([]int64, n)
	for i := range ids {
		id, err := s.CreateRun(ctx, NewRun{Study: study, Variant: "v", Seed: int64(i), Config: "{}",
			ConfigHash: fmt.Sprintf("%s-%d", study, i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

var worker = Provenance{Host: "node7", PID: 99, GoVersion: "go-test", CodeVersion: "c1", BLAS: "SkylakeX"}

func TestClaimLifecycle(t *testing.T) {
	s := openTemp(t)
	if _, _, err := s.ClaimRun(ctx, worker, ClaimFilter{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("claim from an empty queue: %v, want ErrNotFound", err)
	}
	ids := queueRuns(t, s, "q", 3)
	other := queueRuns(t, s, "other", 1)
	r, l, err := s.ClaimRun(ctx, worker, ClaimFilter{Studies: []string{"q"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != ids[0] || r.Status != Running || r.Host != "node7" || r.BLAS != "SkylakeX" || r.Attempts != 1 || l.Attempt != 1 || l.RunID != r.ID {
		t.Fatalf("claimed %+v with %+v, want the oldest queued run of q, running, attempt 1", r, l)
	}
	if err := s.Renew(ctx, l, Progress{Step: 5, Batch: 2, TotalBatches: 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.EndLeased(ctx, l, End{Status: Finished, Summaries: map[string]float64{"acc.S4": 50}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Run(ctx, r.ID); got.Status != Finished || got.Progress.Step != 5 {
		t.Fatalf("after EndLeased: %s step %d", got.Status, got.Progress.Step)
	}

	// The stale sweep leaves leased runs to their leases, even when their
	// worker looks dead.
	queueRuns(t, s, "held", 1)
	_, held, err := s.ClaimRun(ctx, worker, ClaimFilter{Studies: []string{"held"}})
	if err != nil {
		t.Fatal(err)
	}
	if marked, err := s.RecoverStale(ctx, StaleOptions{After: -time.Second, Host: "node7", Alive: func(int) bool { return false }}); err != nil || len(marked) != 0 {
		t.Fatalf("stale sweep marked %v (%v), want none: leased runs are requeued by lease expiry", marked, err)
	}
	if err := s.EndLeased(ctx, held, End{Status: Finished}); err != nil {
		t.Fatal(err)
	}

	// A lease that expires is lost: the run goes back to the queue, the
	// next claim owns it, and the old lease's writes are refused.
	_, old, err := s.ClaimRun(ctx, worker, ClaimFilter{Studies: []string{"q"}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.SuspectLeases(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("suspect leases with a fresh heartbeat: %d, %v", n, err)
	}
	if n, err := s.SuspectLeases(ctx, -time.Second); err != nil || n != 1 {
		t.Fatalf("suspect leases: %d, %v; want the one claimed run", n, err)
	}
	requeued, failed, err := s.RequeueExpired(ctx, -time.Second, 0)
	if err != nil || len(requeued) != 1 || requeued[0] != old.RunID || len(failed) != 0 {
		t.Fatalf("requeue: %v %v %v, want [%d] requeued", requeued, failed, err, old.RunID)
	}
	r2, l2, err := s.ClaimRun(ctx, worker, ClaimFilter{Studies: []string{"q"}})
	if err != nil || r2.ID != old.RunID || l2.Attempt != 2 || l2.Token == old.Token {
		t.Fatalf("reclaim: %+v %+v %v", r2, l2, err)
	}
	for what, err := range map[string]error{
		"renew":   s.Renew(ctx, old, Progress{Step: 99}),
		"end":     s.EndLeased(ctx, old, End{Status: Failed, Error: "zombie"}),
		"release": s.Release(ctx, old, "zombie"),
	} {
		if !errors.Is(err, ErrLeaseLost) {
			t.Errorf("%s with a lost lease: %v, want ErrLeaseLost", what, err)
		}
	}
	if got, _ := s.Run(ctx, r2.ID); got.Status != Running || got.Progress.Step == 99 {
		t.Fatalf("a zombie's write landed: %s step %d", got.Status, got.Progress.Step)
	}

	// Release: back to the queue for another worker, from its checkpoint.
	if err := s.Release(ctx, l2, "stopped by SIGTERM"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Run(ctx, r2.ID); got.Status != Queued || got.Error != "stopped by SIGTERM" {
		t.Fatalf("after Release: %s %q", got.Status, got.Error)
	}
	// Nobody owns a released run: the stale sweep leaves it queued.
	if marked, err := s.RecoverStale(ctx, StaleOptions{After: -time.Second}); err != nil || len(marked) != 0 {
		t.Fatalf("stale sweep marked %v (%v), want none", marked, err)
	}

	// Its worker dies under it again and again: queued again until the
	// DefaultMaxAttempts-th lost lease (the first was above), then failed.
	for lost := 2; ; lost++ {
		if _, _, err := s.ClaimRun(ctx, worker, ClaimFilter{Studies: []string{"q"}}); err != nil {
			t.Fatal(err)
		}
		requeued, failed, err := s.RequeueExpired(ctx, -time.Second, 0)
		if err != nil {
			t.Fatal(err)
		}
		if lost < DefaultMaxAttempts {
			if len(requeued) != 1 || len(failed) != 0 {
				t.Fatalf("lost lease %d: requeued %v, failed %v", lost, requeued, failed)
			}
			continue
		}
		if len(failed) != 1 || failed[0] != r2.ID {
			t.Fatalf("lost lease %d: failed %v, want [%d]", lost, failed, r2.ID)
		}
		break
	}
	if got, _ := s.Run(ctx, r2.ID); got.Status != Failed || got.Ended.IsZero() || !strings.Contains(got.Error, "died 3 times") {
		t.Fatalf("after the last lost lease: %s %q", got.Status, got.Error)
	}
	// Queued again by a resubmit, it gets a fresh count.
	if err := s.Requeue(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimRun(ctx, worker, ClaimFilter{Studies: []string{"q"}}); err != nil {
		t.Fatal(err)
	}
	if requeued, _, err := s.RequeueExpired(ctx, -time.Second, 0); err != nil || len(requeued) != 1 {
		t.Fatalf("after a resubmit: requeued %v, %v", requeued, err)
	}
	// A run queued by a local runner (it has an owner) is not for workers.
	local := queueRuns(t, s, "local", 1)[0]
	if _, err := s.db.Exec("UPDATE runs SET owner = ? WHERE id = ?", ProcessToken, local); err != nil {
		t.Fatal(err)
	}
	if r, _, err := s.ClaimRun(ctx, worker, ClaimFilter{Studies: []string{"local"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a worker claimed the local runner's run %d: %v", r.ID, err)
	}
	// The filter keeps other studies' runs.
	if r, _, err := s.ClaimRun(ctx, worker, ClaimFilter{Studies: []string{"other"}}); err != nil || r.ID != other[0] {
		t.Fatalf("claim of study other: %+v %v", r, err)
	}
}

// TestClaimsAreExclusive: workers claiming concurrently from one queue take
// every run exactly once.
func TestClaimsAreExclusive(t *testing.T) {
	s := openTemp(t)
	const runs, workers = 200, 8
	queueRuns(t, s, "q", runs)
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := worker
			p.PID = 1000 + w
			for {
				r, l, err := s.ClaimRun(ctx, p, ClaimFilter{})
				if errors.Is(err, ErrNotFound) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				if err := s.EndLeased(ctx, l, End{Status: Finished}); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got = append(got, r.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("run %d claimed twice", got[i])
		}
	}
	if len(got) != runs {
		t.Fatalf("%d runs claimed, want %d", len(got), runs)
	}
	t.Logf("%s: %d runs claimed and ended by %d workers in %s (%.0f claims/s)", s.Backend(), runs, workers,
		time.Since(start).Round(time.Millisecond), runs/time.Since(start).Seconds())
}

// BenchmarkDrainQueue: 16 workers with a no-op trainer drain 2,000 queued
// runs (claim, then end through the lease): claims/s, and every run taken
// once.
func BenchmarkDrainQueue(b *testing.B) {
	const runs, workers = 2000, 16
	for range b.N {
		b.StopTimer()
		s := openTemp(b)
		queueRuns(b, s, "q", runs)
		b.StartTimer()
		start := time.Now()
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := worker
				p.PID = 2000 + w
				for {
					r, l, err := s.ClaimRun(ctx, p, ClaimFilter{})
					if errors.Is(err, ErrNotFound) {
						return
					}
					if err != nil {
						b.Error(err)
						return
					}
					if err := s.EndLeased(ctx, l, End{Status: Finished}); err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					seen[r.ID]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(runs/time.Since(start).Seconds(), "claims/s")
		dups := 0
		for _, n := range seen {
			dups += n - 1
		}
		if len(seen) != runs || dups != 0 {
			b.Fatalf("%d runs claimed, %d duplicates; want %d, 0", len(seen), dups, runs)
		}
	}
}
