package tui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/sparkline"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mksmt/workbench/internal/runspec"
	"github.com/mksmt/workbench/internal/store"
)

// The series the Live screen draws: the loss of the S4 head as a braille
// chart, the other losses as numbers, and each head's accuracy as a
// sparkline over the evaluated epochs.
var (
	liveLossKeys = []string{runspec.KeyLossCE4, runspec.KeyLossCE3, runspec.KeyLossCE2, runspec.KeyLossKD}
	liveAccKeys  = []string{runspec.KeyAccS2, runspec.KeyAccS3, runspec.KeyAccS4}
	chartKey     = runspec.KeyLossCE4
)

type liveLoaded struct {
	runs   []store.Run
	stream map[int64]map[string][]store.Point // newest progress points of the running runs
	id     int64                              // run whose series were loaded (0: none)
	series map[string][]store.Point
	err    error
}

// liveScreen shows the queued and running runs with progress bars and ETA,
// and live charts of the selected run.
type liveScreen struct {
	runs    []store.Run
	stream  map[int64]map[string][]store.Point
	cur     cursor
	want    int64 // run the user selected; kept across refreshes
	pinned  int64 // a run opened from Runs (w), shown whatever its status
	id      int64
	series  map[string][]store.Point
	loaded  bool
	loading bool
	err     error
	listH   int
	chartW  int
}

func newLive() *liveScreen { return &liveScreen{chartW: minWidth} }

func (s *liveScreen) title() string { return "Live" }

func (s *liveScreen) scopes() []Scope { return []Scope{ScopeLive, ScopeList} }

func (s *liveScreen) typing() bool { return false }

func (s *liveScreen) load(m *Model) tea.Cmd {
	if s.loading {
		return nil
	}
	s.loading = true
	st, ctx, want, pinned, points := m.be.store, m.ctx, s.want, s.pinned, max(s.chartW, 20)
	return func() tea.Msg { return loadLive(ctx, st, want, pinned, points) }
}

// loadLive reads the live runs, the pinned run (any status) after them,
// and the series of the wanted run (or, when it is gone, of the first
// running one).
func loadLive(ctx context.Context, st Store, want, pinned int64, points int) liveLoaded {
	runs, err := st.Live(ctx, store.RunFilter{})
	if err != nil {
		return liveLoaded{err: err}
	}
	// Running runs first, then queued, each in id order.
	ordered := make([]store.Run, 0, len(runs))
	for _, status := range []store.Status{store.Running, store.Queued} {
		for _, r := range runs {
			if r.Status == status {
				ordered = append(ordered, r)
			}
		}
	}
	if pinned != 0 && !slices.ContainsFunc(ordered, func(r store.Run) bool { return r.ID == pinned }) {
		r, err := st.Run(ctx, pinned)
		if err != nil {
			return liveLoaded{err: err}
		}
		ordered = append(ordered, r)
	}
	out := liveLoaded{runs: ordered}
	var running []int64
	for _, r := range ordered {
		if r.Status == store.Running {
			running = append(running, r.ID)
		}
	}
	if out.stream, err = st.LatestPoints(ctx, running, progressKeys, progressPoints); err != nil {
		out.err = err
		return out
	}
	for _, r := range ordered {
		if r.ID == want {
			out.id = want
		}
	}
	if out.id == 0 && len(ordered) > 0 {
		out.id = ordered[0].ID
	}
	if out.id == 0 {
		return out
	}
	keys := append(append([]string{}, liveLossKeys...), liveAccKeys...)
	ss, err := st.Series(ctx, []int64{out.id}, keys, points)
	if err != nil {
		out.err = err
		return out
	}
	out.series = map[string][]store.Point{}
	for _, s := range ss {
		out.series[s.Key] = s.Points
	}
	return out
}

func (s *liveScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(liveLoaded); ok {
		s.loading = false
		s.loaded = true
		s.err = msg.err
		s.runs, s.id, s.series, s.stream = msg.runs, msg.id, msg.series, msg.stream
		s.cur.pos = 0
		for i, r := range s.runs {
			if r.ID == s.id {
				s.cur.pos = i
			}
		}
		s.cur.scroll(len(s.runs), s.listH)
	}
	return nil
}

func (s *liveScreen) handle(m *Model, a Action) (tea.Cmd, bool) {
	if a == actBack && s.pinned != 0 {
		s.pinned = 0
		return s.load(m), true
	}
	if s.cur.handleNav(a, len(s.runs), s.listH) {
		if s.cur.pos < len(s.runs) && s.runs[s.cur.pos].ID != s.want {
			s.want = s.runs[s.cur.pos].ID
			return s.load(m), true
		}
		return nil, true
	}
	switch a {
	case actOpenRun:
		if s.cur.pos < len(s.runs) {
			return m.openRun(s.runs[s.cur.pos].ID), true
		}
		return nil, true
	}
	return nil, false
}

// progressKeys are the keys logged at every logged step whose newest
// points give a running run's progress: lr (always logged) and the
// measured throughput.
var progressKeys = []string{runspec.KeyLR, runspec.KeyImagesPerSec}

// progressPoints is how many of the newest points the pace is measured
// over.
const progressPoints = 20

// liveProgress is where a running run stands, read from its metric stream
// (written as the trainer logs) rather than from its heartbeat (written
// every few seconds), which only fills in what the stream does not carry.
type liveProgress struct {
	step, epoch  int
	batch, total int // batches done and in the whole run (total 0: not recorded)
	imagesPerSec float64
	eta          time.Duration // < 0: unknown
	fromStream   bool
}

func (p liveProgress) fraction() float64 {
	if p.total <= 0 {
		return 0
	}
	return math.Min(1, float64(p.batch)/float64(p.total))
}

// streamProgress computes a run's progress from the newest points of its
// metric stream:
//
//   - step and epoch: the newest logged point's;
//   - batches done: its step × batches per step (the heartbeat's Batch/Step,
//     1 before any heartbeat), at most the run's total batches if recorded;
//   - img/s: the newest logged throughput;
//   - ETA: the batches left over the pace of the newest points (steps per
//     second between the first and last of them, in batches), else over the
//     run's pace so far.
//
// Without stream points it falls back to the heartbeat's progress.
func streamProgress(r store.Run, pts map[string][]store.Point) liveProgress {
	hb := r.Progress
	p := liveProgress{step: hb.Step, epoch: hb.Epoch, batch: hb.Batch, total: hb.TotalBatches, imagesPerSec: hb.ImagesPerSec, eta: -1}
	perStep := 1.0
	if hb.Step > 0 && hb.Batch > 0 {
		perStep = float64(hb.Batch) / float64(hb.Step)
	}
	var rate float64 // batches per second
	if lr := pts[runspec.KeyLR]; len(lr) > 0 && lr[len(lr)-1].Step >= hb.Step {
		last := lr[len(lr)-1]
		p.fromStream = true
		p.step, p.epoch = last.Step, last.Epoch
		p.batch = int(math.Round(float64(last.Step) * perStep))
		if p.total > 0 {
			p.batch = min(p.batch, p.total)
		}
		first := lr[0]
		if dt := last.Time.Sub(first.Time).Seconds(); dt > 0 && last.Step > first.Step {
			rate = float64(last.Step-first.Step) * perStep / dt
		}
	}
	if ips := pts[runspec.KeyImagesPerSec]; len(ips) > 0 && ips[len(ips)-1].Step >= hb.Step && ips[len(ips)-1].Value > 0 {
		p.imagesPerSec = ips[len(ips)-1].Value
	}
	if rate <= 0 && p.batch > 0 && !r.Started.IsZero() {
		rate = float64(p.batch) / r.Duration().Seconds()
	}
	if r.Status == store.Running && p.total > 0 && rate > 0 && !math.IsInf(rate, 0) {
		p.eta = time.Duration(float64(p.total-p.batch) / rate * float64(time.Second))
	}
	return p
}

func (s *liveScreen) view(m *Model, w, h int) string {
	s.chartW = w
	var running, queued int
	for _, r := range s.runs {
		switch r.Status {
		case store.Running:
			running++
		case store.Queued:
			queued++
		}
	}
	info := fmt.Sprintf("%d running · %d queued", running, queued)
	if s.pinned != 0 {
		info += fmt.Sprintf(" · run %d opened from Runs (esc closes it)", s.pinned)
	}
	lines := []string{stDim.Render(info)}
	if s.err != nil {
		lines[0] += " · " + stErr.Render("refresh failed: "+s.err.Error())
	}
	if !s.loaded {
		return clip(strings.Join(append(lines, "loading…"), "\n"), w, h)
	}
	if len(s.runs) == 0 {
		lines = append(lines, "", "Nothing is running.",
			"Start a study from 1 Studies (r) or 2 Builder (ctrl+r).",
			"Any run, finished ones too, opens here with w on 3 Runs.")
		return clip(strings.Join(lines, "\n"), w, h)
	}
	// The list takes up to a third of the body; the charts the rest.
	s.listH = min(len(s.runs), max((h-1)/3, 1))
	s.cur.scroll(len(s.runs), s.listH)
	for i := s.cur.offset; i < len(s.runs) && i < s.cur.offset+s.listH; i++ {
		line := liveRow(s.runs[i], s.stream[s.runs[i].ID], w)
		if i == s.cur.pos {
			line = stCursor.Render(">" + line[1:])
		}
		lines = append(lines, line)
	}
	chartH := h - len(lines)
	if chartH > 4 {
		lines = append(lines, s.charts(w, chartH))
	}
	return clip(strings.Join(lines, "\n"), w, h)
}

// liveRow is one run's progress line, from its metric stream.
func liveRow(r store.Run, pts map[string][]store.Point, w int) string {
	name := fmt.Sprintf("%d %s/%s s%d", r.ID, r.Study, r.Variant, r.Seed)
	var right string
	if r.Status == store.Queued {
		right = fmt.Sprintf("%-14s %s", "", "queued")
	} else {
		p := streamProgress(r, pts)
		end := "ETA " + fitLeft("-", 6)
		switch {
		case r.Status != store.Running:
			end = fitLeft(string(r.Status), 10)
		case p.eta >= 0:
			end = "ETA " + fitLeft(fmtDuration(p.eta), 6)
		}
		right = fmt.Sprintf("%s %3.0f%% ep %-2d step %-5d %4.0f img/s %s",
			bar(p.fraction(), 12), 100*p.fraction(), p.epoch, p.step, p.imagesPerSec, end)
	}
	nameW := w - 2 - 1 - len([]rune(right))
	return "  " + fit(name, nameW) + " " + right
}

// charts draws the selected run's loss chart, latest losses and head
// accuracies in an area of w×h.
func (s *liveScreen) charts(w, h int) string {
	var run store.Run
	for _, r := range s.runs {
		if r.ID == s.id {
			run = r
		}
	}
	title := fmt.Sprintf("─ run %d · %s · %s · seed %d ", run.ID, run.Study, run.Variant, run.Seed)
	out := []string{fit(title+strings.Repeat("─", max(w-len([]rune(title)), 0)), w)}

	// Losses: the latest value of each component the schedule has.
	var legend []string
	for _, k := range liveLossKeys {
		if pts := s.series[k]; len(pts) > 0 {
			legend = append(legend, fmt.Sprintf("%s %.3f", k, pts[len(pts)-1].Value))
		}
	}
	if v, ok := run.Progress.Latest[runspec.KeyLR]; ok {
		legend = append(legend, fmt.Sprintf("lr %.2g", v))
	}
	accRows := 0
	for _, k := range liveAccKeys {
		if len(s.series[k]) > 0 {
			accRows++
		}
	}
	chartH := h - 2 - accRows
	pts := s.series[chartKey]
	switch {
	case len(pts) < 2:
		out = append(out, stDim.Render("waiting for the first logged steps…"))
	case chartH >= 3:
		out = append(out, stLabel.Render(chartKey+" by step"))
		out = append(out, lossChart(pts, w, chartH-1, nil))
	}
	out = append(out, stDim.Render(strings.Join(legend, " · ")))
	for _, k := range liveAccKeys {
		if pts := s.series[k]; len(pts) > 0 {
			out = append(out, accLine(k, pts, w))
		}
	}
	return strings.Join(out, "\n")
}

// accLine is one head's accuracy over the evaluated epochs as a sparkline.
func accLine(key string, pts []store.Point, w int) string {
	last := pts[len(pts)-1]
	label := fmt.Sprintf("%-7s", strings.TrimPrefix(key, "acc."))
	tail := fmt.Sprintf(" %5.1f%% (epoch %d)", last.Value, last.Epoch)
	sw := max(w-len(label)-len(tail), 1)
	vals := make([]float64, 0, len(pts))
	for _, p := range pts {
		if !math.IsNaN(p.Value) {
			vals = append(vals, p.Value)
		}
	}
	if len(vals) > sw {
		vals = vals[len(vals)-sw:]
	}
	sl := sparkline.New(sw, 1, sparkline.WithMaxValue(100), sparkline.WithNoAutoMaxValue())
	sl.PushAll(vals)
	sl.Draw()
	return label + sl.View() + tail
}
