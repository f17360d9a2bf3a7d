package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/runspec"
	"github.com/mksmt/workbench/internal/store"
)

// pkgDir is the package directory: tests change into temporary project
// directories, golden files stay here.
var pkgDir string

func TestMain(m *testing.M) {
	// Golden output is plain text: no colours, no attributes.
	lipgloss.SetColorProfile(termenv.Ascii)
	var err error
	if pkgDir, err = os.Getwd(); err != nil {
		panic(err)
	}
	code := m.Run()
	if benchStore != nil {
		benchStore.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// fixtureSpec is the study the fixture records: baseline against two-step
// MKSMT over three seeds.
const fixtureSpec = `name = "fixture"
title = "Baseline vs two-step (fixture)"
description = "A study recorded by the tests."
table = "table9"
profile = "smoke"
seeds = [1, 2, 3]
metrics = ["acc.S3", "acc.S4"]
baseline = "baseline"

[[variant]]
label = "baseline"
steps = 0

[[variant]]
label = "two-step"
steps = 2

[[claim]]
text = "two-step beats the baseline at S4"
metric = "acc.S4"
variant = "two-step"
expect = "higher"
`

// brokenSpec does not parse: the Studies screen must say so.
const brokenSpec = `name = "broken"
seeds = [1]
[[variant]]
label = "x"
steps = 7
`

type fixture struct {
	st      *store.Store
	dir     string // project root: experiments/, plots/, runs.db
	specDir string
	plotDir string
	ids     map[string]int64 // "variant/seed" or a status name -> run id
}

// newFixture builds a project directory with two spec files and a runs.db
// filled through the store's API: the fixture study's six finished runs, a
// running run with logged metrics, a queued, a failed and an interrupted run
// of a second study.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	// Paths on screen are relative to the project, as when the workbench
	// runs in its repository.
	t.Chdir(dir)
	f := &fixture{dir: dir, specDir: filepath.Join(dir, "experiments"), plotDir: filepath.Join(dir, "plots"), ids: map[string]int64{}}
	if err := os.MkdirAll(f.specDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"fixture.toml": fixtureSpec, "broken.toml": brokenSpec} {
		if err := os.WriteFile(filepath.Join(f.specDir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(filepath.Join(dir, "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	ctx := context.Background()

	study, err := experiment.Parse(filepath.Join(f.specDir, "fixture.toml"), []byte(fixtureSpec))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := study.Expand(experiment.ExpandOptions{Profile: "smoke"})
	if err != nil {
		t.Fatal(err)
	}
	must(t, st.PutStudy(ctx, store.Study{Name: study.Name, Title: study.Title, Spec: fixtureSpec, SpecHash: study.Hash}))
	prov := store.Provenance{Host: "fixture-host", PID: 4242, GoVersion: "go1.26", GitCommit: "0123456789abcdef", CodeVersion: "test",
		Dataset: runs[0].Config.Dataset, DatasetFingerprint: "fp"}
	for i, rs := range runs {
		id := f.create(t, rs, prov)
		must(t, st.StartRun(ctx, id, prov))
		// Deterministic, distinct numbers: two-step beats the baseline.
		base := 60.0 + float64(rs.Seed)
		if rs.Variant == "two-step" {
			base += 3
		}
		sums := map[string]float64{
			runspec.KeyAccS4: base, runspec.KeyImagesPerSec: 400 + float64(i), runspec.KeyTrainSeconds: 10 + float64(i),
			runspec.KeyParamsInference: 500000, runspec.KeyParamsExtra: 20000,
		}
		if rs.Variant == "two-step" {
			sums[runspec.KeyAccS3] = base - 2
		}
		if rs.Seed == 1 {
			// Seed 1's curves, for the run detail and the diff: the
			// two-step loss falls faster.
			must(t, st.LogMetrics(ctx, finishedCurves(id, rs.Variant == "two-step")))
		}
		must(t, st.EndRun(ctx, id, store.End{Status: store.Finished, Summaries: sums,
			Progress: &store.Progress{Step: 4, Batch: 2, TotalBatches: 2, Epoch: 1}}))
		f.ids[fmt.Sprintf("%s/%d", rs.Variant, rs.Seed)] = id
	}
	_, err = st.AddArtifact(ctx, store.Artifact{RunID: f.ids["two-step/1"], Kind: store.ArtifactCheckpoint, Name: "final", Path: "ckpt/1.ckpt"}) // relative to the artifacts directory, runs.db.d
	must(t, err)

	// A second study ("other"), recorded only in the database, with runs in
	// every other state.
	other := runs[3] // a two-step run config
	other.Study = "other"
	must(t, st.PutStudy(ctx, store.Study{Name: "other", Title: "Runs in every state", Spec: "name = \"other\"", SpecHash: "other"}))
	for i, status := range []store.Status{store.Running, store.Queued, store.Failed, store.Interrupted} {
		rs := other
		rs.Seed = int64(10 + i)
		rs.Hash = fmt.Sprintf("other-%d", i)
		id := f.create(t, rs, prov)
		f.ids[string(status)] = id
		if status == store.Queued {
			continue
		}
		must(t, st.StartRun(ctx, id, prov))
		switch status {
		case store.Running:
			var ms []store.Metric
			for step := 1; step <= 40; step++ {
				ms = append(ms,
					store.Metric{RunID: id, Key: runspec.KeyLossCE4, Step: step, Epoch: 1 + step/20, Value: 2.5 - 0.05*float64(step)},
					store.Metric{RunID: id, Key: runspec.KeyLossCE3, Step: step, Epoch: 1 + step/20, Value: 2.6 - 0.05*float64(step)},
					store.Metric{RunID: id, Key: runspec.KeyLossKD, Step: step, Epoch: 1 + step/20, Value: 0.5 - 0.01*float64(step)})
			}
			// The stream runs ahead of the heartbeat below (step 40): lr and
			// the throughput are logged up to step 44, two steps a second.
			t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for step := 1; step <= 44; step++ {
				at := t0.Add(time.Duration(step) * 500 * time.Millisecond)
				ms = append(ms,
					store.Metric{RunID: id, Key: runspec.KeyLR, Step: step, Epoch: 1 + step/20, Value: 0.002, Time: at},
					store.Metric{RunID: id, Key: runspec.KeyImagesPerSec, Step: step, Epoch: 1 + step/20, Value: 300 + float64(step), Time: at})
			}
			for ep := 1; ep <= 2; ep++ {
				ms = append(ms,
					store.Metric{RunID: id, Key: runspec.KeyAccS3, Step: 20 * ep, Epoch: ep, Value: 30 + 10*float64(ep)},
					store.Metric{RunID: id, Key: runspec.KeyAccS4, Step: 20 * ep, Epoch: ep, Value: 35 + 10*float64(ep)})
			}
			must(t, st.LogMetrics(ctx, ms))
			_, err := st.Heartbeat(ctx, prov.Host, prov.PID, []store.Beat{{RunID: id, Progress: store.Progress{
				Step: 40, Batch: 20, TotalBatches: 50, Epoch: 2, ImagesPerSec: 321,
				Latest: map[string]float64{runspec.KeyLossCE4: 0.5, runspec.KeyAccS3: 50, runspec.KeyAccS4: 55, runspec.KeyLR: 0.002},
			}}})
			must(t, err)
		case store.Failed:
			must(t, st.EndRun(ctx, id, store.End{Status: store.Failed, Error: "data set: file missing"}))
		case store.Interrupted:
			must(t, st.EndRun(ctx, id, store.End{Status: store.Interrupted, Error: "interrupted by signal"}))
		}
	}
	return f
}

// finishedCurves are a finished run's logged points: 30 steps of the S4
// loss (and the S3 loss with two steps), accuracies at 3 evaluated epochs.
func finishedCurves(id int64, twoStep bool) []store.Metric {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	fall := 0.04
	if twoStep {
		fall = 0.06
	}
	var ms []store.Metric
	for step := 1; step <= 30; step++ {
		at := t0.Add(time.Duration(step) * time.Second)
		ep := 1 + (step-1)/10
		ms = append(ms, store.Metric{RunID: id, Key: runspec.KeyLossCE4, Step: step, Epoch: ep, Value: 2.4 - fall*float64(step), Time: at})
		if twoStep {
			ms = append(ms, store.Metric{RunID: id, Key: runspec.KeyLossCE3, Step: step, Epoch: ep, Value: 2.5 - fall*float64(step), Time: at})
		}
	}
	for ep := 1; ep <= 3; ep++ {
		acc := 40 + 7*float64(ep)
		if twoStep {
			acc += 3
			ms = append(ms, store.Metric{RunID: id, Key: runspec.KeyAccS3, Step: 10 * ep, Epoch: ep, Value: acc - 2, Time: t0})
		}
		ms = append(ms, store.Metric{RunID: id, Key: runspec.KeyAccS4, Step: 10 * ep, Epoch: ep, Value: acc, Time: t0})
	}
	return ms
}

func (f *fixture) create(t testing.TB, rs experiment.RunSpec, prov store.Provenance) int64 {
	t.Helper()
	id, err := f.st.CreateRun(context.Background(), store.NewRun{
		Study: rs.Study, Variant: rs.Variant, Seed: rs.Seed, Config: rs.ConfigJSON, ConfigHash: rs.Hash,
		Params: rs.Params, Owner: prov,
	})
	must(t, err)
	return id
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeRunner records what the TUI asks of the runner. The end-to-end test
// uses the real runner; the screen tests only check the wiring.
type fakeRunner struct {
	mu       sync.Mutex
	active   int
	enqueued []string
	canceled []int64
	resumed  []int64
}

func (r *fakeRunner) Enqueue(_ context.Context, path, profile string) (store.Plan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.enqueued = append(r.enqueued, path)
	return store.Plan{Queued: []int64{100}}, nil
}

func (r *fakeRunner) Cancel(id int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.canceled = append(r.canceled, id)
	return nil
}

func (r *fakeRunner) Resume(_ context.Context, ids ...int64) (store.Plan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resumed = append(r.resumed, ids...)
	return store.Plan{Resumed: ids}, nil
}

func (r *fakeRunner) Active() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active
}
