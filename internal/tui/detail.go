package tui

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mksmt/workbench/internal/store"
)

// detailLoaded carries everything the detail view of one run shows.
type detailLoaded struct {
	id        int64
	run       store.Run
	params    map[string]string
	summaries map[string]float64
	artifacts []store.Artifact
	marks     store.Marks              // archived, note, tags
	series    map[string][]store.Point // the curves: losses by step, accuracies by epoch
	err       error
}

// detailCurvePoints is how many points a curve of the detail is read with.
const detailCurvePoints = 240

// runDetail is the detail view of one run (enter on Runs or Live): status,
// provenance, progress, checkpoint, curves (as Live draws them, finished
// runs too), summaries, params and artifacts, scrollable.
type runDetail struct {
	id     int64
	run    store.Run
	data   *detailLoaded
	offset int
	height int
	lines  int
}

func (d *runDetail) load(m *Model) tea.Cmd {
	st, ctx, id := m.be.store, m.ctx, d.id
	return func() tea.Msg {
		out := detailLoaded{id: id}
		var err error
		if out.run, err = st.Run(ctx, id); err != nil {
			out.err = err
			return out
		}
		ps, err := st.Params(ctx, id)
		if err != nil {
			out.err = err
			return out
		}
		sums, err := st.Summaries(ctx, id)
		if err != nil {
			out.err = err
			return out
		}
		out.params, out.summaries = ps[id], sums[id]
		marks, err := st.Marks(ctx, id)
		if err != nil {
			out.err = err
			return out
		}
		out.marks = marks[id]
		if out.artifacts, err = st.Artifacts(ctx, id); err != nil {
			out.err = err
			return out
		}
		out.series, out.err = loadCurves(ctx, st, id, detailCurvePoints)
		return out
	}
}

// curveKeys are the series a run's curves show.
var curveKeys = append(append([]string{}, liveLossKeys...), liveAccKeys...)

// loadCurves reads a run's curves, by key.
func loadCurves(ctx context.Context, st Store, id int64, points int) (map[string][]store.Point, error) {
	ss, err := st.Series(ctx, []int64{id}, curveKeys, points)
	if err != nil {
		return nil, err
	}
	out := map[string][]store.Point{}
	for _, s := range ss {
		out[s.Key] = s.Points
	}
	return out, nil
}

// curveLines draws a run's curves in width w: the S4 loss by step as a
// braille chart of chartH lines (over bounds, nil: its own), the latest
// losses, and each head's accuracy by evaluated epoch as a sparkline.
func curveLines(series map[string][]store.Point, w, chartH int, bounds *chartBounds) []string {
	var out []string
	if pts := series[chartKey]; len(pts) >= 2 {
		out = append(out, stLabel.Render(chartKey+" by step"))
		out = append(out, strings.Split(lossChart(pts, w, chartH, bounds), "\n")...)
	} else {
		out = append(out, stDim.Render("no logged steps"))
	}
	var legend []string
	for _, k := range liveLossKeys {
		if pts := series[k]; len(pts) > 0 {
			legend = append(legend, fmt.Sprintf("%s %.3f", k, pts[len(pts)-1].Value))
		}
	}
	if len(legend) > 0 {
		out = append(out, stDim.Render("last: "+strings.Join(legend, " · ")))
	}
	for _, k := range liveAccKeys {
		if pts := series[k]; len(pts) > 0 {
			out = append(out, accLine(k, pts, w))
		}
	}
	return out
}

// checkpointText says where the run's newest checkpoint is and which step
// it holds.
func checkpointText(r store.Run, arts []store.Artifact) string {
	var ck *store.Artifact
	for i := range arts {
		if arts[i].Kind == store.ArtifactCheckpoint {
			ck = &arts[i]
		}
	}
	var parts []string
	if ck != nil {
		where := displayPath(ck.Path)
		if where == "" {
			where = fmt.Sprintf("inline, %d bytes", ck.Size)
		}
		parts = append(parts, where)
	}
	if r.CheckpointStep >= 0 && (ck != nil || r.CheckpointStep > 0) {
		parts = append(parts, fmt.Sprintf("step %d", r.CheckpointStep))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}

// archived reports whether the run shown is archived.
func (d *runDetail) archived() bool { return d.data != nil && d.data.marks.IsArchived() }

func (d *runDetail) set(msg detailLoaded) {
	d.data = &msg
	if msg.err == nil {
		d.run = msg.run
	}
}

func (d *runDetail) scroll(a Action) {
	if a == actUp {
		d.offset--
	} else {
		d.offset++
	}
	if d.offset > d.lines-d.height {
		d.offset = d.lines - d.height
	}
	if d.offset < 0 {
		d.offset = 0
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// text renders the detail as lines.
func (d *runDetail) text(w int) []string {
	if d.data == nil {
		return []string{fmt.Sprintf("loading run %d…", d.id)}
	}
	if d.data.err != nil {
		return []string{stErr.Render(fmt.Sprintf("run %d: %v", d.id, d.data.err))}
	}
	r := d.data.run
	var out []string
	out = append(out, stHeader.Render(fmt.Sprintf("Run %d · %s · %s · seed %d", r.ID, r.Study, r.Variant, r.Seed)))
	kv := func(k, v string) { out = append(out, fmt.Sprintf("  %-12s %s", k, v)) }
	status := statusStyle(string(r.Status)).Render(string(r.Status))
	if mk := d.data.marks; mk.IsArchived() {
		status += " · archived " + fmtTime(mk.Archived)
	}
	kv("status", status)
	if mk := d.data.marks; len(mk.Tags) > 0 {
		kv("tags", strings.Join(mk.Tags, ", "))
	}
	if mk := d.data.marks; mk.Note != "" {
		kv("note", mk.Note)
	}
	if r.Error != "" {
		kv("error", stErr.Render(r.Error))
	}
	if r.Status == store.Diverged {
		kv("diverged at", fmt.Sprintf("step %d", r.DivergedStep))
	}
	kv("created", fmtTime(r.Created))
	kv("started", fmtTime(r.Started))
	kv("ended", fmtTime(r.Ended))
	if !r.Started.IsZero() {
		kv("duration", fmtDuration(r.Duration()))
	}
	kv("attempts", fmt.Sprint(r.Attempts))
	if r.Status == store.Running {
		// A worker renews its lease with this every few seconds: an old one
		// means its worker is gone and the run will be queued again.
		kv("heartbeat", fmtTime(r.Heartbeat)+" from "+r.Host)
	}
	kv("checkpoint", checkpointText(r, d.data.artifacts))
	if r.Status == store.Running || r.Status == store.Queued || r.Progress.TotalBatches > 0 {
		p := r.Progress
		kv("progress", fmt.Sprintf("%s %3.0f%%  epoch %d · batch %d/%d · step %d · %.0f img/s",
			bar(p.Fraction(), 20), 100*p.Fraction(), p.Epoch, p.Batch, p.TotalBatches, p.Step, p.ImagesPerSec))
	}
	kv("data set", r.Dataset)
	kv("config hash", shortHash(r.ConfigHash))
	dirty := ""
	if r.GitDirty {
		dirty = " (dirty)"
	}
	blas := ""
	if r.BLAS != "" {
		blas = " · OpenBLAS " + r.BLAS
	}
	kv("provenance", fmt.Sprintf("%s pid %d · %s · commit %s%s%s", r.Host, r.PID, r.GoVersion, shortHash(r.GitCommit), dirty, blas))

	out = append(out, "", stLabel.Render("Curves"))
	for _, l := range curveLines(d.data.series, max(w-2, 20), 8, nil) {
		out = append(out, "  "+l)
	}
	out = append(out, "", stLabel.Render("Summaries"))
	if len(d.data.summaries) == 0 {
		out = append(out, "  (none yet)")
	}
	for _, k := range sortedKeys(d.data.summaries) {
		v := d.data.summaries[k]
		s := "NaN"
		if !math.IsNaN(v) {
			s = fmt.Sprintf("%.6g", v)
		}
		out = append(out, fmt.Sprintf("  %-20s %s", k, s))
	}
	out = append(out, "", stLabel.Render("Params"))
	for _, k := range sortedKeys(d.data.params) {
		out = append(out, fmt.Sprintf("  %-20s %s", k, d.data.params[k]))
	}
	out = append(out, "", stLabel.Render("Artifacts"))
	if len(d.data.artifacts) == 0 {
		out = append(out, "  (none)")
	}
	for _, a := range d.data.artifacts {
		where := displayPath(a.Path)
		if where == "" {
			where = fmt.Sprintf("inline, %d bytes", a.Size)
		}
		out = append(out, fmt.Sprintf("  %-10s %-16s %s", a.Kind, a.Name, where))
	}
	for i, l := range out {
		out[i] = fit(l, w)
	}
	return out
}

func (d *runDetail) view(w, h int) string {
	lines := d.text(w)
	d.height, d.lines = h, len(lines)
	if d.offset > len(lines)-h {
		d.offset = max(len(lines)-h, 0)
	}
	return clip(strings.Join(lines[d.offset:], "\n"), w, h)
}

// displayPath shows a file path relative to the working directory (the
// project) when it lies inside it: the store returns artifact paths
// resolved against its artifacts directory.
func displayPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return p
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "-"
	}
	return h
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
