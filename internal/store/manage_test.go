package store

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestNotesAndTags(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	a := mustRun(t, s, "table9", "baseline", 1, nil)
	b := mustRun(t, s, "table9", "two-step", 1, nil)

	if err := s.SetNote(ctx, a, "lr too high\nrerun with 0.05"); err != nil {
		t.Fatal(err)
	}
	added, err := s.AddTags(ctx, a, "bad-lr", "keep", "bad-lr")
	if err != nil || !reflect.DeepEqual(added, []string{"bad-lr", "keep"}) {
		t.Fatalf("AddTags: %v, %v", added, err)
	}
	if added, err := s.AddTags(ctx, a, "keep"); err != nil || len(added) != 0 {
		t.Fatalf("AddTags again: %v, %v", added, err)
	}
	if _, err := s.AddTags(ctx, b, "paper"); err != nil {
		t.Fatal(err)
	}
	marks, err := s.Marks(ctx, a, b, 999)
	if err != nil {
		t.Fatal(err)
	}
	if m := marks[a]; m.Note != "lr too high\nrerun with 0.05" || !reflect.DeepEqual(m.Tags, []string{"bad-lr", "keep"}) || m.IsArchived() {
		t.Fatalf("marks of run %d: %+v", a, m)
	}
	if m := marks[b]; m.Note != "" || !reflect.DeepEqual(m.Tags, []string{"paper"}) {
		t.Fatalf("marks of run %d: %+v", b, m)
	}
	if _, ok := marks[999]; ok {
		t.Fatal("marks of a run that does not exist")
	}
	if names, err := s.TagNames(ctx); err != nil || !reflect.DeepEqual(names, []string{"bad-lr", "keep", "paper"}) {
		t.Fatalf("TagNames: %v, %v", names, err)
	}

	removed, err := s.RemoveTags(ctx, a, "keep", "never-had")
	if err != nil || !reflect.DeepEqual(removed, []string{"keep"}) {
		t.Fatalf("RemoveTags: %v, %v", removed, err)
	}
	if err := s.SetNote(ctx, a, ""); err != nil {
		t.Fatal(err)
	}
	marks, _ = s.Marks(ctx, a)
	if m := marks[a]; m.Note != "" || !reflect.DeepEqual(m.Tags, []string{"bad-lr"}) {
		t.Fatalf("after untag and clearing the note: %+v", m)
	}

	// Refusals name the run and change nothing.
	for name, err := range map[string]error{
		"note of a missing run": s.SetNote(ctx, 999, "x"),
		"tag a missing run":     func() error { _, err := s.AddTags(ctx, 999, "x"); return err }(),
		"untag a missing run":   func() error { _, err := s.RemoveTags(ctx, 999, "x"); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "run 999") {
			t.Errorf("%s: %v, want ErrNotFound naming run 999", name, err)
		}
	}
	for _, bad := range []string{"", "two words", "a,b", "x|y", "k=v", "-flag", strings.Repeat("x", 65), `q"`} {
		if _, err := s.AddTags(ctx, a, "fine", bad); err == nil {
			t.Errorf("tag %q accepted", bad)
		}
	}
	if err := s.SetNote(ctx, a, "bell\a"); err == nil {
		t.Error("a note with a control character accepted")
	}
	if err := s.SetNote(ctx, a, strings.Repeat("n", MaxNote+1)); err == nil {
		t.Error("a note over MaxNote accepted")
	}
	marks, _ = s.Marks(ctx, a)
	if m := marks[a]; m.Note != "" || !reflect.DeepEqual(m.Tags, []string{"bad-lr"}) {
		t.Fatalf("a refused change changed the marks: %+v", m)
	}
}

func TestArchive(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	done := mustRun(t, s, "table9", "baseline", 1, nil)
	finish(t, s, done, map[string]float64{"acc.S4": 60})
	running := mustRun(t, s, "table9", "two-step", 1, nil)
	if err := s.StartRun(ctx, running, me); err != nil {
		t.Fatal(err)
	}
	queued := mustRun(t, s, "table9", "three-step", 1, nil)

	// All or none: the running run refuses the whole batch.
	_, err := s.Archive(ctx, []int64{done, running}, true)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "run 2: it is running (pid 4242 on testhost)") {
		t.Fatalf("archive a running run: %v", err)
	}
	if _, err := s.Archive(ctx, []int64{queued}, true); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "run 3: it is queued") {
		t.Fatalf("archive a queued run: %v", err)
	}
	if _, err := s.Archive(ctx, []int64{done, 77}, true); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "run 77") {
		t.Fatalf("archive a missing run: %v", err)
	}
	if m, _ := s.Marks(ctx, done); m[done].IsArchived() {
		t.Fatal("a refused batch archived a run")
	}

	changed, err := s.Archive(ctx, []int64{done, done}, true)
	if err != nil || !reflect.DeepEqual(changed, []int64{done}) {
		t.Fatalf("archive: %v, %v", changed, err)
	}
	m, _ := s.Marks(ctx, done)
	first := m[done].Archived
	if first.IsZero() {
		t.Fatal("not archived")
	}
	if changed, err := s.Archive(ctx, []int64{done}, true); err != nil || len(changed) != 0 {
		t.Fatalf("archive again: %v, %v", changed, err)
	}
	if m, _ := s.Marks(ctx, done); !m[done].Archived.Equal(first) {
		t.Fatal("archiving again moved the archive time")
	}
	// An archived run is still a run: listed by the store, counted in pivots.
	if runs, err := s.Runs(ctx, RunFilter{IDs: []int64{done}}); err != nil || len(runs) != 1 {
		t.Fatalf("Runs of an archived run: %v, %v", runs, err)
	}
	if changed, err := s.Archive(ctx, []int64{done}, false); err != nil || !reflect.DeepEqual(changed, []int64{done}) {
		t.Fatalf("unarchive: %v, %v", changed, err)
	}
	if m, _ := s.Marks(ctx, done); m[done].IsArchived() {
		t.Fatal("still archived")
	}
}

// countRows counts the rows of run id in each table that refers to runs.
func countRows(t *testing.T, s *Store, id int64) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"metrics", "params", "summaries", "artifacts", "run_tags", "study_runs"} {
		var n int
		if err := s.db.QueryRow("SELECT COUNT(*) FROM "+table+" WHERE run_id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM runs WHERE id = ?", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	out["runs"] = n
	return out
}

func TestDeleteRuns(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	mustStudy(t, s, "table10")
	var ids []int64
	for i, v := range []string{"baseline", "two-step", "three-step"} {
		id := mustRun(t, s, "table9", v, 1, map[string]string{"profile": "smoke"})
		if err := s.LogMetrics(ctx, []Metric{{RunID: id, Key: "loss.ce4", Step: 1, Value: 1}, {RunID: id, Key: "loss.ce4", Step: 2, Value: 0.5}}); err != nil {
			t.Fatal(err)
		}
		finish(t, s, id, map[string]float64{"acc.S4": 50 + float64(i)})
		if _, err := s.AddTags(ctx, id, "t"); err != nil {
			t.Fatal(err)
		}
		ckpt := s.CheckpointPath(id)
		writeTestFile(t, ckpt)
		if _, err := s.AddArtifact(ctx, Artifact{RunID: id, Kind: ArtifactCheckpoint, Path: ckpt}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	victim, other := ids[0], ids[1]
	if err := s.AddToStudy(ctx, victim, "table10", "sync"); err != nil {
		t.Fatal(err)
	}
	// A half-written checkpoint of the victim, one of run 1x (a prefix of
	// the id must not match), a file artifact outside the artifacts
	// directory, and one the other run records too.
	tmp := s.CheckpointPath(victim) + ".tmp123"
	writeTestFile(t, tmp)
	lookalike := filepath.Join(filepath.Dir(s.CheckpointPath(victim)), "1"+filepath.Base(s.CheckpointPath(victim))+".tmp1")
	writeTestFile(t, lookalike)
	outside := filepath.Join(t.TempDir(), "gradcam.png")
	writeTestFile(t, outside)
	shared := filepath.Join(s.ArtifactDir(), "maps", "shared.png")
	writeTestFile(t, shared)
	for _, a := range []Artifact{{RunID: victim, Kind: "gradcam", Path: outside}, {RunID: victim, Kind: "gradcam", Path: shared},
		{RunID: other, Kind: "gradcam", Path: shared}, {RunID: victim, Kind: "note", Blob: []byte("inline")}} {
		if _, err := s.AddArtifact(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	otherBefore := countRows(t, s, other)

	rep, err := s.DeleteRuns(ctx, []int64{victim})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.IDs, []int64{victim}) {
		t.Fatalf("removed %v", rep.IDs)
	}
	for table, n := range countRows(t, s, victim) {
		if n != 0 {
			t.Errorf("%s still has %d row(s) of run %d", table, n, victim)
		}
	}
	if got := countRows(t, s, other); !reflect.DeepEqual(got, otherBefore) {
		t.Errorf("the other run's rows changed: %v, were %v", got, otherBefore)
	}
	for _, p := range []string{s.CheckpointPath(victim), tmp} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed (%v)", p, err)
		}
		if !slices.Contains(rep.Files, p) {
			t.Errorf("report does not list %s: %v", p, rep.Files)
		}
	}
	for _, p := range []string{s.CheckpointPath(other), s.CheckpointPath(ids[2]), lookalike, outside, shared} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if !slices.Contains(rep.Kept, outside) || !slices.Contains(rep.Kept, shared) {
		t.Errorf("kept %v, want %s and %s", rep.Kept, outside, shared)
	}
	if _, err := s.Run(ctx, victim); !errors.Is(err, ErrNotFound) {
		t.Errorf("the run is still there: %v", err)
	}
	if runs, err := s.Runs(ctx, RunFilter{Study: "table10"}); err != nil || len(runs) != 0 {
		t.Errorf("table10 still lists %v (%v)", runs, err)
	}

	// Refusals: all or none, naming the run.
	running := mustRun(t, s, "table9", "running", 1, nil)
	if err := s.StartRun(ctx, running, me); err != nil {
		t.Fatal(err)
	}
	_, err = s.DeleteRuns(ctx, []int64{other, running})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "remove run "+itoa(running)+": it is running") {
		t.Fatalf("remove a running run: %v", err)
	}
	if _, err := s.DeleteRuns(ctx, []int64{other, 999}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "run 999") {
		t.Fatalf("remove a missing run: %v", err)
	}
	if got := countRows(t, s, other); !reflect.DeepEqual(got, otherBefore) {
		t.Errorf("a refused removal changed the other run: %v, was %v", got, otherBefore)
	}
	if _, err := os.Stat(s.CheckpointPath(other)); err != nil {
		t.Errorf("a refused removal removed a checkpoint: %v", err)
	}

	// A run a worker holds (claimed: leased) is refused too.
	queued, err := s.CreateRun(ctx, NewRun{Study: "table9", Variant: "leased", Seed: 1, Config: "{}", ConfigHash: "leased"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteRuns(ctx, []int64{queued}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "it is queued") {
		t.Fatalf("remove a queued run: %v", err)
	}
	if _, l, err := s.ClaimRun(ctx, me, ClaimFilter{}); err != nil || l.RunID != queued {
		t.Fatalf("claim: %v %v", l, err)
	}
	if _, err := s.DeleteRuns(ctx, []int64{queued}); !errors.Is(err, ErrConflict) {
		t.Fatalf("remove a leased run: %v", err)
	}
	if _, err := s.Run(ctx, queued); err != nil {
		t.Fatalf("the leased run is gone: %v", err)
	}
}

func itoa(id int64) string { return manageIDList([]int64{id}) }

func writeTestFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestKnownKeys(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	a := mustRun(t, s, "table9", "baseline", 1, map[string]string{"profile": "smoke", "temperature": "4"})
	finish(t, s, a, map[string]float64{"acc.S4": 60, "acc.S3": 55})
	b := mustRun(t, s, "table9", "two-step", 1, map[string]string{"profile": "quick", "steps": "2"})
	mustStudy(t, s, "table10")
	if err := s.AddToStudy(ctx, b, "table10", "sync"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ParamKeys(ctx); err != nil || !reflect.DeepEqual(got, []string{"profile", "steps", "temperature"}) {
		t.Fatalf("ParamKeys: %v, %v", got, err)
	}
	if got, err := s.SummaryKeys(ctx); err != nil || !reflect.DeepEqual(got, []string{"acc.S3", "acc.S4"}) {
		t.Fatalf("SummaryKeys: %v, %v", got, err)
	}
	ms, err := s.Memberships(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][]Membership{a: {{"table9", "baseline"}}, b: {{"table10", "sync"}, {"table9", "two-step"}}}
	if !reflect.DeepEqual(ms, want) {
		t.Fatalf("Memberships: %v, want %v", ms, want)
	}
}

// TestMigrateMarksFrom6: a store at schema 6 (before marks) upgrades with
// its runs intact and no marks; marks then work.
func TestMigrateMarksFrom6(t *testing.T) {
	path := newLocation(t)
	old := openRaw(t, path)
	if applied, err := old.migrate(ctx, 6); err != nil || len(applied) != 6 {
		t.Fatalf("migrate to 6: %v, %v", applied, err)
	}
	if _, err := old.db.Exec(`INSERT INTO studies (name, title, spec, spec_hash, created, updated) VALUES ('table9', 'Steps', 'x', 'h', 1, 1);
		INSERT INTO runs (id, study, variant, seed, config, config_hash, status, created, started, ended, host, pid, lost_leases)
			VALUES (1, 'table9', 'two-step', 1, '{}', 'hash1', 'finished', 1, 2, 3, 'h', 7, 1);
		INSERT INTO study_runs (study, variant, run_id, added) VALUES ('table9', 'two-step', 1, 1);
		INSERT INTO params (run_id, key, value) VALUES (1, 'temperature', '4');
		INSERT INTO summaries (run_id, key, value) VALUES (1, 'acc.S4', 61.5);`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	s, err := openAt(t, path, Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v < 7 {
		t.Fatalf("schema version %d after open", v)
	}
	r, err := s.Run(ctx, 1)
	if err != nil || r.Status != Finished || r.ConfigHash != "hash1" {
		t.Fatalf("run after upgrade: %+v, %v", r, err)
	}
	if p, _ := s.Params(ctx, 1); p[1]["temperature"] != "4" {
		t.Fatalf("params after upgrade: %v", p)
	}
	if sums, _ := s.Summaries(ctx, 1); sums[1]["acc.S4"] != 61.5 {
		t.Fatalf("summaries after upgrade: %v", sums)
	}
	m, err := s.Marks(ctx, 1)
	if err != nil || m[1].IsArchived() || m[1].Note != "" || len(m[1].Tags) != 0 {
		t.Fatalf("marks after upgrade: %+v, %v", m, err)
	}
	if _, err := s.AddTags(ctx, 1, "old"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Archive(ctx, []int64{1}, true); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Marks(ctx, 1); !m[1].IsArchived() || !reflect.DeepEqual(m[1].Tags, []string{"old"}) {
		t.Fatalf("marks: %+v", m[1])
	}
}

func TestFinalPoints(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	a := mustRun(t, s, "table9", "a", 1, nil)
	b := mustRun(t, s, "table9", "b", 1, nil)
	var pts []Metric
	for step := 1; step <= 5; step++ {
		pts = append(pts, Metric{RunID: a, Key: "loss.ce4", Step: step, Epoch: 1, Value: 10 / float64(step)})
	}
	pts = append(pts, Metric{RunID: a, Key: "acc.S4", Step: 5, Epoch: 1, Value: 40},
		Metric{RunID: b, Key: "loss.ce4", Step: 1, Epoch: 1, Value: 3}, Metric{RunID: b, Key: "loss.ce4", Step: 2, Epoch: 1, Value: math.NaN()})
	if err := s.LogMetrics(ctx, pts); err != nil {
		t.Fatal(err)
	}
	got, err := s.FinalPoints(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if p := got[a]["loss.ce4"]; p.Step != 5 || p.Value != 2 {
		t.Errorf("final loss.ce4 of run a: %+v", p)
	}
	if p := got[a]["acc.S4"]; p.Step != 5 || p.Value != 40 {
		t.Errorf("final acc.S4 of run a: %+v", p)
	}
	if p := got[b]["loss.ce4"]; p.Step != 2 || !math.IsNaN(p.Value) {
		t.Errorf("final loss.ce4 of run b: %+v", p)
	}
	if len(got) != 2 || len(got[b]) != 1 {
		t.Errorf("FinalPoints: %v", got)
	}
}

// TestDeleteRunsKeepsAllWhenAFileCannotGo: a checkpoint that cannot be
// moved aside cancels the removal: the rows stay, and so does every file,
// those already moved put back. No file of a removed run is left behind
// for a new run that would get its id.
func TestDeleteRunsKeepsAllWhenAFileCannotGo(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	a := mustRun(t, s, "table9", "a", 1, nil)
	finish(t, s, a, nil)
	b := mustRun(t, s, "table9", "b", 1, nil)
	finish(t, s, b, nil)
	for _, id := range []int64{a, b} {
		writeTestFile(t, s.CheckpointPath(id))
	}
	stuck := s.CheckpointPath(b)
	renameFile = func(from, to string) error {
		if from == stuck {
			return os.ErrPermission
		}
		return os.Rename(from, to)
	}
	t.Cleanup(func() { renameFile = os.Rename })
	_, err := s.DeleteRuns(ctx, []int64{a, b})
	if err == nil || !strings.Contains(err.Error(), "cannot move "+stuck+" aside") || !strings.Contains(err.Error(), "nothing removed") {
		t.Fatalf("DeleteRuns: %v", err)
	}
	for _, id := range []int64{a, b} {
		if _, err := s.Run(ctx, id); err != nil {
			t.Errorf("run %d: %v", id, err)
		}
		if _, err := os.Stat(s.CheckpointPath(id)); err != nil {
			t.Errorf("checkpoint of run %d: %v", id, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(stuck))
	if len(entries) != 2 {
		t.Errorf("files left in the checkpoint directory: %v", entries)
	}

	renameFile = os.Rename
	rep, err := s.DeleteRuns(ctx, []int64{a, b})
	if err != nil || len(rep.Files) != 2 {
		t.Fatalf("DeleteRuns: %+v, %v", rep, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(stuck)); len(entries) != 0 {
		t.Errorf("files left after the removal: %v", entries)
	}
}

// TestDeleteRunsRacesStart: a removal and a start of the same interrupted
// run at once: exactly one wins. A run is never removed under a process
// that started it, nor started after its rows are gone.
func TestDeleteRunsRacesStart(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	for i := 0; i < 20; i++ {
		id := mustRun(t, s, "table9", "race", int64(i), map[string]string{"profile": "smoke"})
		if err := s.StartRun(ctx, id, me); err != nil {
			t.Fatal(err)
		}
		if err := s.EndRun(ctx, id, End{Status: Interrupted, Error: "stopped"}); err != nil {
			t.Fatal(err)
		}
		var startErr, delErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); startErr = s.StartRun(ctx, id, me) }()
		go func() { defer wg.Done(); _, delErr = s.DeleteRuns(ctx, []int64{id}) }()
		wg.Wait()
		r, err := s.Run(ctx, id)
		switch {
		case startErr == nil && delErr == nil:
			t.Fatalf("run %d: both the start and the removal succeeded", id)
		case startErr != nil && delErr != nil:
			t.Fatalf("run %d: neither succeeded: start %v; remove %v", id, startErr, delErr)
		case startErr == nil:
			if err != nil || r.Status != Running || !errors.Is(delErr, ErrConflict) {
				t.Fatalf("run %d started: now %v %v; remove: %v", id, r.Status, err, delErr)
			}
			if rows := countRows(t, s, id); rows["params"] != 1 || rows["study_runs"] != 1 {
				t.Fatalf("run %d started, but its rows are gone: %v", id, rows)
			}
		default:
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("run %d removed, but it is there: %v %v; start: %v", id, r.Status, err, startErr)
			}
		}
	}
}
