package store

import (
	"errors"
	"testing"
)

// A cancelled queued run is never claimed; a cancelled running one's
// worker loses its lease (heartbeat, checkpoint and end are refused).
func TestCancelQueuedAndLeasedRuns(t *testing.T) {
	s := openTemp(t)
	ids := queueRuns(t, s, "c", 3)
	_, lease, err := s.ClaimRun(ctx, worker, ClaimFilter{IDs: ids[:1]})
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewMetricWriter(WriterOptions{})
	defer w.Close()
	w.Log(Metric{RunID: ids[0], Key: "loss.ce4", Step: 1, Value: 1})
	if err := w.CommitLeased(ctx, lease, 1); err != nil {
		t.Fatal(err)
	}
	stopped, err := s.Cancel(ctx, ids[:2], "cancelled by test")
	if err != nil || len(stopped) != 2 {
		t.Fatalf("cancel: %v, %v", stopped, err)
	}
	for _, id := range ids[:2] {
		r, _ := s.Run(ctx, id)
		if r.Status != Interrupted || r.Error != "cancelled by test" {
			t.Fatalf("run %d after cancel: %s %q", id, r.Status, r.Error)
		}
	}
	if err := s.Renew(ctx, lease, Progress{Step: 2}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("heartbeat of a cancelled run: %v, want ErrLeaseLost", err)
	}
	if err := w.CommitLeased(ctx, lease, 2); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("checkpoint of a cancelled run: %v, want ErrLeaseLost", err)
	}
	if err := s.EndLeased(ctx, lease, End{Status: Finished}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("end of a cancelled run: %v, want ErrLeaseLost", err)
	}
	if r, _ := s.Run(ctx, ids[0]); r.CheckpointStep != 1 {
		t.Fatalf("checkpoint step after cancel: %d, want the committed 1", r.CheckpointStep)
	}
	r, _, err := s.ClaimRun(ctx, worker, ClaimFilter{})
	if err != nil || r.ID != ids[2] {
		t.Fatalf("claim after cancel: run %d, %v; want only the uncancelled run %d", r.ID, err, ids[2])
	}
	if again, err := s.Cancel(ctx, ids[:1], "twice"); err != nil || len(again) != 0 {
		t.Fatalf("cancelling an interrupted run: %v, %v", again, err)
	}
	if err := s.Requeue(ctx, ids[0]); err != nil {
		t.Fatalf("a cancelled run can be queued again: %v", err)
	}
}
