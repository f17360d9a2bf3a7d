package tui

import (
	"slices"
	"strings"
	"testing"
)

// space selects runs, d shows them side by side: what differs is marked,
// equal params are hidden until a, the curves share their axes.
func TestRunsDiff(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenRuns)
	s.waitFor("10 runs")
	s.keys("d")
	s.waitFor("select two or more runs")
	s.keys("/", "seed=1", "enter")
	s.waitFor("2 of 10 runs")
	s.keys("a", "d")
	s.waitFor("Diff of runs 1, 4", "equal param(s) not shown")
	shot := s.snapshot()
	var all, some []string
	s.until("diff loaded", func(m *Model) bool {
		d := m.screens[screenRuns].(*runsScreen).diff
		if d == nil || d.data == nil {
			return false
		}
		some = d.text(80)
		d.all = true
		all = d.text(80)
		d.all = false
		return true
	})
	m := s.finish()
	d := m.screens[screenRuns].(*runsScreen).diff
	want := []int64{f.ids["baseline/1"], f.ids["two-step/1"]}
	if d == nil || !slices.Equal(d.ids, want) {
		t.Fatalf("diff of %v, want %v", d, want)
	}
	text := strings.Join(some, "\n")
	for _, row := range [][]string{
		{"≠", "variant", "baseline", "two-step"},
		{"study", "fixture", "fixture"},
		{"≠", "acc.S4", "61", "64"},
		{"≠", "acc.S3", "-", "62"},
		{"≠", "steps", "0", "2"},
		{"≠", "distill", "none", "decision"},
		{"20", "equal", "param(s)", "not", "shown;", "a", "shows", "them"},
	} {
		if !hasRow(some, row...) {
			t.Errorf("diff lacks the row %q:\n%s", row, text)
		}
	}
	for _, part := range []string{"run 1 · baseline s1", "run 4 · two-step s1", "last: loss.ce4 1.200", "last: loss.ce4 0.600 · loss.ce3 0.700"} {
		if !strings.Contains(text, part) {
			t.Errorf("diff lacks %q:\n%s", part, text)
		}
	}
	if hasRow(some, "epochs", "1", "1") || !hasRow(all, "epochs", "1", "1") {
		t.Error("a does not toggle the equal params")
	}
	requireScreen(t, shot)
}

// w on Runs opens any run on Live, a finished one too, pinned after the
// active runs until esc.
func TestLiveOpensAnyRun(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenRuns)
	s.waitFor("10 runs")
	s.keys("/", "variant=two-step seed=1", "enter")
	s.waitFor("1 of 10 runs")
	s.keys("w")
	id := f.ids["two-step/1"]
	s.until("the finished run on Live", func(m *Model) bool {
		l := m.screens[screenLive].(*liveScreen)
		return m.active == screenLive && l.id == id && len(l.series[chartKey]) == 30
	})
	s.waitFor("opened from Runs", "finished")
	shot := s.snapshot()
	s.keys("esc")
	s.until("unpinned", func(m *Model) bool {
		l := m.screens[screenLive].(*liveScreen)
		return l.pinned == 0 && len(l.runs) == 2 && l.id == f.ids["running"]
	})
	m := s.finish()
	if m.active != screenLive {
		t.Errorf("esc left Live for %d", m.active+1)
	}
	requireScreen(t, shot)
}

// hasRow reports whether a line has exactly these words.
func hasRow(lines []string, words ...string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return slices.Equal(strings.Fields(l), words) })
}
