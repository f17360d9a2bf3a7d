package train

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A background checkpoint holds exactly what a synchronous one writes (so
// that a field added to checkpoint is not forgotten in snapshot), and its
// buffers, reused for the next one, do not change a written one.
func TestBackgroundCheckpointMatches(t *testing.T) {
	c := tinyConfig()
	c.Steps, c.Epochs = 2, 1
	dir := t.TempDir()
	tr, _, err := runTrainer(t, c, filepath.Join(dir, "run.ckpt"), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) *checkpointFile {
		t.Helper()
		f, err := readCheckpoint(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		f.State.WallSeconds = 0
		return f
	}
	tr.opt.CheckpointPath = filepath.Join(dir, "sync.ckpt")
	if err := tr.checkpoint(); err != nil {
		t.Fatal(err)
	}
	tr.opt.CheckpointPath = filepath.Join(dir, "bg.ckpt")
	if err := tr.checkpointSoon(); err != nil {
		t.Fatal(err)
	}
	if err := tr.checkpointWait(); err != nil {
		t.Fatal(err)
	}
	want := read("sync.ckpt")
	if got := read("bg.ckpt"); !reflect.DeepEqual(got, want) {
		t.Error("the background checkpoint differs from the synchronous one")
	}

	// The next snapshot reuses the buffers: the one written stays as it was.
	for _, p := range tr.model.Params {
		p.Value.Data().([]float32)[0]++
	}
	tr.adam.m[0]++
	tr.opt.CheckpointPath = filepath.Join(dir, "bg2.ckpt")
	if err := tr.checkpointSoon(); err != nil {
		t.Fatal(err)
	}
	if err := tr.checkpointWait(); err != nil {
		t.Fatal(err)
	}
	if got := read("bg.ckpt"); !reflect.DeepEqual(got, want) {
		t.Error("the background checkpoint changed when the next one was taken")
	}
	if got := read("bg2.ckpt"); reflect.DeepEqual(got.Params, want.Params) || got.AdamM[0] != want.AdamM[0]+1 {
		t.Error("the second background checkpoint does not hold the changed weights")
	}
}

// A background write that fails stops the run with its error, at the next
// checkpoint or at the end, and the run returns only once it is done.
func TestBackgroundCheckpointError(t *testing.T) {
	c := tinyConfig()
	c.Steps, c.Epochs = 2, 1
	dir := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(c, open(t, c), Options{CheckpointPath: filepath.Join(dir, "run.ckpt"), CheckpointEvery: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	commits := 0
	tr.opt.Commit = func(step int) error {
		commits++
		if commits == 1 {
			// The first write's temporary file is synced; its directory
			// goes, so the rename fails.
			if err := os.RemoveAll(dir); err != nil {
				t.Error(err)
			}
		}
		return nil
	}
	_, err = tr.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("run with a failing checkpoint: %v, want a checkpoint error", err)
	}
	if tr.bg.done != nil {
		t.Error("run returned with a checkpoint write in flight")
	}
	if tr.st.Step >= 16 {
		t.Errorf("the run went on to update %d after its checkpoint failed", tr.st.Step)
	}
}
