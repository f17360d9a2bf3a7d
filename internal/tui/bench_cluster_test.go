package tui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/runspec"
	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/testenv"
)

// BenchmarkRunsClusterLive: the Runs screen watching a study of 1,000 runs
// that 32 workers on 32 hosts are all training (each leased, with fresh
// progress), on PostgreSQL when $WORKBENCH_TEST_PG is set, else SQLite. One
// op is what a refresh tick costs: read the live runs, merge them, redraw
// at 120×40 (goal: under 50 ms).
func BenchmarkRunsClusterLive(b *testing.B) {
	const runs, hosts = 1000, 32
	loc, artifacts := b.TempDir()+"/runs.db", b.TempDir()
	if os.Getenv(testenv.EnvPG) != "" {
		loc = testenv.PGSchema(b, "tuisim_")
	}
	st, err := store.OpenURL(loc, store.Options{Artifacts: artifacts, NoRecover: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.PutStudy(ctx, store.Study{Name: "sim", Spec: "x", SpecHash: "x"}); err != nil {
		b.Fatal(err)
	}
	for i := range runs {
		if _, err := st.CreateRun(ctx, store.NewRun{Study: "sim", Variant: fmt.Sprintf("v%02d", i%50), Seed: int64(i / 50),
			Config: "{}", ConfigHash: fmt.Sprintf("sim-%d", i), Params: map[string]string{"profile": "quick"}}); err != nil {
			b.Fatal(err)
		}
	}
	w := st.NewMetricWriter(store.WriterOptions{})
	for i := range runs {
		prov := store.Provenance{Host: fmt.Sprintf("node%02d", i%hosts), PID: 100 + i%hosts}
		r, lease, err := st.ClaimRun(ctx, prov, store.ClaimFilter{})
		if err != nil {
			b.Fatal(err)
		}
		w.SetProgress(r.ID, lease.Token, store.Progress{Step: 100 + i, Batch: 50 + i%190, TotalBatches: 240, Epoch: 1 + i%4,
			ImagesPerSec: 300, Latest: map[string]float64{runspec.KeyLossCE4: 1.2, runspec.KeyLR: 1e-3}})
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	m, err := New(ctx, Options{Store: st, Start: screenRuns})
	if err != nil {
		b.Fatal(err)
	}
	m.width, m.height = 120, 40
	rs := m.screens[screenRuns].(*runsScreen)
	d := loadRunsFull(ctx, st)
	if d.err != nil {
		b.Fatal(d.err)
	}
	rs.apply(d)
	if len(rs.rows) != runs {
		b.Fatalf("loaded %d runs, want %d", len(rs.rows), runs)
	}
	var worst time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		d := loadRunsLive(ctx, st, rs.live, rs.newest)
		if d.err != nil {
			b.Fatal(d.err)
		}
		rs.apply(d)
		if v := m.View(); len(v) == 0 {
			b.Fatal("empty view")
		}
		worst = max(worst, time.Since(t0))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
	b.Logf("%s: %d live runs on %d hosts", st.Backend(), runs, hosts)
}

// An announced change reloads the active screen at once; when the notices
// stop, the TUI says so and polls every second.
func TestChangesReloadAtOnce(t *testing.T) {
	st := newFixture(t).st
	changes := make(chan struct{}, 1)
	m, err := New(context.Background(), Options{Store: st, Start: screenRuns, Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	if m.refresh != 5*time.Second {
		t.Fatalf("refresh with change notices: %s, want the 5 s fallback", m.refresh)
	}
	changes <- struct{}{}
	if msg := m.waitChange()(); msg != (changeMsg{}) {
		t.Fatalf("after a change: %#v", msg)
	}
	if _, cmd := m.Update(changeMsg{}); cmd == nil {
		t.Fatal("a change reloads nothing")
	}
	close(changes)
	msg := m.waitChange()()
	m.Update(msg)
	if m.changes != nil || m.refresh != time.Second || !strings.Contains(m.status, "change notices") {
		t.Fatalf("after the notices stopped: changes %v, refresh %s, status %q", m.changes, m.refresh, m.status)
	}
}
