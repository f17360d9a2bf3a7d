package runner

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/store"
)

func newTestWorker(st *store.Store, f *fakeTrainer, pid int, log *syncBuffer) *Worker {
	prov := testProv
	prov.PID = pid
	opt := WorkerOptions{Train: f.train, Provenance: &prov, IdleExit: 200 * time.Millisecond,
		Poll: 10 * time.Millisecond, Heartbeat: 10 * time.Millisecond,
		Writer: store.WriterOptions{Interval: 10 * time.Millisecond}}
	if log != nil {
		opt.Log = log
	}
	return NewWorker(st, opt)
}

// TestWorkersShareAQueue: runs enqueued for workers are each trained once
// by two workers working at the same time; enqueueing again reuses them.
func TestWorkersShareAQueue(t *testing.T) {
	st := openStore(t)
	f := newFake()
	js := jobs("q", []int64{1, 2, 3}, "", "diverge")
	plan, err := Enqueue(bg, st, store.Study{Name: "q", Spec: "x"}, js, false)
	if err != nil || len(plan.Queued) != 6 {
		t.Fatalf("enqueue: %+v, %v", plan, err)
	}
	var wg sync.WaitGroup
	stats := make([]WorkerStats, 2)
	for i := range stats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if stats[i], err = newTestWorker(st, f, 5000+i, &syncBuffer{b: &bytes.Buffer{}}).Run(bg); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := stats[0].Runs + stats[1].Runs; n != 6 || f.callCount() != 6 {
		t.Fatalf("workers claimed %d runs (%+v), trainer called %d times; want 6", n, stats, f.callCount())
	}
	runs, _ := st.Runs(bg, store.RunFilter{Study: "q"})
	for _, r := range runs {
		want := store.Finished
		if r.Variant == "diverge" {
			want = store.Diverged
		}
		if r.Status != want || r.Attempts != 1 {
			t.Errorf("run %d %s: %s after %d attempts", r.ID, r.Variant, r.Status, r.Attempts)
		}
	}
	again, err := Enqueue(bg, st, store.Study{Name: "q", Spec: "x"}, js, false)
	if err != nil || len(again.Reused) != 6 || len(again.Queued) != 0 {
		t.Fatalf("second enqueue: %+v, %v", again, err)
	}
}

// TestWorkerStopReleasesTheRun: a worker told to stop mid-run checkpoints
// and puts the run back in the queue; another worker continues it from the
// checkpoint.
func TestWorkerStopReleasesTheRun(t *testing.T) {
	st := openStore(t)
	f := newFake()
	if _, err := Enqueue(bg, st, store.Study{Name: "q", Spec: "x"}, jobs("q", []int64{1}, "block"), false); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(bg)
	done := make(chan WorkerStats)
	go func() {
		s, _ := newTestWorker(st, f, 6001, nil).Run(ctx)
		done <- s
	}()
	<-f.blocked
	stop()
	if s := <-done; s.Released != 1 {
		t.Fatalf("stopped worker: %+v, want the run released", s)
	}
	runs, _ := st.Runs(bg, store.RunFilter{Study: "q"})
	if len(runs) != 1 || runs[0].Status != store.Queued {
		t.Fatalf("after the stop: %+v", runs)
	}
	// The second worker sees a "block" run too; unblock it by stopping
	// only after it has resumed past the checkpoint.
	f2 := newFake()
	ctx2, stop2 := context.WithCancel(bg)
	defer stop2()
	go func() {
		<-f2.blocked
		stop2()
	}()
	newTestWorker(st, f2, 6002, nil).Run(ctx2)
	if len(f2.calls) != 1 || !f2.calls[0].resume || f2.calls[0].fromBatch == 0 {
		t.Fatalf("second worker's call %+v: want a resume from the checkpoint", f2.calls)
	}
}

// TestDeadWorkersRunIsRequeued: a run whose worker stopped renewing its
// lease is queued again by the next worker, which finishes it; the dead
// worker's late end is refused.
func TestDeadWorkersRunIsRequeued(t *testing.T) {
	st := openStore(t)
	f := newFake()
	if _, err := Enqueue(bg, st, store.Study{Name: "q", Spec: "x"}, jobs("q", []int64{1}, ""), false); err != nil {
		t.Fatal(err)
	}
	dead := testProv
	dead.PID = 7001
	_, lease, err := st.ClaimRun(bg, dead, store.ClaimFilter{})
	if err != nil {
		t.Fatal(err)
	}
	w := newTestWorker(st, f, 7002, nil)
	// The grace period is longer than the idle exit: the worker must wait
	// for the dead worker's lease to expire instead of leaving.
	w.opt.Grace = 600 * time.Millisecond
	w.opt.IdleExit = 100 * time.Millisecond
	time.Sleep(50 * time.Millisecond)
	if s, err := w.Run(bg); err != nil || s.Finished != 1 {
		t.Fatalf("live worker: %+v, %v", s, err)
	}
	if err := st.EndLeased(bg, lease, store.End{Status: store.Failed, Error: "late"}); err == nil {
		t.Fatal("the dead worker's late end was accepted")
	}
	if r, _ := st.Run(bg, lease.RunID); r.Status != store.Finished || r.Attempts != 2 {
		t.Fatalf("run: %s after %d attempts", r.Status, r.Attempts)
	}
}

// TestConcurrentPlannersCreateEachRunOnce: four `submit`s of the same study
// at the same moment, each through its own connection, queue every run
// once; the later ones find them queued (Busy) and add nothing.
func TestConcurrentPlannersCreateEachRunOnce(t *testing.T) {
	st := openStore(t)
	js := jobs("q", []int64{1, 2, 3, 4, 5}, "", "diverge")
	const planners = 4
	plans := make([]Plan, planners)
	var wg sync.WaitGroup
	for i := range planners {
		own, err := store.OpenWith(st.Path(), store.Options{NoRecover: true})
		if err != nil {
			t.Fatal(err)
		}
		defer own.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if plans[i], err = Enqueue(bg, own, store.Study{Name: "q", Spec: "x"}, js, false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	queued, busy := 0, 0
	for _, p := range plans {
		queued += len(p.Queued)
		busy += len(p.Busy)
	}
	runs, _ := st.Runs(bg, store.RunFilter{Study: "q"})
	if len(runs) != len(js) || queued != len(js) || busy != (planners-1)*len(js) {
		t.Fatalf("%d planners: %d runs stored, %d queued, %d busy; want %d runs, each queued once", planners, len(runs), queued, busy, len(js))
	}
}

// TestCancelStopsAWorkersRun: `workbench cancel` of a run a worker is
// training (store.Cancel) stops it at the worker's next heartbeat; the run
// stays interrupted (the worker's end is refused) and can be resumed.
func TestCancelStopsAWorkersRun(t *testing.T) {
	st := openStore(t)
	f := newFake()
	if _, err := Enqueue(bg, st, store.Study{Name: "q", Spec: "x"}, jobs("q", []int64{1}, "block"), false); err != nil {
		t.Fatal(err)
	}
	done := make(chan WorkerStats)
	go func() {
		s, _ := newTestWorker(st, f, 6101, nil).Run(bg)
		done <- s
	}()
	<-f.blocked
	runs, _ := st.Runs(bg, store.RunFilter{Study: "q"})
	if stopped, err := st.Cancel(bg, []int64{runs[0].ID}, "interrupted: cancelled"); err != nil || len(stopped) != 1 {
		t.Fatalf("cancel: %v %v", stopped, err)
	}
	select {
	case s := <-done:
		if s.Lost != 1 {
			t.Fatalf("worker after the cancel: %+v, want the run lost to it", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the worker kept training a cancelled run")
	}
	r, _ := st.Run(bg, runs[0].ID)
	if r.Status != store.Interrupted || r.Error != "interrupted: cancelled" {
		t.Fatalf("cancelled run: %s %q", r.Status, r.Error)
	}
}
