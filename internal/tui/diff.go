package tui

import (
	"fmt"
	"math"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mksmt/workbench/internal/store"
)

// diffLoaded carries what the diff of runs shows.
type diffLoaded struct {
	ids    []int64
	runs   []store.Run
	params map[int64]map[string]string
	sums   map[int64]map[string]float64
	series map[int64]map[string][]store.Point
	err    error
}

// runDiff is the side-by-side diff of two or more runs (d on Runs with
// runs selected): one column per run, its summaries, the params that
// differ (all of them with a) and its curves on shared axes, scrollable.
type runDiff struct {
	ids    []int64
	data   *diffLoaded
	all    bool // show the params that are equal too
	offset int
	height int
	lines  int
}

// diffCurvePoints is how many points a curve of the diff is read with.
const diffCurvePoints = 120

func (d *runDiff) load(m *Model) tea.Cmd {
	st, ctx, ids := m.be.store, m.ctx, d.ids
	return func() tea.Msg {
		out := diffLoaded{ids: ids, series: map[int64]map[string][]store.Point{}}
		runs, err := st.Runs(ctx, store.RunFilter{IDs: ids})
		if err != nil {
			out.err = err
			return out
		}
		byID := map[int64]store.Run{}
		for _, r := range runs {
			byID[r.ID] = r
		}
		for _, id := range ids { // in the order chosen
			r, ok := byID[id]
			if !ok {
				out.err = fmt.Errorf("run %d is gone", id)
				return out
			}
			out.runs = append(out.runs, r)
		}
		if out.params, err = st.Params(ctx, ids...); err != nil {
			out.err = err
			return out
		}
		if out.sums, err = st.Summaries(ctx, ids...); err != nil {
			out.err = err
			return out
		}
		for _, id := range ids {
			if out.series[id], err = loadCurves(ctx, st, id, diffCurvePoints); err != nil {
				out.err = err
				return out
			}
		}
		return out
	}
}

func (d *runDiff) set(msg diffLoaded) { d.data = &msg }

func (d *runDiff) scroll(a Action) {
	if a == actUp {
		d.offset--
	} else {
		d.offset++
	}
	d.offset = max(min(d.offset, d.lines-d.height), 0)
}

// diffRow lays out a row: the key, then one cell per run.
func diffRow(key string, cells []string, keyW, cellW int) string {
	var b strings.Builder
	b.WriteString(fit(key, keyW))
	for _, c := range cells {
		b.WriteString(" " + fitLeft(c, cellW))
	}
	return b.String()
}

// allSame reports whether every cell is the same text.
func allSame(cells []string) bool {
	for _, c := range cells[1:] {
		if c != cells[0] {
			return false
		}
	}
	return true
}

// text renders the diff as lines of width w.
func (d *runDiff) text(w int) []string {
	if d.data == nil {
		return []string{fmt.Sprintf("loading %s…", runList(d.ids))}
	}
	if d.data.err != nil {
		return []string{stErr.Render(fmt.Sprintf("diff %s: %v", runList(d.ids), d.data.err))}
	}
	runs := d.data.runs
	n := len(runs)
	keyW := 20
	cellW := max((w-keyW)/n-1, 6)
	var out []string
	out = append(out, stHeader.Render(fmt.Sprintf("Diff of %s", runList(d.ids)))+stDim.Render("  ≠ marks rows that differ"))
	row := func(key string, cells []string) {
		mark := "  "
		if !allSame(cells) {
			mark = "≠ "
		}
		out = append(out, diffRow(mark+key, cells, keyW, cellW))
	}
	head := func(f func(r store.Run) string) []string {
		cells := make([]string, n)
		for i, r := range runs {
			cells[i] = f(r)
		}
		return cells
	}
	out = append(out, diffRow("  run", head(func(r store.Run) string { return fmt.Sprint(r.ID) }), keyW, cellW))
	row("study", head(func(r store.Run) string { return r.Study }))
	row("variant", head(func(r store.Run) string { return r.Variant }))
	row("seed", head(func(r store.Run) string { return fmt.Sprint(r.Seed) }))
	row("status", head(func(r store.Run) string { return string(r.Status) }))
	row("duration", head(func(r store.Run) string {
		if r.Started.IsZero() {
			return "-"
		}
		return fmtDuration(r.Duration())
	}))

	out = append(out, "", stLabel.Render("Summaries"))
	sumKeys := map[string]bool{}
	for _, id := range d.ids {
		for k := range d.data.sums[id] {
			sumKeys[k] = true
		}
	}
	if len(sumKeys) == 0 {
		out = append(out, "  (none yet)")
	}
	for _, k := range sortedKeys(sumKeys) {
		cells := make([]string, n)
		for i, id := range d.ids {
			v, ok := d.data.sums[id][k]
			switch {
			case !ok:
				cells[i] = "-"
			case math.IsNaN(v):
				cells[i] = "NaN"
			default:
				cells[i] = fmt.Sprintf("%.6g", v)
			}
		}
		row(k, cells)
	}

	out = append(out, "", stLabel.Render("Params"))
	paramKeys := map[string]bool{}
	for _, id := range d.ids {
		for k := range d.data.params[id] {
			paramKeys[k] = true
		}
	}
	equal := 0
	for _, k := range sortedKeys(paramKeys) {
		cells := make([]string, n)
		for i, id := range d.ids {
			v, ok := d.data.params[id][k]
			if !ok {
				v = "-"
			}
			cells[i] = v
		}
		if allSame(cells) && !d.all {
			equal++
			continue
		}
		row(k, cells)
	}
	if equal > 0 {
		out = append(out, stDim.Render(fmt.Sprintf("  %d equal param(s) not shown; a shows them", equal)))
	}

	out = append(out, "", stLabel.Render("Curves")+stDim.Render(" (shared axes)"))
	out = append(out, d.curves(w)...)
	for i, l := range out {
		out[i] = fit(l, w)
	}
	return out
}

// curves draws each run's curves side by side (as many panels a row as
// fit, at least 26 cells each), every loss chart on the same axes.
func (d *runDiff) curves(w int) []string {
	var losses [][]store.Point
	for _, id := range d.ids {
		losses = append(losses, d.data.series[id][chartKey])
	}
	bounds := seriesBounds(losses...)
	perRow := max(min(len(d.ids), (w+1)/27), 1)
	panelW := (w+1)/perRow - 1
	var out []string
	for start := 0; start < len(d.ids); start += perRow {
		var panels [][]string
		height := 0
		for i := start; i < min(start+perRow, len(d.ids)); i++ {
			r := d.data.runs[i]
			p := []string{stLabel.Render(fmt.Sprintf("run %d · %s s%d", r.ID, r.Variant, r.Seed))}
			p = append(p, curveLines(d.data.series[r.ID], panelW, 8, bounds)...)
			panels = append(panels, p)
			height = max(height, len(p))
		}
		for l := 0; l < height; l++ {
			cells := make([]string, len(panels))
			for j, p := range panels {
				if l < len(p) {
					cells[j] = fit(p[l], panelW)
				} else {
					cells[j] = strings.Repeat(" ", panelW)
				}
			}
			out = append(out, strings.Join(cells, " "))
		}
		out = append(out, "")
	}
	return out
}

func (d *runDiff) view(w, h int) string {
	lines := d.text(w)
	d.height, d.lines = h, len(lines)
	d.offset = max(min(d.offset, len(lines)-h), 0)
	return clip(strings.Join(lines[d.offset:], "\n"), w, h)
}
