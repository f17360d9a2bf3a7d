package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mksmt/workbench/internal/runspec"
	"github.com/mksmt/workbench/internal/store"
)

// benchRuns is the size of the database the Runs screen benchmarks use.
const benchRuns = 10000

var (
	benchOnce  sync.Once
	benchStore *store.Store
	benchDir   string
	benchErr   error
)

// benchDB fills a database with 10,000 runs through the store's API, once
// per test binary: 20 studies × 50 variants × 10 seeds, nearly all
// finished with summaries, a few running, queued, failed and interrupted.
func benchDB(b *testing.B) *store.Store {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "tui-bench-")
		if benchErr != nil {
			return
		}
		benchStore, benchErr = fillBenchDB(filepath.Join(benchDir, "runs.db"))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

func fillBenchDB(path string) (*store.Store, error) {
	st, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	prov := store.Provenance{Host: "bench-host", PID: os.Getpid(), GoVersion: "go", CodeVersion: "bench", Dataset: "synthetic"}
	for i := 0; i < benchRuns; i++ {
		study := fmt.Sprintf("study%02d", i/500)
		variant := fmt.Sprintf("variant-%02d", (i/10)%50)
		seed := int64(i % 10)
		if i%500 == 0 {
			if err := st.PutStudy(ctx, store.Study{Name: study, Title: "benchmark " + study, Spec: "name = \"" + study + "\"", SpecHash: study}); err != nil {
				return nil, err
			}
		}
		id, err := st.CreateRun(ctx, store.NewRun{Study: study, Variant: variant, Seed: seed, Config: "{}",
			ConfigHash: fmt.Sprintf("h%05d", i), Params: map[string]string{"steps": fmt.Sprint(i % 4), "profile": "quick"}, Owner: prov})
		if err != nil {
			return nil, err
		}
		switch {
		case i%2000 == 7: // queued: leave it
			continue
		case i%2500 == 3:
			if err := st.StartRun(ctx, id, prov); err != nil {
				return nil, err
			}
			continue // running
		}
		if err := st.StartRun(ctx, id, prov); err != nil {
			return nil, err
		}
		end := store.End{Status: store.Finished, Summaries: map[string]float64{
			runspec.KeyAccS3: 50 + float64(i%37), runspec.KeyAccS4: 55 + float64(i%41),
			runspec.KeyImagesPerSec: 390, runspec.KeyTrainSeconds: 25,
		}}
		switch {
		case i%997 == 5:
			end = store.End{Status: store.Failed, Error: "synthetic failure"}
		case i%1009 == 9:
			end = store.End{Status: store.Interrupted, Error: "interrupted"}
		}
		if err := st.EndRun(ctx, id, end); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// loadedRuns returns a Runs screen holding every run of the bench db.
func loadedRuns(b *testing.B, st *store.Store) (*Model, *runsScreen) {
	b.Helper()
	m, err := New(context.Background(), Options{Store: st, Start: screenRuns})
	if err != nil {
		b.Fatal(err)
	}
	rs := m.screens[screenRuns].(*runsScreen)
	d := loadRunsFull(context.Background(), st)
	if d.err != nil {
		b.Fatal(d.err)
	}
	rs.apply(d)
	if len(rs.rows) != benchRuns {
		b.Fatalf("loaded %d runs, want %d", len(rs.rows), benchRuns)
	}
	return m, rs
}

// BenchmarkRunsRedraw measures one redraw of the Runs screen at 80×24 with
// 10,000 runs loaded: what the terminal gets on every key press and tick
// (goal: well under 50 ms).
func BenchmarkRunsRedraw(b *testing.B) {
	m, rs := loadedRuns(b, benchDB(b))
	m.width, m.height = 80, 24
	rs.cur.set(benchRuns/2, len(rs.order), 20) // mid-table
	b.ResetTimer()
	for b.Loop() {
		if v := m.View(); len(v) == 0 {
			b.Fatal("empty view")
		}
	}
}

// BenchmarkRunsSortFilter measures re-sorting and filtering 10,000 runs
// (a key press on s, S or a filter keystroke), followed by a redraw.
func BenchmarkRunsSortFilter(b *testing.B) {
	m, rs := loadedRuns(b, benchDB(b))
	rs.filter.input.SetValue("variant-1 status=finished")
	b.ResetTimer()
	for b.Loop() {
		rs.table.sortCol = (rs.table.sortCol + 1) % len(runCols)
		rs.resort()
		_ = m.View()
	}
}

// BenchmarkRunsRefresh measures the periodic refresh of the Runs screen:
// the runs that are queued or running, read from the store, merged.
func BenchmarkRunsRefresh(b *testing.B) {
	st := benchDB(b)
	_, rs := loadedRuns(b, st)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		d := loadRunsLive(ctx, st, rs.live, rs.newest)
		if d.err != nil {
			b.Fatal(d.err)
		}
		rs.apply(d)
	}
}

// BenchmarkRunsReload measures the full reload (every run and the summaries
// of the finished ones), done on opening the screen and every 30 refreshes.
func BenchmarkRunsReload(b *testing.B) {
	st := benchDB(b)
	_, rs := loadedRuns(b, st)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		d := loadRunsFull(ctx, st)
		if d.err != nil {
			b.Fatal(d.err)
		}
		rs.apply(d)
	}
}
