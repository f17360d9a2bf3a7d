package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var ctx = context.Background()

// openTemp opens a fresh runs.db in a temporary directory.
func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := openAt(t, newLocation(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// me is the provenance the tests' own process would record.
var me = Provenance{Host: "testhost", PID: 4242, GoVersion: "go-test", GitCommit: "abc123", GitDirty: true,
	CodeVersion: "abc123+dirty", BLAS: "Haswell", Dataset: "synthetic", DatasetFingerprint: "fp1"}

func mustStudy(t testing.TB, s *Store, name string) {
	t.Helper()
	if err := s.PutStudy(ctx, Study{Name: name, Title: "T " + name, Spec: "name = \"" + name + "\"\n", SpecHash: "h-" + name}); err != nil {
		t.Fatal(err)
	}
}

func mustRun(t testing.TB, s *Store, study, variant string, seed int64, params map[string]string) int64 {
	t.Helper()
	id, err := s.CreateRun(ctx, NewRun{Study: study, Variant: variant, Seed: seed,
		Config: fmt.Sprintf(`{"variant":%q,"seed":%d}`, variant, seed), ConfigHash: fmt.Sprintf("%s/%s/%d", study, variant, seed),
		Params: params, Owner: me})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func finish(t testing.TB, s *Store, id int64, sums map[string]float64) {
	t.Helper()
	if err := s.StartRun(ctx, id, me); err != nil {
		t.Fatal(err)
	}
	if err := s.EndRun(ctx, id, End{Status: Finished, Summaries: sums}); err != nil {
		t.Fatal(err)
	}
}

func tableNames(t *testing.T, s *Store) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if s.Backend() == "postgres" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
	}
	rows, err := s.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

func TestMigrateFromEmpty(t *testing.T) {
	s := openTemp(t)
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != LatestSchemaVersion() || v < 2 {
		t.Fatalf("schema version %d, want %d (>= 2)", v, LatestSchemaVersion())
	}
	want := []string{"artifacts", "metrics", "params", "run_tags", "runs", "schema_migrations", "studies", "study_runs", "summaries"}
	if got := tableNames(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("tables %v, want %v", got, want)
	}
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != v {
		t.Fatalf("schema_migrations has %d rows (err %v), want %d", n, err, v)
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000"} {
		if s.Backend() != "sqlite" {
			break
		}
		var got string
		if err := s.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (err %v), want %q", pragma, got, err, want)
		}
	}
	// Opening again applies nothing.
	applied, err := s.migrate(ctx, LatestSchemaVersion())
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v, err %v", applied, err)
	}
}

// TestMigrateFromPreviousVersions writes data with each older schema and
// upgrades the file to the latest one.
func TestMigrateFromPreviousVersions(t *testing.T) {
	for from := 1; from < LatestSchemaVersion(); from++ {
		t.Run(fmt.Sprintf("from %d", from), func(t *testing.T) {
			path := newLocation(t)
			old := openRaw(t, path)
			if applied, err := old.migrate(ctx, from); err != nil || len(applied) != from {
				t.Fatalf("migrate to %d: applied %v, err %v", from, applied, err)
			}
			// Data written by that version, with the columns of schema 1 only.
			if _, err := old.db.Exec(`INSERT INTO studies (name, title, spec, spec_hash, created, updated) VALUES ('table9', 'Steps', 'x', 'h', 1, 1);
				INSERT INTO runs (id, study, variant, seed, config, config_hash, status, created, started, ended, host, pid)
					VALUES (1, 'table9', 'two-step', 1, '{}', 'hash1', 'finished', 1, 2, 3, 'h', 7),
					       (2, 'table9', 'baseline', 1, '{}', 'hash2', 'queued', 1, NULL, NULL, 'h', 7);
				INSERT INTO summaries (run_id, key, value) VALUES (1, 'acc.S4', 61.5);
				INSERT INTO metrics (run_id, key, step, epoch, value, time) VALUES (1, 'loss.ce4', 10, 1, 2.5, 5);`); err != nil {
				t.Fatal(err)
			}
			if from < 5 { // before schema 5 a resume could log a step twice
				if _, err := old.db.Exec(`INSERT INTO metrics (run_id, key, step, epoch, value, time) VALUES (1, 'loss.ce4', 10, 1, 9.5, 6)`); err != nil {
					t.Fatal(err)
				}
			}
			if from >= 3 { // schema 3 keeps study membership in study_runs
				if _, err := old.db.Exec(`INSERT INTO study_runs (study, variant, run_id, added) VALUES ('table9', 'two-step', 1, 1), ('table9', 'baseline', 2, 1)`); err != nil {
					t.Fatal(err)
				}
			}
			old.Close()

			s, err := openAt(t, path, Options{NoRecover: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, _ := s.SchemaVersion(ctx); v != LatestSchemaVersion() {
				t.Fatalf("after upgrade: version %d, want %d", v, LatestSchemaVersion())
			}
			r1, err := s.Run(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if r1.Status != Finished || r1.Progress.Step != 0 || len(r1.Progress.Latest) != 0 || r1.CheckpointStep != -1 {
				t.Fatalf("upgraded finished run: %+v", r1)
			}
			if from < 2 && r1.Attempts != 1 {
				t.Fatalf("a run started before schema 2 has %d attempts, want 1", r1.Attempts)
			}
			if r2, _ := s.Run(ctx, 2); r2.Attempts != 0 {
				t.Fatalf("upgraded queued run has %d attempts, want 0", r2.Attempts)
			}
			runs, err := s.Runs(ctx, RunFilter{Study: "table9"})
			if err != nil || len(runs) != 2 || runs[0].Variant != "two-step" || runs[1].Variant != "baseline" {
				t.Fatalf("study membership after upgrade: %+v, %v", runs, err)
			}
			sums, err := s.Summaries(ctx, 1)
			if err != nil || sums[1]["acc.S4"] != 61.5 {
				t.Fatalf("summaries after upgrade: %v, %v", sums, err)
			}
			series, err := s.Series(ctx, []int64{1}, nil, 0)
			if err != nil || len(series) != 1 || len(series[0].Points) != 1 || series[0].Points[0].Value != 2.5 {
				t.Fatalf("metrics after upgrade: %+v, %v", series, err)
			}
		})
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := newLocation(t)
	s, err := openAt(t, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	setSchemaVersion(t, s, LatestSchemaVersion()+1)
	s.Close()
	_, err = openAt(t, path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of a newer schema: err %v, want one saying it is newer", err)
	}
}

func TestRunLifecycle(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	id := mustRun(t, s, "table9", "two-step", 3, map[string]string{"steps": "2", "profile": "smoke"})

	r, err := s.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != Queued || r.Host != me.Host || r.PID != me.PID || r.Dataset != "synthetic" || !r.Started.IsZero() {
		t.Fatalf("queued run: %+v", r)
	}
	if err := s.StartRun(ctx, id, me); err != nil {
		t.Fatal(err)
	}
	if err := s.StartRun(ctx, id, me); !errors.Is(err, ErrConflict) {
		t.Fatalf("starting a running run: err %v, want ErrConflict", err)
	}
	lost, err := s.Heartbeat(ctx, me.Host, me.PID, []Beat{{RunID: id, Progress: Progress{Step: 20, Batch: 10, TotalBatches: 40, Epoch: 1,
		ImagesPerSec: 99, Latest: map[string]float64{"loss.ce4": 1.25, "loss.kd": math.NaN()}}}})
	if err != nil || len(lost) != 0 {
		t.Fatalf("heartbeat: lost %v, err %v", lost, err)
	}
	r, _ = s.Run(ctx, id)
	if r.Status != Running || r.Attempts != 1 || r.Progress.Batch != 10 || r.Progress.Fraction() != 0.25 ||
		r.Progress.Latest["loss.ce4"] != 1.25 || !math.IsNaN(r.Progress.Latest["loss.kd"]) || !r.GitDirty || r.GitCommit != "abc123" || r.BLAS != "Haswell" {
		t.Fatalf("running run: %+v", r)
	}
	if err := s.EndRun(ctx, id, End{Status: Interrupted, Error: "interrupted"}); err != nil {
		t.Fatal(err)
	}
	if lost, _ := s.Heartbeat(ctx, me.Host, me.PID, []Beat{{RunID: id}}); !reflect.DeepEqual(lost, []int64{id}) {
		t.Fatalf("heartbeat of an interrupted run: lost %v, want [%d]", lost, id)
	}
	// Resume, then finish with summaries.
	if err := s.StartRun(ctx, id, me); err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{"acc.S4": 71.25, "acc.S3": 69, "loss.final": math.NaN(), "flops.inference": 4.5e7}
	if err := s.EndRun(ctx, id, End{Status: Finished, Summaries: sums}); err != nil {
		t.Fatal(err)
	}
	r, _ = s.Run(ctx, id)
	if r.Status != Finished || r.Attempts != 2 || r.Ended.IsZero() || r.Error != "" || r.Duration() < 0 {
		t.Fatalf("finished run: %+v", r)
	}
	got, err := s.Summaries(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got[id]) != 4 || got[id]["acc.S4"] != 71.25 || !math.IsNaN(got[id]["loss.final"]) {
		t.Fatalf("summaries %v", got)
	}
	params, err := s.Params(ctx, id)
	if err != nil || !reflect.DeepEqual(params[id], map[string]string{"steps": "2", "profile": "smoke"}) {
		t.Fatalf("params %v, %v", params, err)
	}
	if err := s.StartRun(ctx, id, me); !errors.Is(err, ErrConflict) {
		t.Fatalf("starting a finished run: err %v, want ErrConflict", err)
	}

	// Artifacts: a checkpoint path recorded twice is one artifact; blobs are inline.
	ck := s.CheckpointPath(id)
	a1, err := s.AddArtifact(ctx, Artifact{RunID: id, Kind: ArtifactCheckpoint, Path: ck})
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := s.AddArtifact(ctx, Artifact{RunID: id, Kind: ArtifactCheckpoint, Path: ck})
	if a1 != a2 {
		t.Fatalf("checkpoint recorded twice as %d and %d", a1, a2)
	}
	b, err := s.AddArtifact(ctx, Artifact{RunID: id, Kind: "gradcam", Name: "S4.png", Blob: []byte("PNG...")})
	if err != nil {
		t.Fatal(err)
	}
	arts, err := s.Artifacts(ctx, id)
	if err != nil || len(arts) != 2 || arts[0].Path != ck || arts[1].Size != 6 || arts[1].Name != "S4.png" {
		t.Fatalf("artifacts %+v, %v", arts, err)
	}
	if blob, err := s.ArtifactBlob(ctx, b); err != nil || string(blob) != "PNG..." {
		t.Fatalf("blob %q, %v", blob, err)
	}
	if _, err := s.AddArtifact(ctx, Artifact{RunID: id, Kind: "x"}); err == nil {
		t.Fatal("an artifact without path or blob was accepted")
	}
	if _, err := s.Run(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing run: err %v, want ErrNotFound", err)
	}
	if err := s.EndRun(ctx, id, End{Status: Running}); err == nil {
		t.Fatal("EndRun accepted status running")
	}
	// Foreign keys are on: a run of an unknown study is refused.
	if _, err := s.CreateRun(ctx, NewRun{Study: "nope", Variant: "v", ConfigHash: "h"}); err == nil {
		t.Fatal("a run of an unknown study was accepted")
	}
}

func TestDivergedRunKeepsStep(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "fig3")
	id := mustRun(t, s, "fig3", "T=10", 1, nil)
	if err := s.StartRun(ctx, id, me); err != nil {
		t.Fatal(err)
	}
	if err := s.EndRun(ctx, id, End{Status: Diverged, Error: "diverged: loss.kd is not finite at step 123", DivergedStep: 123}); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Run(ctx, id)
	if r.Status != Diverged || r.DivergedStep != 123 || !strings.Contains(r.Error, "loss.kd") {
		t.Fatalf("diverged run: %+v", r)
	}
}

func TestRunsFilter(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	mustStudy(t, s, "table10")
	a := mustRun(t, s, "table9", "baseline", 1, map[string]string{"steps": "0", "profile": "smoke"})
	b := mustRun(t, s, "table9", "two-step", 1, map[string]string{"steps": "2", "profile": "smoke"})
	c := mustRun(t, s, "table9", "two-step", 2, map[string]string{"steps": "2", "profile": "quick"})
	d := mustRun(t, s, "table10", "async", 1, map[string]string{"steps": "2", "mode": "async", "profile": "smoke"})
	finish(t, s, b, nil)
	finish(t, s, d, nil)

	tests := []struct {
		name string
		f    RunFilter
		want []int64
	}{
		{"all", RunFilter{}, []int64{a, b, c, d}},
		{"study", RunFilter{Study: "table9"}, []int64{a, b, c}},
		{"variant", RunFilter{Study: "table9", Variants: []string{"two-step"}}, []int64{b, c}},
		{"status", RunFilter{Statuses: []Status{Finished}}, []int64{b, d}},
		{"statuses", RunFilter{Statuses: []Status{Queued, Finished}}, []int64{a, b, c, d}},
		{"param", RunFilter{Params: map[string]string{"steps": "2"}}, []int64{b, c, d}},
		{"params", RunFilter{Params: map[string]string{"steps": "2", "profile": "smoke"}}, []int64{b, d}},
		{"param no match", RunFilter{Params: map[string]string{"steps": "7"}}, nil},
		{"ids", RunFilter{IDs: []int64{d, a}}, []int64{a, d}},
		{"hash", RunFilter{ConfigHash: "table9/two-step/2"}, []int64{c}},
		{"oldest two", RunFilter{Limit: 2}, []int64{a, b}},
		{"newest two", RunFilter{Limit: 2, Newest: true}, []int64{c, d}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := s.Runs(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range runs {
				got = append(got, r.ID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}

	studies, err := s.Studies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(studies) != 2 || studies[0].Name != "table10" || studies[1].Name != "table9" {
		t.Fatalf("studies %+v", studies)
	}
	if st := studies[1]; st.Total != 3 || st.Finished != 1 || st.Counts[Queued] != 2 || st.Title != "T table9" {
		t.Fatalf("table9 counts %+v", st)
	}
	if _, err := s.Study(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing study: %v", err)
	}
	// Updating a study keeps its creation time and replaces its text.
	before, _ := s.Study(ctx, "table9")
	if err := s.PutStudy(ctx, Study{Name: "table9", Title: "new", Spec: "v2", SpecHash: "h2"}); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Study(ctx, "table9")
	if after.Spec != "v2" || after.SpecHash != "h2" || !after.Created.Equal(before.Created) {
		t.Fatalf("updated study %+v (before %+v)", after, before)
	}
	live, err := s.Live(ctx, RunFilter{Study: "table9"})
	if err != nil || len(live) != 2 {
		t.Fatalf("live runs of table9: %d, %v", len(live), err)
	}
}

func TestPivot(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	smoke := map[string]string{"profile": "smoke"}
	for _, v := range []string{"baseline", "two-step"} {
		for seed := int64(1); seed <= 3; seed++ {
			id := mustRun(t, s, "table9", v, seed, smoke)
			finish(t, s, id, map[string]float64{"acc.S4": float64(10*seed) + map[string]float64{"baseline": 0, "two-step": 1}[v], "acc.S3": 5})
		}
	}
	// A rerun (--force) of two-step seed 2 replaces the older one; a failed
	// run and a run of another profile do not count.
	rerun := mustRun(t, s, "table9", "two-step", 2, smoke)
	finish(t, s, rerun, map[string]float64{"acc.S4": 99, "acc.S3": 5})
	failed := mustRun(t, s, "table9", "two-step", 4, smoke)
	s.StartRun(ctx, failed, me)
	s.EndRun(ctx, failed, End{Status: Failed, Error: "boom"})
	other := mustRun(t, s, "table9", "two-step", 1, map[string]string{"profile": "quick"})
	finish(t, s, other, map[string]float64{"acc.S4": -1})

	p, err := s.Pivot(ctx, RunFilter{Study: "table9", Params: smoke}, "acc.S4")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Variants, []string{"baseline", "two-step"}) || !reflect.DeepEqual(p.Seeds, []int64{1, 2, 3}) ||
		!reflect.DeepEqual(p.Keys, []string{"acc.S4"}) {
		t.Fatalf("pivot axes %v %v %v", p.Variants, p.Seeds, p.Keys)
	}
	vals, seeds := p.Values("two-step", "acc.S4")
	if !reflect.DeepEqual(vals, []float64{11, 99, 31}) || !reflect.DeepEqual(seeds, []int64{1, 2, 3}) {
		t.Fatalf("two-step acc.S4 = %v over seeds %v", vals, seeds)
	}
	if p.Cells["two-step"][2].RunID != rerun {
		t.Fatalf("cell two-step/2 is run %d, want the rerun %d", p.Cells["two-step"][2].RunID, rerun)
	}
	if vals, _ := p.Values("baseline", "acc.S3"); len(vals) != 0 {
		t.Fatalf("acc.S3 was not asked for but got %v", vals)
	}
	all, _ := s.Pivot(ctx, RunFilter{Study: "table9", Params: smoke})
	if !reflect.DeepEqual(all.Keys, []string{"acc.S3", "acc.S4"}) {
		t.Fatalf("all keys %v", all.Keys)
	}
}

func TestSeries(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "x")
	r1 := mustRun(t, s, "x", "a", 1, nil)
	r2 := mustRun(t, s, "x", "b", 1, nil)
	t0 := time.UnixMilli(1_700_000_000_000)
	var pts []Metric
	for step := 1; step <= 100; step++ {
		pts = append(pts, Metric{RunID: r1, Key: "loss.ce4", Step: step, Epoch: (step-1)/50 + 1, Value: float64(step), Time: t0.Add(time.Duration(step) * time.Second)})
	}
	// A resumed run logs steps 91..100 again: the first committed values stay.
	for step := 91; step <= 100; step++ {
		pts = append(pts, Metric{RunID: r1, Key: "loss.ce4", Step: step, Epoch: 2, Value: 1000, Time: t0.Add(time.Hour)})
	}
	pts = append(pts,
		Metric{RunID: r1, Key: "acc.S4", Step: 50, Epoch: 1, Value: 40},
		Metric{RunID: r1, Key: "acc.S4", Step: 100, Epoch: 2, Value: 55},
		Metric{RunID: r2, Key: "loss.ce4", Step: 1, Value: math.NaN()},
		Metric{RunID: r2, Key: "loss.ce4", Step: 2, Value: math.NaN()},
		Metric{RunID: r2, Key: "loss.ce4", Step: 3, Value: 3},
	)
	if err := s.LogMetrics(ctx, pts); err != nil {
		t.Fatal(err)
	}

	all, err := s.Series(ctx, []int64{r2, r1}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Key != "acc.S4" || all[1].Key != "loss.ce4" || all[2].RunID != r2 {
		t.Fatalf("series order: %+v", all)
	}
	loss := all[1].Points
	if len(loss) != 100 || loss[89].Value != 90 || loss[90].Value != 91 || loss[99].Step != 100 {
		t.Fatalf("full series: %d points, [89]=%v [90]=%v", len(loss), loss[89], loss[90])
	}

	down, err := s.Series(ctx, []int64{r1}, []string{"loss.ce4"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(down) != 1 || len(down[0].Points) != 10 {
		t.Fatalf("downsampled: %+v", down)
	}
	first := down[0].Points[0]
	if first.Step != 10 || first.Value != 5.5 || first.N != 10 || first.Epoch != 1 || !first.Time.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("first bucket %+v, want steps 1..10 averaged to 5.5 at step 10", first)
	}
	if last := down[0].Points[9]; last.Value != 95.5 || last.Step != 100 {
		t.Fatalf("last bucket %+v", last)
	}

	nan, err := s.Series(ctx, []int64{r2}, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	// ntile(2) over 3 points: {1,2}, {3}; the first bucket is all NaN.
	if p := nan[0].Points; len(p) != 2 || !math.IsNaN(p[0].Value) || p[1].Value != 3 {
		t.Fatalf("NaN series %+v", p)
	}
	keys, err := s.MetricKeys(ctx, r1, r2)
	if err != nil || !reflect.DeepEqual(keys, []string{"acc.S4", "loss.ce4"}) {
		t.Fatalf("metric keys %v, %v", keys, err)
	}
	if none, err := s.Series(ctx, nil, nil, 10); err != nil || none != nil {
		t.Fatalf("series of no runs: %v, %v", none, err)
	}
}

func TestRecoverStale(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "x")
	now := time.Now()
	const deadPID, livePID = 1001, 1002
	alive := func(pid int) bool { return pid == livePID }
	const selfPID, selfToken = 1003, "me"
	alive = func(pid int) bool { return pid == livePID || pid == selfPID }
	tests := []struct {
		name   string
		status Status
		host   string
		pid    int
		owner  string
		beat   time.Duration // age of the heartbeat
		stale  bool
	}{
		{"running, dead pid here", Running, "here", deadPID, "x", time.Second, true},
		{"running, live pid here", Running, "here", livePID, "x", time.Second, false},
		{"running, live pid here, stale heartbeat", Running, "here", livePID, "x", time.Hour, true},
		{"running elsewhere, fresh heartbeat", Running, "there", deadPID, "x", time.Second, false},
		{"running elsewhere, stale heartbeat", Running, "there", livePID, "x", 3 * time.Minute, true},
		{"queued, dead pid here", Queued, "here", deadPID, "x", time.Second, true},
		{"queued, live pid here", Queued, "here", livePID, "x", time.Second, false},
		{"running, our pid and token", Running, "here", selfPID, selfToken, time.Second, false},
		{"running, our pid, an earlier process's token", Running, "here", selfPID, "earlier", time.Second, true},
		{"running, our pid, no token", Running, "here", selfPID, "", time.Second, false},
		{"our pid elsewhere", Running, "there", selfPID, "earlier", time.Second, false},
		{"finished, dead pid here", Finished, "here", deadPID, "x", time.Hour, false},
		{"interrupted stays", Interrupted, "here", deadPID, "x", time.Hour, false},
	}
	ids := make([]int64, len(tests))
	for i, tt := range tests {
		ids[i] = mustRun(t, s, "x", tt.name, 1, nil)
		if _, err := s.db.Exec("UPDATE runs SET status = ?, host = ?, pid = ?, owner = ?, heartbeat = ? WHERE id = ?",
			string(tt.status), tt.host, tt.pid, tt.owner, ms(now.Add(-tt.beat)), ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	marked, err := s.RecoverStale(ctx, StaleOptions{Host: "here", Alive: alive, After: 2 * time.Minute, Now: func() time.Time { return now },
		PID: selfPID, Token: selfToken})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, id := range marked {
		got[id] = true
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := s.Run(ctx, ids[i])
			if got[ids[i]] != tt.stale {
				t.Fatalf("marked = %v, want %v (run %+v)", got[ids[i]], tt.stale, r)
			}
			if tt.stale && (r.Status != Interrupted || !strings.HasPrefix(r.Error, "interrupted: ") || r.Ended.IsZero()) {
				t.Fatalf("stale run not marked: %+v", r)
			}
			if !tt.stale && r.Status != tt.status {
				t.Fatalf("status changed to %s", r.Status)
			}
		})
	}
	// A second sweep finds nothing new.
	again, err := s.RecoverStale(ctx, StaleOptions{Host: "here", Alive: alive, Now: func() time.Time { return now }, PID: selfPID, Token: selfToken})
	if err != nil || len(again) != 0 {
		t.Fatalf("second sweep marked %v, %v", again, err)
	}
}

func TestOpenRecoversDeadRuns(t *testing.T) {
	path := newLocation(t)
	s, err := openAt(t, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustStudy(t, s, "x")
	host, _ := os.Hostname()
	owner := me
	owner.Host, owner.PID = host, 1<<22+17 // above pid_max's default: never alive
	id, err := s.CreateRun(ctx, NewRun{Study: "x", Variant: "v", ConfigHash: "h", Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartRun(ctx, id, owner); err != nil {
		t.Fatal(err)
	}
	// A run of this very process survives the sweep.
	self := me
	self.Host, self.PID = host, os.Getpid()
	mine, err := s.CreateRun(ctx, NewRun{Study: "x", Variant: "mine", ConfigHash: "h2", Owner: self})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartRun(ctx, mine, self); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = openAt(t, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !reflect.DeepEqual(s.Recovered(), []int64{id}) {
		t.Fatalf("recovered %v, want [%d]", s.Recovered(), id)
	}
	if r, _ := s.Run(ctx, id); r.Status != Interrupted {
		t.Fatalf("status %s, want interrupted", r.Status)
	}
	if r, _ := s.Run(ctx, mine); r.Status != Running {
		t.Fatalf("this process's own run is %s, want running", r.Status)
	}
}

// TestRunsSharedByStudies: table10's "sync" variant reuses table9's
// identical "two-step" run; each study sees it under its own label.
func TestRunsSharedByStudies(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "table9")
	mustStudy(t, s, "table10")
	shared := mustRun(t, s, "table9", "two-step", 1, nil)
	finish(t, s, shared, map[string]float64{"acc.S4": 70})
	async := mustRun(t, s, "table10", "async", 1, nil)
	for range 2 { // idempotent
		if err := s.AddToStudy(ctx, shared, "table10", "sync"); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.Runs(ctx, RunFilter{Study: "table10"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != shared || runs[0].Study != "table10" || runs[0].Variant != "sync" || runs[1].ID != async {
		t.Fatalf("table10 runs: %+v", runs)
	}
	if r, _ := s.Run(ctx, shared); r.Study != "table9" || r.Variant != "two-step" {
		t.Fatalf("the run's own study and label changed: %s/%s", r.Study, r.Variant)
	}
	only, _ := s.Runs(ctx, RunFilter{Study: "table10", Variants: []string{"sync"}})
	if len(only) != 1 || only[0].ID != shared {
		t.Fatalf("table10 sync: %+v", only)
	}
	p, err := s.Pivot(ctx, RunFilter{Study: "table10"}, "acc.S4")
	if err != nil {
		t.Fatal(err)
	}
	if vals, _ := p.Values("sync", "acc.S4"); len(vals) != 1 || vals[0] != 70 {
		t.Fatalf("table10 pivot: %+v", p)
	}
	studies, _ := s.Studies(ctx)
	if studies[0].Name != "table10" || studies[0].Total != 2 || studies[0].Finished != 1 || studies[1].Total != 1 {
		t.Fatalf("study counts: %+v", studies)
	}
	ms, err := s.RunStudies(ctx, shared)
	if err != nil || !reflect.DeepEqual(ms, []Membership{{"table10", "sync"}, {"table9", "two-step"}}) {
		t.Fatalf("studies of the shared run: %+v, %v", ms, err)
	}
	if err := s.AddToStudy(ctx, shared, "nope", "x"); err == nil {
		t.Fatal("added a run to an unknown study")
	}
}
