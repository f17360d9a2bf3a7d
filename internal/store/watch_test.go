package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Progress set on the metric writer lands with the next batch of points,
// only for the run's owner, and on PostgreSQL is announced to watchers.
func TestProgressTravelsWithMetricsAndIsAnnounced(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "live")
	ids := queueRuns(t, s, "live", 1)
	run, lease, err := s.ClaimRun(ctx, worker, ClaimFilter{})
	if err != nil || run.ID != ids[0] {
		t.Fatalf("claim: %v %v", run.ID, err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	changes := s.Watch(wctx)
	if (changes != nil) != (s.Backend() == "postgres") {
		t.Fatalf("%s: Watch = %v", s.Backend(), changes)
	}
	drain(changes)

	w := s.NewMetricWriter(WriterOptions{Interval: time.Hour})
	defer w.Close()
	w.Log(Metric{RunID: run.ID, Key: "loss.ce4", Step: 40, Epoch: 2, Value: 1.25})
	w.SetProgress(run.ID, lease.Token, Progress{Step: 40, Batch: 20, TotalBatches: 80, Epoch: 2, ImagesPerSec: 310,
		Latest: map[string]float64{"loss.ce4": 1.25}})
	w.SetProgress(run.ID, "someone-else", Progress{Step: 999}) // replaced: the newest per run wins
	w.SetProgress(run.ID, lease.Token, Progress{Step: 40, Batch: 20, TotalBatches: 80, Epoch: 2, ImagesPerSec: 310,
		Latest: map[string]float64{"loss.ce4": 1.25}})
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Progress
	if p.Step != 40 || p.Batch != 20 || p.TotalBatches != 80 || p.Epoch != 2 || p.ImagesPerSec != 310 || p.Latest["loss.ce4"] != 1.25 {
		t.Fatalf("progress after a batch: %+v", p)
	}
	if changes != nil {
		select {
		case <-changes:
		case <-time.After(5 * time.Second):
			t.Fatal("no notice of the run's progress within 5 s")
		}
	}

	// A writer that is not the owner (a worker that lost the run) moves nothing.
	w.SetProgress(run.ID, "a-zombie", Progress{Step: 7, Batch: 3})
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Run(ctx, run.ID); got.Progress.Step != 40 {
		t.Fatalf("a non-owner moved the progress to %+v", got.Progress)
	}

	// Ending the run is announced too.
	drain(changes)
	if err := s.EndLeased(ctx, lease, End{Status: Finished}); err != nil {
		t.Fatal(err)
	}
	if changes != nil {
		select {
		case <-changes:
		case <-time.After(5 * time.Second):
			t.Fatal("no notice of the run's end within 5 s")
		}
	}
	stop()
	if changes != nil {
		for range changes { // closed when the watch ends
		}
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// A checkpoint under the artifacts directory is recorded relative to it:
// a store opened with the same runs and another mount point of the shared
// directory resolves it there.
func TestArtifactPathsAreRelativeToTheArtifactsDirectory(t *testing.T) {
	loc := newLocation(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	a, err := openAt(t, loc, Options{Artifacts: dirA})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ids := queueRuns(t, a, "moved", 1)
	ckpt := a.CheckpointPath(ids[0])
	outside := filepath.Join(t.TempDir(), "elsewhere.png")
	for _, p := range []string{ckpt, outside} {
		if _, err := a.AddArtifact(ctx, Artifact{RunID: ids[0], Kind: ArtifactCheckpoint, Path: p}); err != nil {
			t.Fatal(err)
		}
	}
	var stored []string
	rows, err := a.db.Query("SELECT path FROM artifacts WHERE run_id = ? ORDER BY id", ids[0])
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		rows.Scan(&p)
		stored = append(stored, p)
	}
	rows.Close()
	if len(stored) != 2 || filepath.IsAbs(stored[0]) || stored[1] != outside {
		t.Fatalf("recorded paths %q: want the checkpoint relative, the outside file absolute", stored)
	}
	b, err := openAt(t, loc, Options{Artifacts: dirB, NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	arts, err := b.Artifacts(ctx, ids[0])
	if err != nil || len(arts) != 2 || arts[0].Path != b.CheckpointPath(ids[0]) || arts[1].Path != outside {
		t.Fatalf("artifacts seen from another mount: %+v, %v", arts, err)
	}
	if err := b.RemoveFileArtifacts(ctx, ids[0], ArtifactCheckpoint, b.CheckpointPath(ids[0])); err != nil {
		t.Fatal(err)
	}
	if arts, _ := b.Artifacts(ctx, ids[0]); len(arts) != 1 {
		t.Fatalf("after removing the checkpoint record: %+v", arts)
	}
}
