package tui

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aymanbagabas/go-udiff"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/mksmt/workbench/internal/experiment"
)

// session drives the TUI through teatest at 80×24.
type session struct {
	t  *testing.T
	tm *teatest.TestModel
	f  *fixture
	r  *fakeRunner
}

func start(t *testing.T, f *fixture, r Runner, screen int) *session {
	t.Helper()
	m, err := New(context.Background(), Options{Store: f.st, Runner: r, SpecDir: "experiments", PlotDir: "plots",
		Start: screen, Refresh: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := start2(t, m)
	s.f = f
	s.r, _ = r.(*fakeRunner)
	return s
}

// start2 drives a model built by the test.
func start2(t *testing.T, m *Model) *session {
	return &session{t: t, tm: teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))}
}

// keys sends key presses: "enter", "esc", "tab", "up", "down", "space",
// "ctrl+s", ... by name, anything else as typed text.
func (s *session) keys(ks ...string) {
	for _, k := range ks {
		if msg, ok := namedKeys[k]; ok {
			s.tm.Send(msg)
			continue
		}
		s.tm.Type(k)
	}
}

var namedKeys = map[string]tea.KeyMsg{
	"enter": {Type: tea.KeyEnter}, "esc": {Type: tea.KeyEsc}, "tab": {Type: tea.KeyTab},
	"shift+tab": {Type: tea.KeyShiftTab}, "up": {Type: tea.KeyUp}, "down": {Type: tea.KeyDown},
	"left": {Type: tea.KeyLeft}, "right": {Type: tea.KeyRight}, "space": {Type: tea.KeySpace, Runes: []rune{' '}},
	"ctrl+s": {Type: tea.KeyCtrlS}, "ctrl+r": {Type: tea.KeyCtrlR}, "ctrl+c": {Type: tea.KeyCtrlC},
	"backspace": {Type: tea.KeyBackspace},
}

// waitFor waits until the terminal has shown every text.
func (s *session) waitFor(texts ...string) {
	s.t.Helper()
	teatest.WaitFor(s.t, s.tm.Output(), func(b []byte) bool {
		for _, x := range texts {
			if !bytes.Contains(b, []byte(x)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// until waits until the model satisfies cond (polled through the program).
func (s *session) until(what string, cond func(m *Model) bool) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ch := make(chan bool, 1)
		s.tm.Send(inspectMsg(func(m *Model) { ch <- cond(m) }))
		select {
		case ok := <-ch:
			if ok {
				return
			}
		case <-time.After(time.Second):
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s", what)
}

// finish quits (ctrl+c works even while typing) and returns the final model.
func (s *session) finish() *Model {
	s.t.Helper()
	s.keys("ctrl+c")
	return s.tm.FinalModel(s.t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
}

// screen is what the terminal shows now, with its size.
type screenShot struct {
	view          string
	width, height int
}

func (s *session) snapshot() screenShot {
	s.t.Helper()
	var shot screenShot
	s.until("snapshot", func(m *Model) bool {
		shot = screenShot{m.View(), m.width, m.height}
		return true
	})
	return shot
}

// timestamps are the only wall-clock values a screen prints (the run detail
// shows when a run was created, started and ended); golden files hold a
// placeholder.
var timestamps = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`)

// requireScreen compares a screen with testdata/<test>.golden (-update
// rewrites it) and checks it fits the terminal.
func requireScreen(t *testing.T, shot screenShot) {
	t.Helper()
	checkFits(t, shot.view, shot.width, shot.height)
	requireGolden(t, timestamps.ReplaceAllString(shot.view, "YYYY-MM-DD hh:mm:ssZ")+"\n")
}

// flagUpdate reports whether -update (registered by x/exp/golden, which
// teatest uses) was given.
func flagUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// requireGolden compares got with testdata/<test>.golden in the package
// directory (tests run in a temporary project directory). The -update flag
// (registered by x/exp/golden, which teatest uses) rewrites the file.
func requireGolden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join(pkgDir, "testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
	if flagUpdate() {
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := udiff.Unified("golden", "got", string(want), got); diff != "" {
		t.Errorf("screen differs from %s:\n%s\ngot:\n%s", path, diff, got)
	}
}

func checkFits(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, lw, w, l)
		}
	}
}

func TestStudiesScreen(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenStudies)
	s.waitFor("fixture", "other", "broken")
	shown := func(n int) func(m *Model) bool {
		return func(m *Model) bool { return len(m.screens[screenStudies].(*studiesScreen).shown) == n }
	}
	s.keys("/", "oth", "enter")
	s.until("filter applied", shown(1))
	s.keys("esc") // clears the filter
	s.until("filter cleared", shown(3))
	// broken, fixture, other: go to fixture.
	s.keys("j")
	s.until("cursor on fixture", func(m *Model) bool {
		r, ok := m.screens[screenStudies].(*studiesScreen).selected()
		return ok && r.name == "fixture"
	})
	shot := s.snapshot()
	m := s.finish()
	st := m.screens[screenStudies].(*studiesScreen)
	r, ok := st.selected()
	if !ok || r.name != "fixture" || r.finished() != 6 || r.total() != 6 || r.state() != "done" {
		t.Errorf("selected study = %+v, want fixture with 6/6 runs done", r)
	}
	if st.filter.query() != "" {
		t.Errorf("filter %q left after esc", st.filter.query())
	}
	requireScreen(t, shot)
}

func TestStudiesScreenStates(t *testing.T) {
	f := newFixture(t)
	be, err := newBackend(Options{Store: f.st, SpecDir: f.specDir})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := loadStudies(context.Background(), be)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"broken": "invalid spec", "fixture": "done", "other": "1 running"}
	if len(rows) != len(want) {
		t.Fatalf("got %d studies, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if got := r.state(); got != want[r.name] {
			t.Errorf("study %s: state %q, want %q", r.name, got, want[r.name])
		}
	}
}

func TestRunStudyFromStudies(t *testing.T) {
	f := newFixture(t)
	r := &fakeRunner{}
	s := start(t, f, r, screenStudies)
	s.waitFor("fixture")
	s.keys("j", "r")
	s.waitFor("Run study fixture: 6 run(s)")
	s.keys("y")
	s.waitFor("queued")
	m := s.finish()
	if len(r.enqueued) != 1 || r.enqueued[0] != filepath.Join("experiments", "fixture.toml") {
		t.Errorf("enqueued %v, want the fixture spec", r.enqueued)
	}
	if m.active != screenStudies {
		t.Errorf("active screen %d", m.active)
	}
}

func TestBuilderScreen(t *testing.T) {
	f := newFixture(t)
	r := &fakeRunner{}
	s := start(t, f, r, screenStudies)
	s.waitFor("fixture")
	s.keys("2")
	s.waitFor("Define a study")
	// name; data set and backbone stay; profile smoke; seeds 1,2.
	// enter edits a text field; down leaves it for the next one.
	s.keys("enter", "abl-1", "down", "down", "down", "left", "down")
	s.keys("enter", "backspace", "backspace", "down")
	// metrics stay; steps: 0 and 2 are on by default; mode: add async.
	s.keys("down", "down", "right", "space")
	s.until("plan", func(m *Model) bool {
		p := m.screens[screenBuilder].(*builderScreen).plan
		return p.study != nil && len(p.study.Variants) == 3 && len(p.skipped) == 1
	})
	s.keys("ctrl+s")
	path := filepath.Join("experiments", "abl-1.toml")
	s.waitFor("saved " + path)
	shot := s.snapshot()
	m := s.finish()
	b := m.screens[screenBuilder].(*builderScreen)
	st, err := experiment.Load(path)
	if err != nil {
		t.Fatalf("saved spec does not parse: %v", err)
	}
	if got := strings.Join(st.Labels(), " "); got != "baseline two-step two-step-async" {
		t.Errorf("variants %q", got)
	}
	if st.Profile != "smoke" || len(st.Seeds) != 2 || st.Baseline != "baseline" {
		t.Errorf("study %+v", st)
	}
	if b.plan.skipped[0] == "" || !strings.Contains(b.plan.skipped[0], "baseline-async") {
		t.Errorf("skipped %v, want baseline-async", b.plan.skipped)
	}
	if len(r.enqueued) != 0 {
		t.Errorf("ctrl+s must not run: enqueued %v", r.enqueued)
	}
	requireScreen(t, shot)
}

func TestBuilderValidation(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenBuilder)
	s.waitFor("Define a study")
	s.keys("i", "../etc", "ctrl+s")
	s.waitFor("not allowed")
	shot := s.snapshot()
	m := s.finish()
	b := m.screens[screenBuilder].(*builderScreen)
	if b.plan.study != nil || len(b.plan.errs) == 0 || !strings.HasPrefix(b.plan.errs[0], "name:") {
		t.Errorf("plan errors %v, want a name error", b.plan.errs)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "etc.toml")); err == nil {
		t.Error("a path-like name wrote a file")
	}
	requireScreen(t, shot)
}

func TestRunsScreen(t *testing.T) {
	f := newFixture(t)
	r := &fakeRunner{active: 0}
	s := start(t, f, r, screenRuns)
	s.waitFor("10 runs")
	// Sort by status, then filter the finished two-step runs and select two.
	s.keys("s")
	s.waitFor("sorted by status")
	s.keys("/", "status=finished two", "enter")
	s.waitFor("3 of 10 runs")
	s.keys("space", "space")
	s.until("two selected", func(m *Model) bool { return len(m.screens[screenRuns].(*runsScreen).selected) == 2 })
	// Details of the third, then back.
	s.keys("enter")
	s.waitFor("Curves")
	s.keys("esc")
	shot := s.snapshot()
	m := s.finish()
	rs := m.screens[screenRuns].(*runsScreen)
	if rs.detail != nil {
		t.Error("detail still open after esc")
	}
	if len(rs.order) != 3 || rs.table.sortCol != 1 {
		t.Errorf("shown %d runs sorted by column %d, want 3 by status", len(rs.order), rs.table.sortCol)
	}
	for _, row := range rs.order {
		if row.run.Variant != "two-step" || row.run.Status != "finished" {
			t.Errorf("filter let through run %d %s %s", row.run.ID, row.run.Variant, row.run.Status)
		}
	}
	requireScreen(t, shot)
}

// TestRunsOverview is the Runs screen as it opens: every run, newest first.
func TestRunsOverview(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenRuns)
	s.waitFor("10 runs")
	s.keys("j", "j")
	s.until("cursor on the third run", func(m *Model) bool { return m.screens[screenRuns].(*runsScreen).cur.pos == 2 })
	shot := s.snapshot()
	m := s.finish()
	rs := m.screens[screenRuns].(*runsScreen)
	for i := 1; i < len(rs.order); i++ {
		if rs.order[i-1].run.ID < rs.order[i].run.ID {
			t.Fatalf("runs not newest first: %d before %d", rs.order[i-1].run.ID, rs.order[i].run.ID)
		}
	}
	requireScreen(t, shot)
}

func TestRunDetail(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenRuns)
	s.waitFor("10 runs")
	s.keys("/", "variant=two-step seed=1", "enter")
	s.waitFor("1 of 10 runs")
	s.keys("enter")
	s.waitFor("Curves", "loss.ce4 by step")
	// From the checkpoint line down: the curves of the finished run.
	for i := 0; i < 7; i++ {
		s.keys("j")
	}
	s.until("scrolled to the checkpoint", func(m *Model) bool {
		d := m.screens[screenRuns].(*runsScreen).detail
		return d != nil && d.offset == 7
	})
	shot := s.snapshot()
	m := s.finish()
	d := m.screens[screenRuns].(*runsScreen).detail
	if d == nil || d.id != f.ids["two-step/1"] {
		t.Fatalf("detail = %+v, want run %d", d, f.ids["two-step/1"])
	}
	text := strings.Join(d.text(80), "\n")
	for _, want := range []string{"checkpoint   runs.db.d/ckpt/1.ckpt", "S4", "64.0% (epoch 3)", "last: loss.ce4 0.600 · loss.ce3 0.700",
		"Summaries", "checkpoint final", "Artifacts"} {
		if !strings.Contains(text, want) {
			t.Errorf("the detail lacks %q:\n%s", want, text)
		}
	}
	requireScreen(t, shot)
}

func TestCancelAndResume(t *testing.T) {
	f := newFixture(t)
	r := &fakeRunner{active: 2}
	s := start(t, f, r, screenRuns)
	s.waitFor("10 runs")
	s.keys("/", "status=running", "enter")
	s.waitFor("1 of 10 runs")
	s.keys("x")
	s.waitFor("Cancel run")
	s.keys("y")
	s.waitFor("cancelled run")
	s.keys("esc", "/", "status=interrupted", "enter")
	s.until("interrupted run shown", func(m *Model) bool {
		rs := m.screens[screenRuns].(*runsScreen)
		return len(rs.order) == 1 && rs.order[0].run.ID == f.ids["interrupted"]
	})
	s.keys("r")
	s.waitFor("resume run")
	r.mu.Lock()
	r.active = 0
	r.mu.Unlock()
	s.finish()
	if len(r.canceled) != 1 || r.canceled[0] != f.ids["running"] {
		t.Errorf("cancelled %v, want [%d]", r.canceled, f.ids["running"])
	}
	if len(r.resumed) != 1 || r.resumed[0] != f.ids["interrupted"] {
		t.Errorf("resumed %v, want [%d]", r.resumed, f.ids["interrupted"])
	}
}

func TestLiveScreen(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenLive)
	s.waitFor("1 running · 1 queued", "loss.ce4 by step")
	s.keys("j")
	s.until("queued run selected", func(m *Model) bool {
		l := m.screens[screenLive].(*liveScreen)
		return l.id == f.ids["queued"]
	})
	s.keys("k")
	s.until("running run selected", func(m *Model) bool {
		l := m.screens[screenLive].(*liveScreen)
		return l.id == f.ids["running"] && len(l.series[chartKey]) > 0
	})
	shot := s.snapshot()
	m := s.finish()
	l := m.screens[screenLive].(*liveScreen)
	if len(l.runs) != 2 || l.runs[0].ID != f.ids["running"] {
		t.Errorf("live runs %v", l.runs)
	}
	requireScreen(t, shot)
}

func TestHelpScreen(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenRuns)
	s.waitFor("10 runs")
	s.keys("?")
	s.waitFor("Keys")
	shot := s.snapshot()
	s.until("help open", func(m *Model) bool { return m.help != nil })
	m := s.finish()
	if m.help != nil {
		t.Error("help still open after quitting")
	}
	requireScreen(t, shot)
	// Every binding of the keymap is in the help text.
	text := helpText(200)
	for _, b := range keymap {
		if !strings.Contains(text, b.key.Help().Desc) {
			t.Errorf("help lacks %q", b.key.Help().Desc)
		}
	}
}

func TestQuitWithActiveRuns(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want QuitChoice
	}{{"s", QuitStopRuns}, {"l", QuitLeaveRuns}} {
		t.Run(tc.want.String(), func(t *testing.T) {
			f := newFixture(t)
			r := &fakeRunner{active: 1}
			s := start(t, f, r, screenStudies)
			s.waitFor("fixture")
			s.keys("q")
			s.waitFor("1 run(s) are still active")
			if tc.want == QuitStopRuns {
				// esc first: the question goes away and nothing quits.
				s.keys("esc", "q")
			}
			s.keys(tc.key)
			m := s.tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
			if m.Quit() != tc.want {
				t.Errorf("quit choice %v, want %v", m.Quit(), tc.want)
			}
		})
	}
}

func TestResize(t *testing.T) {
	f := newFixture(t)
	for scr := 0; scr < numScreens; scr++ {
		s := start(t, f, &fakeRunner{}, scr)
		s.tm.Send(tea.WindowSizeMsg{Width: 132, Height: 40})
		s.until("resized", func(m *Model) bool { return m.width == 132 })
		s.tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
		m := s.finish()
		checkFits(t, m.View(), 80, 24)
		m.width, m.height = 132, 40
		checkFits(t, m.View(), 132, 40)
		m.width, m.height = 60, 15 // below the design size: clipped, not broken
		checkFits(t, m.View(), 60, 15)
	}
}

func TestCompareScreen(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenCompare)
	// The studies with a valid spec or a record: fixture, other (whose
	// recorded spec does not parse: its error is shown).
	s.waitFor("Study fixture", "two-step")
	s.keys("]")
	s.waitFor("Study other")
	s.keys("[")
	s.waitFor("Study fixture")
	s.keys("e")
	s.waitFor("exported fixture")
	shot := s.snapshot()
	m := s.finish()
	c := m.screens[screenCompare].(*compareScreen)
	if c.current() != "fixture" || c.err != nil {
		t.Errorf("compare shows %q (err %v), want fixture", c.current(), c.err)
	}
	for _, name := range []string{"fixture.md", "fixture.csv", "fixture.tex"} {
		b, err := os.ReadFile(filepath.Join("plots", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("two-step")) {
			t.Errorf("%s does not mention the two-step variant:\n%s", name, b)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join("plots", "*.png"))
	if len(pngs) == 0 {
		t.Error("no plot exported")
	}
	requireScreen(t, shot)
}

func TestNavigation(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenStudies)
	s.waitFor("fixture")
	active := func(want int) func(m *Model) bool { return func(m *Model) bool { return m.active == want } }
	s.keys("tab")
	s.until("tab to Builder", active(screenBuilder))
	s.keys("shift+tab")
	s.until("shift+tab back to Studies", active(screenStudies))
	s.keys("5", "3")
	s.until("number keys", active(screenRuns))
	// esc never walks back through the screens visited.
	s.keys("esc", "esc", "1")
	s.until("1 to Studies", active(screenStudies))
	// enter on a study compares it; c opens a copy of it in the builder.
	s.keys("j", "enter")
	s.until("Compare on fixture", func(m *Model) bool {
		c := m.screens[screenCompare].(*compareScreen)
		return m.active == screenCompare && c.current() == "fixture"
	})
	s.keys("1", "c")
	s.until("builder filled from the fixture", func(m *Model) bool {
		b := m.screens[screenBuilder].(*builderScreen)
		return m.active == screenBuilder && b.field(fName).value() == "fixture-copy"
	})
	m := s.finish()
	b := m.screens[screenBuilder].(*builderScreen)
	if got := strings.Join(b.field(fSteps).values(), ","); got != "0,2" {
		t.Errorf("steps from the fixture spec = %s, want 0,2", got)
	}
	if b.field(fProfile).value() != "smoke" || b.field(fSeeds).value() != "1,2,3" {
		t.Errorf("profile %s seeds %s, want smoke and 1,2,3", b.field(fProfile).value(), b.field(fSeeds).value())
	}
	if b.plan.study == nil || len(b.plan.study.Variants) != 2 {
		t.Errorf("the copy does not plan 2 variants: %v", b.plan.errs)
	}
}

// TestScreensDoc and screenDocs come last in the last test file: with
// -update, the golden screens above are rewritten before the doc is.

// screenDocs are the golden screens docs/screens.md shows, in order.
var screenDocs = []struct{ golden, title, text string }{
	{"TestStudiesScreen", "1 Studies",
		"The spec files in `experiments/` and the studies recorded in runs.db, with their progress (finished/total runs) and state; `/` filters them. `enter` compares the study, `r` runs it, `e` edits it in the builder (its variant list, paper figures and claims kept; saved back to its file), `c` copies it under a new name, `n` starts a new one."},
	{"TestBuilderScreen", "2 Ablation builder",
		"A form that defines a study: name, data set, backbone, profile, seeds, and the ablation axes (steps, mode, distill as multi-selects; temperatures, λ1, λ2 as lists). The axes are crossed; combinations the spec parser rejects are skipped and said so, and combinations that train the same run are merged. It shows how many runs the study expands to and the time they should take, with its basis: per run, the median time of identical finished runs, else classes × images per class × epochs over the throughput measured for the same network and schedule (else the same network, else a stated default — never other network sizes). `↑`/`↓` move between fields, `enter` or `i` edits a text field (`enter` or `esc` when done), `space` toggles an option. `ctrl+s` saves `experiments/NAME.toml`, `ctrl+r` saves, enqueues it and shows Live."},
	{"TestBuilderEdit", "2 Ablation builder: editing a study",
		"`e` on Studies: the study's own variants as a list (each on or off with `space`) instead of the crossed axes, its metrics, and its paper figures and claims kept; `ctrl+s` saves it back to its spec file after asking. \"variants from\" switches to crossing the axes (filled with every value the variants use), which drops the figures and claims. `c` does the same as a copy under a new name."},
	{"TestBuilderValidation", "2 Ablation builder: a name that is a path",
		"The form validates as the spec parser does: a study name is a plain name, never a path."},
	{"TestRunsOverview", "3 Runs",
		"Every run with status, study, variant, seed, the S3/S4 accuracies and its duration, newest first. `/` filters (words, or `field=value` such as `status=running`), `s`/`S` sort by any column, `space` selects, `enter` shows details, `x` cancels (after a confirmation), `r` resumes."},
	{"TestRunsScreen", "3 Runs: filtered, sorted, two selected",
		"`/status=finished two`, sorted by status with `s`, two runs selected with `space`."},
	{"TestRunsFilterLanguage", "3 Runs: a filter with a typo",
		"`/` takes the filter language of `workbench runs --where` (`status:finished`, `temperature=4`, `acc.S4>60`, `tag:x`, `archived:true`; bare words match any cell). An unknown field is an error naming the nearest known one, shown above the list, and the filter applied before stays applied: a typo never silently shows nothing."},
	{"TestRunsArchiveAndRemove", "3 Runs: an archived run hidden",
		"`x` on an ended run archives it after asking (on a queued or running one it cancels); archived runs are hidden and counted, `archived:true` shows them and `x` there unarchives. `X` removes ended runs for good after asking."},
	{"TestRunsTagAndNote", "3 Runs: tagging runs",
		"`t` tags the selected runs (or the one under the cursor): names to add, `-name` to remove; `n` writes the note of the run under the cursor (in its details too, starting from the note it has). Both show in the run's details and are filterable (`tag:best`, `note~busy`)."},
	{"TestRunDetail", "3 Runs: the details of a run",
		"Status, times, checkpoint (file and step), progress and provenance of one run, its curves as Live draws them (finished runs too), then its summaries, params and artifacts, scrollable."},
	{"TestRunsDiff", "3 Runs: two runs side by side",
		"`space` selects runs, `d` diffs them: one column per run with the rows that differ marked ≠ — who they are, their summaries, the params that differ (`a` shows the equal ones too) — and below, each run's curves side by side on shared axes."},
	{"TestLiveScreen", "4 Live",
		"The queued and running runs with progress bars, epoch, step, rate and ETA read from the metric stream as the trainer logs it (the pace of the newest points; not the heartbeat, which only supplies the run's total batches), and for the selected run a braille chart of the S4 loss by step (ntcharts), the latest losses, and a sparkline of each head's accuracy per evaluated epoch."},
	{"TestLiveOpensAnyRun", "4 Live: a finished run opened from Runs",
		"`w` on Runs (or in a run's details) opens any run on Live, finished ones too: it is listed after the active runs, with its curves, until `esc`."},
	{"TestCompareScreen", "5 Compare",
		"The paper-style table of a study as `workbench table` prints it: mean ± std (n seeds) per variant, paired deltas against the baseline, the paper's claims with verdicts. `[`/`]` choose the study, `e` exports the table (Markdown, CSV, LaTeX) and the study's plots to `plots/`."},
	{"TestFullErrorPopup", "! An error in full",
		"An error too long for the status line ends in \"(! shows all)\"; `!` shows the last error whole in a box, `esc` closes it."},
	{"TestHelpScreen", "? Help",
		"Generated from the one keymap table that also dispatches the keys; ⌨ marks the keys that still work while typing in a field."},
}

// TestScreensDoc keeps docs/screens.md in step with the golden screens
// (-update rewrites it).
func TestScreensDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString("# The terminal UI, screen by screen\n\n")
	b.WriteString("<!-- Generated from internal/tui/testdata by `go test ./internal/tui -run TestScreensDoc -update`; do not edit. -->\n\n")
	b.WriteString("`workbench` with no arguments opens the terminal UI on a terminal (`workbench tui --db FILE` for another database). ")
	b.WriteString("Screens are chosen with the number keys or `tab`; `?` shows every key, `q` or `ctrl+c` quits ")
	b.WriteString("(asking first, when runs are active, whether to stop them — they checkpoint — or leave them running), `esc` closes what is open and never leaves a screen. ")
	b.WriteString("A builder field takes keys only after `enter` (or `i`), until `enter` or `esc`; elsewhere the number keys, `q` and `?` always do the same thing.\n\n")
	b.WriteString("These captures are the tests' golden files: 80×24, a fixture database built through the store's API, no colour.\n")
	for _, d := range screenDocs {
		g, err := os.ReadFile(filepath.Join(pkgDir, "testdata", d.golden+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n## " + d.title + "\n\n" + d.text + "\n\n```text\n" + strings.TrimRight(string(g), "\n") + "\n```\n")
	}
	path := filepath.Join(pkgDir, "..", "..", "docs", "screens.md")
	got := b.String()
	if f := flagUpdate(); f {
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("docs/screens.md is out of date with the golden screens: run go test ./internal/tui -run TestScreensDoc -update")
	}
	checkReadmeScreens(t)
}

// readmeScreens are the golden screens the README shows, one per screen.
var readmeScreens = []struct{ golden, title string }{
	{"TestStudiesScreen", "1 Studies"},
	{"TestBuilderScreen", "2 Ablation builder"},
	{"TestRunsOverview", "3 Runs"},
	{"TestLiveScreen", "4 Live"},
	{"TestCompareScreen", "5 Compare"},
}

// checkReadmeScreens keeps the README's text captures of the five screens
// (between its screens:begin and screens:end markers) in step with the
// golden screens (-update rewrites them).
func checkReadmeScreens(t *testing.T) {
	t.Helper()
	path := filepath.Join(pkgDir, "..", "..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- screens:begin", "<!-- screens:end -->"
	text := string(readme)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", begin, end)
	}
	i += strings.Index(text[i:], "\n") + 1
	var b strings.Builder
	for _, d := range readmeScreens {
		g, err := os.ReadFile(filepath.Join(pkgDir, "testdata", d.golden+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n**" + d.title + "**\n\n```text\n" + strings.TrimRight(string(g), "\n") + "\n```\n\n")
	}
	got := text[:i] + b.String() + text[j:]
	if flagUpdate() {
		must(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	if got != text {
		t.Errorf("README.md's screen captures are out of date: run go test ./internal/tui -run TestScreensDoc -update")
	}
}
