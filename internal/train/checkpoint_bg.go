package train

import (
	"fmt"
	"maps"
	"time"
)

// Checkpoints in the background. Writing one is gob-encoding ~6 MB (the
// weights and AdamW's two moments of the reference resnet), writing and
// fsyncing the file, committing the run's metric points and renaming: in a
// quick run about 13 of them, 0.14 s of CPU and 0.2–0.5 s of wall time each,
// with training stopped and the cores idle for the fsync. Instead, the
// trainer copies its state (a few milliseconds) and a goroutine writes the
// copy while training goes on. At most one write is in flight: the next
// checkpoint waits for it, so checkpoints reach the disk in order, and its
// error stops the run at the next checkpoint (or at the run's end) instead
// of at once. What a checkpoint holds and how it is written do not change
// (the same writeCheckpoint), nor what the run computes.
//
// The final checkpoint and the one written on interruption stay synchronous
// (after waiting for the one in flight): the caller reads them as soon as
// the run returns.
type bgCheckpoint struct {
	done  chan error      // the write in flight; nil when none
	spare *checkpointFile // the buffers of the last finished write, reused
	last  *checkpointFile // the copy being written
}

// checkpointSoon starts writing the run's checkpoint in the background,
// after the previous background write has finished; it returns that write's
// error, if any.
func (t *trainer) checkpointSoon() error {
	path := t.opt.CheckpointPath
	if path == "" {
		return nil
	}
	if err := t.checkpointWait(); err != nil {
		return err
	}
	f := t.snapshot(t.bg.spare)
	t.bg.spare = nil
	commit := func() error { return nil }
	if t.opt.Commit != nil {
		step, c := t.st.Step, t.opt.Commit
		commit = func() error { return c(step) }
	}
	done := make(chan error, 1)
	t.bg.done, t.bg.last = done, f
	go func() {
		if err := writeCheckpoint(path, f, commit); err != nil {
			done <- fmt.Errorf("checkpoint %s: %w", path, err)
			return
		}
		done <- nil
	}()
	return nil
}

// checkpointWait waits for the background write in flight, if any, and
// returns its error.
func (t *trainer) checkpointWait() error {
	if t.bg.done == nil {
		return nil
	}
	err := <-t.bg.done
	t.bg.done = nil
	t.bg.spare, t.bg.last = t.bg.last, nil
	return err
}

// snapshot is the checkpoint of the run's state now (what checkpoint
// writes), copied so that training can go on while it is written; it
// reuses the buffers of f when f is not nil.
func (t *trainer) snapshot(f *checkpointFile) *checkpointFile {
	if f == nil {
		f = &checkpointFile{}
	}
	f.Format, f.Config, f.Fingerprint, f.Classes = checkpointFormat, t.cfg, t.ds.Fingerprint(), t.ds.NumClasses()
	f.AdamM = append(f.AdamM[:0], t.adam.m...)
	f.AdamV = append(f.AdamV[:0], t.adam.v...)
	f.AdamT = append(f.AdamT[:0], t.adam.t...)
	f.State = t.st
	f.State.LogSums = maps.Clone(t.st.LogSums)
	f.State.Metrics = maps.Clone(t.st.Metrics)
	f.State.Final = maps.Clone(t.st.Final)
	if t.session != (time.Time{}) {
		f.State.WallSeconds = t.wallSeconds()
	}
	n := len(t.model.Params)
	if len(f.Params) != n {
		f.Names, f.Shapes, f.Params = make([]string, n), make([][]int, n), make([][]float32, n)
	}
	for j, p := range t.model.Params {
		f.Names[j], f.Shapes[j] = p.Name, p.Shape
		f.Params[j] = append(f.Params[j][:0], p.Value.Float32s()...)
	}
	if k := len(t.model.Norms); len(f.BNMean) != k {
		f.BNMean, f.BNVar = make([][]float64, k), make([][]float64, k)
	}
	for i, nm := range t.model.Norms {
		f.BNMean[i] = append(f.BNMean[i][:0], nm.State.Mean...)
		f.BNVar[i] = append(f.BNVar[i][:0], nm.State.Var...)
	}
	return f
}
