package runner

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mksmt/workbench/internal/store"
)

func TestCollectCheckpoints(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutStudy(bg, store.Study{Name: "s", Spec: "x"}); err != nil {
		t.Fatal(err)
	}
	me := store.Provenance{Host: "h", PID: os.Getpid()}
	newRun := func(seed int64, end store.Status) int64 {
		id, err := st.CreateRun(bg, store.NewRun{Study: "s", Variant: "v", Seed: seed, Config: "{}", ConfigHash: "h" + string(rune('a'+seed)), Owner: me})
		if err != nil {
			t.Fatal(err)
		}
		if end == store.Queued {
			return id
		}
		if err := st.StartRun(bg, id, me); err != nil {
			t.Fatal(err)
		}
		if end != store.Running {
			if err := st.EndRun(bg, id, store.End{Status: end}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	finished, interrupted, running, failed := newRun(1, store.Finished), newRun(2, store.Interrupted), newRun(3, store.Running), newRun(4, store.Failed)
	dir := filepath.Dir(st.CheckpointPath(1))
	os.MkdirAll(dir, 0o755)
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, id := range []int64{finished, interrupted, running, failed} {
		p := write(filepath.Base(st.CheckpointPath(id)), 1000)
		if _, err := st.AddArtifact(bg, store.Artifact{RunID: id, Kind: store.ArtifactCheckpoint, Path: p}); err != nil {
			t.Fatal(err)
		}
	}
	write("2.ckpt.tmp123", 500) // killed while checkpointing the interrupted run
	write("3.ckpt.tmp456", 500) // being written by the running run
	write("99.ckpt", 700)       // a run that is not in the store
	write("notes.txt", 10)      // not a checkpoint: left alone

	dry, err := CollectCheckpoints(bg, st, GCOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := CollectCheckpoints(bg, st, GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, f := range rep.Removed {
		removed = append(removed, filepath.Base(f.Path))
	}
	want := []string{"1.ckpt", "2.ckpt.tmp123", "99.ckpt"}
	if !slices.Equal(removed, want) || rep.Freed != 2200 || rep.Kept != 3 {
		t.Fatalf("removed %v (%d bytes), kept %d; want %v, 2200 bytes, 3 kept", removed, rep.Freed, rep.Kept, want)
	}
	if len(dry.Removed) != len(rep.Removed) || dry.Freed != rep.Freed {
		t.Fatalf("dry run reported %+v, the real one %+v", dry, rep)
	}
	var left []string
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		left = append(left, e.Name())
	}
	if wantLeft := []string{"2.ckpt", "3.ckpt", "3.ckpt.tmp456", "4.ckpt", "notes.txt"}; !slices.Equal(left, wantLeft) {
		t.Fatalf("left %v, want %v", left, wantLeft)
	}
	if as, _ := st.Artifacts(bg, finished); len(as) != 0 {
		t.Fatalf("the removed checkpoint is still recorded: %+v", as)
	}
	if as, _ := st.Artifacts(bg, interrupted); len(as) != 1 {
		t.Fatalf("the kept checkpoint's record: %+v", as)
	}
	again, err := CollectCheckpoints(bg, st, GCOptions{})
	if err != nil || len(again.Removed) != 0 {
		t.Fatalf("second gc removed %+v, %v", again.Removed, err)
	}
}
